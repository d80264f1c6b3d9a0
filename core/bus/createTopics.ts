/**
 * Creates topics and waits until every partition has a leader. kafkajs's own `waitForLeaders` gives up with
 * UNKNOWN_TOPIC_OR_PARTITION when a fresh, busy broker is slow to spread the new topic's metadata; this
 * keeps asking until the leaders are there or the time is up.
 */
import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import { type DeclaredTopic, topicNamed } from '../../contracts/topics.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stillSpreading = (error: unknown): boolean =>
  /UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE|does not host this topic-partition|no leader/i.test(
    `${(error as { type?: string }).type ?? ''} ${(error as Error).message ?? ''}`,
  );

export async function createTopicsWithLeaders(
  admin: Admin,
  topics: ITopicConfig[],
  timeoutMs = 60_000,
): Promise<void> {
  if (topics.length === 0) return;
  try {
    await admin.createTopics({ topics, waitForLeaders: true });
  } catch (error) {
    if (!stillSpreading(error)) throw error;
  }
  const names = topics.map((t) => t.topic);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics: names });
      const ready =
        found.length === names.length && found.every((t) => t.partitions.every((p) => p.leader >= 0));
      if (ready) return;
    } catch (error) {
      if (!stillSpreading(error)) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `TOPICS_NOT_READY: ${names.join(', ')} have no leader after ${timeoutMs} ms; is the broker healthy?`,
      );
    await sleep(200);
  }
}

/**
 * Creates `physical` as `declared` says (partitions, config) unless it exists; another instance creating it at the
 * same moment is no error.
 */
export async function ensureDeclaredTopic(
  kafka: Kafka,
  declared: DeclaredTopic,
  physical: string,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(physical)) return;
    const declaration = topicNamed(declared);
    await createTopicsWithLeaders(admin, [
      {
        topic: physical,
        numPartitions: declaration.partitions,
        configEntries: Object.entries(declaration.config).map(([name, value]) => ({ name, value })),
      },
    ]).catch((error: Error) => {
      if (!/already exists/i.test(error.message)) throw error;
    });
  } finally {
    await admin.disconnect();
  }
}

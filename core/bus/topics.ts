/** Creates or updates the declared topics (and their dead-letter topics) with their settings. */
import kafkajs, { type Kafka } from 'kafkajs';
const { ConfigResourceTypes } = kafkajs; // CommonJS: named import fails under ESM
import { createTopicsWithLeaders } from './createTopics.ts';
import { dlqConfig, dlqTopicOf, type TopicDeclaration, topics } from '../../contracts/topics.ts';

export interface AppliedTopic {
  topic: string;
  action: 'created' | 'updated' | 'unchanged';
  note?: string;
}

export async function applyTopics(
  kafka: Kafka,
  declared: TopicDeclaration[] = topics,
): Promise<AppliedTopic[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const wanted = declared.flatMap((t) => [
      { name: t.name, partitions: t.partitions, config: t.config },
      { name: dlqTopicOf(t.name), partitions: 1, config: dlqConfig },
    ]);
    const existing = new Set(await admin.listTopics());
    const results: AppliedTopic[] = [];
    const toCreate = wanted.filter((t) => !existing.has(t.name));
    if (toCreate.length > 0) {
      await createTopicsWithLeaders(
        admin,
        toCreate.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      );
      for (const t of toCreate) results.push({ topic: t.name, action: 'created' });
    }
    const present = wanted.filter((t) => existing.has(t.name));
    if (present.length === 0) return results;
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((t) => ({
        type: ConfigResourceTypes.TOPIC,
        name: t.name,
        configNames: Object.keys(t.config),
      })),
    });
    for (const t of present) {
      const current = described.resources.find((r) => r.resourceName === t.name)?.configEntries ?? [];
      const drift = Object.entries(t.config).filter(
        ([name, value]) => current.find((c) => c.configName === name)?.configValue !== value,
      );
      const partitions = metadata.topics.find((m) => m.name === t.name)?.partitions.length ?? 0;
      let note: string | undefined;
      if (partitions < t.partitions) {
        await admin.createPartitions({ topicPartitions: [{ topic: t.name, count: t.partitions }] });
        note = `partitions ${partitions} -> ${t.partitions}`;
      } else if (partitions > t.partitions) {
        note = `has ${partitions} partitions, more than the declared ${t.partitions}; Kafka cannot shrink a topic`;
      }
      if (drift.length > 0) {
        await admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: t.name,
              configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
            },
          ],
        });
      }
      const changed = drift.length > 0 || (note !== undefined && partitions < t.partitions);
      results.push({
        topic: t.name,
        action: changed ? 'updated' : 'unchanged',
        ...(drift.length > 0 || note
          ? { note: [drift.map(([n, v]) => `${n}=${v}`).join(', '), note].filter(Boolean).join('; ') }
          : {}),
      });
    }
    return results;
  } finally {
    await admin.disconnect();
  }
}

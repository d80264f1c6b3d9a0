/**
 * `topics:apply` with replication profiles against the real single-broker stack: a profile that wants more replicas
 * than there are brokers is refused before anything changes, min.insync.replicas is set and kept to the profile, and
 * what the command cannot change (more partitions than declared) is reported as drift.
 */
import kafkajs from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { type TopicDeclaration, topicNamed } from '../../contracts/topics.ts';
import { applyTopics, TopicsError } from '../../core/bus/topics.ts';
import { deleteTopics, testKafka, uniqueName } from '../support/kafka.ts';

const { ConfigResourceTypes } = kafkajs;
const kafka = testKafka();
const made: string[] = [];

const declared = (): TopicDeclaration => {
  const name = uniqueName('test.profile');
  made.push(name, `${name}.dlq`);
  return { ...topicNamed('financing.drug-decisions.v1'), name, partitions: 2 };
};

async function configOf(topic: string, key: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [key] }],
    });
    return resources[0]?.configEntries.find((c) => c.configName === key)?.configValue;
  } finally {
    await admin.disconnect();
  }
}

async function exists(topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

afterAll(async () => {
  await deleteTopics(kafka, made).catch(() => undefined);
});

describe('topics:apply replication profiles', () => {
  it('refuses the production profile on a one-broker cluster, says what to do, and creates nothing', async () => {
    const topic = declared();
    const refusal = applyTopics(kafka, [topic], { profile: 'production' });
    await expect(refusal).rejects.toBeInstanceOf(TopicsError);
    await expect(refusal).rejects.toThrow(
      /^REPLICATION_ABOVE_BROKERS: profile production wants replication factor 3 .* the cluster has 1 broker\(s\)\. Nothing was created or changed\. .*KAFKA_TOPIC_PROFILE=local/,
    );
    expect(await exists(topic.name)).toBe(false);
  });

  it('creates with the local profile, keeps min.insync.replicas to it, and reports drift it cannot change', async () => {
    const topic = declared();
    const created = await applyTopics(kafka, [topic], { profile: 'local' });
    expect(created.map((r) => [r.topic, r.action])).toEqual([
      [topic.name, 'created'],
      [`${topic.name}.dlq`, 'created'],
    ]);
    expect(await configOf(topic.name, 'min.insync.replicas')).toBe('1');
    expect((await applyTopics(kafka, [topic])).map((r) => r.action)).toEqual(['unchanged', 'unchanged']);

    // Someone raised it by hand: put back to the declaration.
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: topic.name,
          configEntries: [
            ...Object.entries(topic.config).map(([name, value]) => ({ name, value })),
            { name: 'min.insync.replicas', value: '2' },
          ],
        },
      ],
    });
    await admin.createPartitions({ topicPartitions: [{ topic: topic.name, count: 4 }] });
    await admin.disconnect();
    const [again] = await applyTopics(kafka, [topic]);
    expect(again?.action).toBe('drift');
    expect(again?.note).toContain('min.insync.replicas=1');
    expect(again?.note).toContain('has 4 partitions, more than the declared 2');
    expect(await configOf(topic.name, 'min.insync.replicas')).toBe('1');
  });
});

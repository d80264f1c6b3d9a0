/** Creates or updates the declared topics (and their dead-letter topics) with their settings and replication. */
import kafkajs, { type Kafka } from 'kafkajs';
const { ConfigResourceTypes } = kafkajs; // CommonJS: named import fails under ESM
import { createTopicsWithLeaders } from './createTopics.ts';
import {
  dlqConfig,
  dlqTopicOf,
  type Replication,
  replicationOf,
  type TopicDeclaration,
  type TopicProfile,
  topics,
} from '../../contracts/topics.ts';

export interface AppliedTopic {
  topic: string;
  /** `drift`: the cluster differs from the declaration in a way `topics:apply` cannot change (see note). */
  action: 'created' | 'updated' | 'unchanged' | 'drift';
  note?: string;
}

/** A declaration the cluster cannot carry: nothing was created or changed. */
export class TopicsError extends Error {
  override name = 'TopicsError';
}

export interface ApplyOptions {
  /** The replication profile (KAFKA_TOPIC_PROFILE); local by default. */
  profile?: TopicProfile;
}

interface Wanted {
  name: string;
  partitions: number;
  config: Record<string, string>;
  replication: Replication;
}

export async function applyTopics(
  kafka: Kafka,
  declared: TopicDeclaration[] = topics,
  options: ApplyOptions = {},
): Promise<AppliedTopic[]> {
  const profile = options.profile ?? 'local';
  const admin = kafka.admin();
  await admin.connect();
  try {
    const wanted: Wanted[] = declared.flatMap((t) => {
      const replication = replicationOf(t, profile);
      const withIsr = { ...t.config, 'min.insync.replicas': String(replication.minInsyncReplicas) };
      return [
        { name: t.name, partitions: t.partitions, config: withIsr, replication },
        {
          name: dlqTopicOf(t.name),
          partitions: 1,
          config: { ...dlqConfig, 'min.insync.replicas': String(replication.minInsyncReplicas) },
          replication,
        },
      ];
    });
    const brokers = (await admin.describeCluster()).brokers.length;
    const tooMany = wanted.filter((t) => t.replication.replicationFactor > brokers);
    if (tooMany.length > 0) {
      const factor = Math.max(...tooMany.map((t) => t.replication.replicationFactor));
      throw new TopicsError(
        `REPLICATION_ABOVE_BROKERS: profile ${profile} wants replication factor ${factor} for ${tooMany.length} topic(s) ` +
          `(${tooMany[0]!.name}, ...) but the cluster has ${brokers} broker(s). Nothing was created or changed. ` +
          `Run against a cluster of at least ${factor} brokers, or choose KAFKA_TOPIC_PROFILE=local for a single-broker cluster.`,
      );
    }
    const existing = new Set(await admin.listTopics());
    const results: AppliedTopic[] = [];
    const toCreate = wanted.filter((t) => !existing.has(t.name));
    if (toCreate.length > 0) {
      await createTopicsWithLeaders(
        admin,
        toCreate.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: t.replication.replicationFactor,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      );
      for (const t of toCreate)
        results.push({
          topic: t.name,
          action: 'created',
          note: `replication ${t.replication.replicationFactor}, min.insync.replicas ${t.replication.minInsyncReplicas}`,
        });
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
      const found = metadata.topics.find((m) => m.name === t.name)?.partitions ?? [];
      const partitions = found.length;
      const notes: string[] = [];
      let cannotChange = false;
      if (partitions < t.partitions) {
        await admin.createPartitions({ topicPartitions: [{ topic: t.name, count: t.partitions }] });
        notes.push(`partitions ${partitions} -> ${t.partitions}`);
      } else if (partitions > t.partitions) {
        notes.push(
          `has ${partitions} partitions, more than the declared ${t.partitions}; Kafka cannot shrink a topic`,
        );
        cannotChange = true;
      }
      const factors = new Set(found.map((p) => p.replicas.length));
      if (factors.size > 0 && (factors.size > 1 || !factors.has(t.replication.replicationFactor))) {
        notes.push(
          `replication factor ${[...factors].join('/')}, declared ${t.replication.replicationFactor} (profile ${profile}): ` +
            'Kafka changes it only by a partition reassignment (kafka-reassign-partitions.sh)',
        );
        cannotChange = true;
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
      const changed = drift.length > 0 || partitions < t.partitions;
      const note = [drift.map(([n, v]) => `${n}=${v}`).join(', '), ...notes].filter(Boolean).join('; ');
      results.push({
        topic: t.name,
        action: cannotChange ? 'drift' : changed ? 'updated' : 'unchanged',
        ...(note ? { note } : {}),
      });
    }
    return results;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a topic from its first offset up to its end as it is now, raw (bytes and headers), outside any
 * shared consumer group, and stops: what the dead-letter tools and the per-method trace need.
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { TransientError } from './errors.ts';
import { whileLeadershipMoves } from './kafka.ts';

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
  /** The broker's timestamp (ms since the epoch, as a string). */
  timestamp: string;
}

/** A read that did not get to the end in time: Kafka away or slow, so known to pass. */
export class SnapshotTimeout extends TransientError {
  override name = 'SnapshotTimeout';
}

export interface PartitionRange {
  /** The first offset still in the log. */
  low: bigint;
  /** The last offset + 1. */
  high: bigint;
}

/** The offsets of each partition of `topic` now; an empty map when the topic does not exist. */
export async function offsetRangesOf(kafka: Kafka, topic: string): Promise<Map<number, PartitionRange>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return new Map();
    const offsets = await whileLeadershipMoves(() => admin.fetchTopicOffsets(topic));
    return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every record of `topic` up to its end now, in offset order per partition. `keep` filters while reading,
 * so memory holds only what is kept.
 */
export async function readTopicSnapshot(
  kafka: Kafka,
  topic: string,
  options: {
    keep?: (record: RawRecord) => boolean;
    timeoutMs?: number;
    /** Read each partition named up to this offset (exclusive) instead of its end now; others are not read. */
    until?: Map<number, bigint>;
  } = {},
): Promise<RawRecord[]> {
  const ranges = await offsetRangesOf(kafka, topic);
  const ends = options.until ?? new Map([...ranges].map(([p, r]) => [p, r.high]));
  const pending = new Set([...ends].filter(([p, end]) => end > (ranges.get(p)?.low ?? 0n)).map(([p]) => p));
  if (pending.size === 0) return [];
  const kept: RawRecord[] = [];
  const consumer = kafka.consumer({
    groupId: `metodehub.snapshot.${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxBytes: 50 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new SnapshotTimeout(`reading ${topic} took longer than ${options.timeoutMs ?? 60_000} ms`)),
        options.timeoutMs ?? 60_000,
      );
      const passed = (partition: number, next: bigint) => {
        if (next >= (ends.get(partition) ?? 0n)) pending.delete(partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      // Batches of only transaction markers are not handed to eachBatch but still move the position.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
        passed(payload.partition, BigInt(payload.lastOffset) + 1n),
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset >= (ends.get(batch.partition) ?? 0n)) break;
              const record: RawRecord = {
                topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key?.toString('utf8') ?? null,
                value: m.value,
                headers: m.headers ?? {},
                timestamp: m.timestamp,
              };
              if (!options.keep || options.keep(record)) kept.push(record);
              passed(batch.partition, offset + 1n);
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return kept.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

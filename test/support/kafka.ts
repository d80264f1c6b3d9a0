/** Helpers for tests against the real broker and registry: unique topics, a bus, and reading a topic back. */
import { randomUUID } from 'node:crypto';
import { type Kafka, type KafkaMessage, logLevel, Kafka as KafkaClient } from 'kafkajs';
import { inject } from 'vitest';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { createTopicsWithLeaders } from '../../core/bus/createTopics.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { ContractProducer } from '../../core/bus/producer.ts';
import { ContractRegistry } from '../../core/bus/registry.ts';

export function testKafka(): Kafka {
  return new KafkaClient({
    clientId: 'metodehub-test',
    brokers: [inject('kafkaBrokers')],
    logLevel: logLevel.NOTHING,
  });
}

export const uniqueName = (prefix: string): string => `${prefix}.${randomUUID().slice(0, 8)}`;

export async function createTopics(kafka: Kafka, names: string[], partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicsWithLeaders(
      admin,
      names.map((topic) => ({ topic, numPartitions: partitions })),
    );
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  if (present.length > 0) await admin.deleteTopics({ topics: present }).catch(() => undefined);
  await admin.disconnect();
}

export function testBus(kafka: Kafka) {
  const registry = new ContractRegistry(inject('schemaRegistryUrl'));
  const producer = new ContractProducer(kafka, registry);
  return { registry, producer };
}

/** Produces method events straight to a (renamed) events topic, as the case system may: the direct way in. */
export async function produceMethodEvents(eventsTopic: string, events: MethodEvent[]): Promise<void> {
  const { registry, producer } = testBus(testKafka());
  registry.alias(eventsTopic, 'nyemetoder.method-events.v1');
  // In slices, so a long demo history stays under the broker's request size.
  for (let i = 0; i < events.length; i += 1000) {
    await producer.send(
      'nyemetoder.method-events.v1',
      events.slice(i, i + 1000).map((value) => ({
        key: value.methodId,
        value,
        headers: newHeaders({
          id: value.eventId,
          source: '/case-system',
          type: `no.nyemetoder.method.${value.type}`,
        }),
      })),
      { to: eventsTopic },
    );
  }
  await producer.disconnect();
}

/** Reads a topic from the start until `count` messages arrived (or fails after `timeoutMs`). */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: KafkaMessage[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`read ${messages.length} of ${count} messages from ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push(message);
          if (messages.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** Polls `check` until it returns true or the time is up. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms`);
}

/** Everything in a topic now: reads every partition up to its end offset at the time of the call. */
export async function readAll(kafka: Kafka, topic: string, timeoutMs = 20_000): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => e.high !== e.low).map((e) => [e.partition, BigInt(e.high)]));
  const messages: KafkaMessage[] = [];
  if (remaining.size === 0) return messages;
  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`could not read ${topic} to its end in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = remaining.get(payload.partition);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) remaining.delete(payload.partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/**
 * The producer's plain sends share a request when they are asked for while one is in flight: each caller still
 * learns where its own messages went, order per partition is kept, and one bad message fails only its caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceRequests } from '../../core/metrics/registry.ts';
import { createTopics, deleteTopics, readTopic, testBus, testKafka, uniqueName } from '../support/kafka.ts';

const kafka = testKafka();
const { producer } = testBus(kafka);
const topic = uniqueName('test.coalesce');
const small = uniqueName('test.coalesce-small');
const requests = async () => (await produceRequests.get()).values[0]?.value ?? 0;
const raw = (key: string, value: string) => ({
  key,
  value: Buffer.from(value),
  headers: { ce_source: '/test', ce_type: 'test' } as Record<string, string>,
});

describe('the producer coalesces concurrent sends', () => {
  beforeAll(async () => {
    await createTopics(kafka, [topic], 3);
    const admin = kafka.admin();
    await admin.connect();
    // A topic that refuses any record batch over 2,000 bytes: a message that cannot be written.
    await admin.createTopics({
      topics: [
        { topic: small, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '2000' }] },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await deleteTopics(kafka, [topic, small]);
  });

  it('answers each of 60 concurrent callers with the offsets of its own messages, in fewer requests', async () => {
    const before = await requests();
    const callers = Array.from({ length: 60 }, (_, i) => {
      const key = `method-${i % 7}`;
      const values = Array.from({ length: (i % 3) + 1 }, (_, j) => `caller ${i} message ${j}`);
      return {
        key,
        values,
        sent: producer.sendRaw(
          topic,
          values.map((v) => raw(key, v)),
        ),
      };
    });
    const answers = await Promise.all(callers.map((c) => c.sent));
    const used = (await requests()) - before;
    expect(used).toBeLessThan(60);
    const total = callers.reduce((n, c) => n + c.values.length, 0);
    // What is where in the log: partition/offset to value.
    const byPlace = new Map<string, string>();
    const consumer = kafka.consumer({ groupId: uniqueName('test-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          byPlace.set(`${partition}/${message.offset}`, message.value!.toString());
          if (byPlace.size === total) resolve();
        },
      });
    });
    await consumer.disconnect();
    callers.forEach((caller, i) => {
      const written = answers[i]!;
      expect(written).toHaveLength(1); // one key: one partition
      const { partition, baseOffset } = written[0]!;
      caller.values.forEach((value, j) => {
        expect(byPlace.get(`${partition}/${BigInt(baseOffset!) + BigInt(j)}`)).toBe(value);
      });
    });
    // Per key, the callers' messages are in the log in the order they were sent.
    for (let k = 0; k < 7; k++) {
      const sent = callers.filter((_, i) => i % 7 === k).flatMap((c) => c.values);
      const partition = answers[k]![0]!.partition;
      const inLog = [...byPlace.entries()]
        .filter(([place, v]) => place.startsWith(`${partition}/`) && sent.includes(v))
        .sort(([a], [b]) => Number(BigInt(a.split('/')[1]!) - BigInt(b.split('/')[1]!)))
        .map(([, v]) => v);
      expect(inLog).toEqual(sent);
    }
  });

  it('fails only the caller whose message the broker refuses when it rode with others', async () => {
    const sends = [
      producer.sendRaw(small, [raw('a', 'fine before')]),
      producer.sendRaw(small, [raw('b', 'x'.repeat(3000))]),
      producer.sendRaw(small, [raw('c', 'fine after')]),
    ];
    const outcomes = (await Promise.allSettled(sends)).map((o) => o.status);
    expect(outcomes).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const messages = await readTopic(kafka, small, 2);
    expect(messages.map((m) => m.value!.toString()).sort()).toEqual(['fine after', 'fine before']);
  });
});

/** The bus against the real broker and registry: typed produce, consume, dead letters, retries, idempotency. */
import { randomUUID } from 'node:crypto';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import {
  createTopics,
  deleteTopics,
  eventually,
  readTopic,
  testBus,
  testKafka,
  uniqueName,
} from '../support/kafka.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
import { describeErrors } from '../../core/lifecycle/errors.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { readDeadLetterInfo } from '../../core/bus/deadLetter.ts';
import {
  ConfidentialLeak,
  ContractViolation,
  DomainRuleError,
  TransientError,
} from '../../core/bus/errors.ts';
import { headerText, newHeaders } from '../../core/bus/headers.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { busPolicyOf, ConsumerRunner, type Delivery, runnersInTrouble } from '../../core/bus/runner.ts';

const EVENTS = 'nyemetoder.method-events.v1';
const kafka = testKafka();
const { registry, producer } = testBus(kafka);
const created: string[] = [];

const registration = (methodId: string) =>
  methodEvent('METHOD_REGISTERED', methodId, { details: medicineDetails() });

async function topicPair() {
  const topic = uniqueName('test.bus');
  registry.alias(topic, EVENTS);
  created.push(topic, `${topic}.dlq`);
  await createTopics(kafka, [topic]);
  return topic;
}

async function send(topic: string, events: MethodEvent[], ids?: string[]) {
  await producer.send(
    EVENTS,
    events.map((value, i) => ({
      key: value.methodId,
      value,
      headers: newHeaders({
        id: ids?.[i] ?? value.eventId,
        source: '/metodehub/test',
        type: `no.nyemetoder.method.${value.type}`,
      }),
    })),
    { to: topic },
  );
}

function runner(topic: string, handle: (d: Delivery<MethodEvent>) => Promise<void>, extra = {}) {
  return new ConsumerRunner<MethodEvent>(kafka, registry, producer, {
    name: 'test-handler',
    groupId: `test-${randomUUID()}`,
    topics: [topic],
    handle,
    bus: { ...busPolicyOf(loadConfig({})), retryBaseMs: 20, retryMaxMs: 100 },
    ...extra,
  });
}

beforeAll(async () => {
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await deleteTopics(kafka, created);
});

describe('the registry', () => {
  it('shares one decode of a message among readers of the same bytes at the same place, frozen; other bytes are decoded anew', async () => {
    const topic = await topicPair();
    const a = registration('ID2022_080');
    const b = registration('ID2022_081');
    const bytesA = await registry.encode(topic, a);
    const at = { partition: 0, offset: '7' };
    const before = { ...registry.decodes };
    const first = await registry.decode<MethodEvent>(topic, Buffer.from(bytesA), at);
    const second = await registry.decode<MethodEvent>(topic, Buffer.from(bytesA), at);
    expect(second.value).toBe(first.value);
    expect(registry.decodes.shared - before.shared).toBe(1);
    expect(Object.isFrozen(first.value)).toBe(true);
    expect(first.value.registered).not.toBeNull();
    expect(Object.isFrozen(first.value.registered)).toBe(true);
    expect(() => {
      (first.value as { methodId: string }).methodId = 'ID2022_999';
    }).toThrow(TypeError);
    // The topic made again (same place, other bytes): decoded anew.
    const other = await registry.decode<MethodEvent>(topic, await registry.encode(topic, b), at);
    expect(other.value.eventId).toBe(b.eventId);
    // Without a place the reader gets its own copy.
    const own = await registry.decode<MethodEvent>(topic, bytesA);
    expect(own.value).not.toBe(first.value);
    expect(Object.isFrozen(own.value)).toBe(false);
    expect(own.value).toEqual(first.value);
  });
});

describe('the typed producer', () => {
  it('writes Confluent-framed Avro with CloudEvents, correlation and trace headers', async () => {
    const topic = await topicPair();
    const event = registration('ID2022_001');
    await send(topic, [event]);
    const [message] = await readTopic(kafka, topic, 1);
    expect(message!.value!.readUInt8(0)).toBe(0);
    expect((await registry.decode<MethodEvent>(topic, message!.value)).value).toMatchObject({
      eventId: event.eventId,
      methodId: 'ID2022_001',
      type: 'METHOD_REGISTERED',
    });
    expect(headerText(message!.headers, 'ce_id')).toBe(event.eventId);
    expect(headerText(message!.headers, 'ce_specversion')).toBe('1.0');
    expect(headerText(message!.headers, 'ce_type')).toBe('no.nyemetoder.method.METHOD_REGISTERED');
    expect(headerText(message!.headers, 'ce_subject')).toBe('ID2022_001');
    expect(headerText(message!.headers, 'correlation_id')).toBe(event.eventId);
    expect(headerText(message!.headers, 'traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('refuses a value outside the limits of the contract (XML-unsafe text), naming the field', async () => {
    const topic = await topicPair();
    const bad = registration('ID2022_004');
    bad.registered!.details.name = 'Navn\u0001med kontrolltegn';
    await expect(send(topic, [bad])).rejects.toThrow(
      /registered\.details\.name has the control character U\+0001/,
    );
  });

  it('refuses a value outside the contract, naming the field, and sends nothing of the batch', async () => {
    const topic = await topicPair();
    const good = registration('ID2022_002');
    const bad = { ...registration('ID2022_003'), occurredAt: 'yesterday' };
    const attempt = send(topic, [good, bad]);
    await expect(attempt).rejects.toThrow(ContractViolation);
    await expect(attempt).rejects.toThrow(/occurredAt/);
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    expect(offsets[0]?.high).toBe('0');
  });
});

describe('the consumer runner', () => {
  it('dead-letters each kind of bad input with its reason and the original bytes, and goes on', async () => {
    const topic = await topicPair();
    const handled: string[] = [];
    const state = new Map<string, Parameters<typeof applyEvent>[0]>();
    const r = runner(topic, async ({ value }) => {
      const result = applyEvent(state.get(value.methodId), value);
      if (!result.ok) throw new DomainRuleError(describeErrors(result.errors));
      state.set(value.methodId, result.value);
      handled.push(value.methodId);
    });
    const dead: string[] = [];
    r.onDeadLetter((e) => dead.push(e.errorClass));
    await r.start();

    const other = await registry.client.register(
      {
        type: SchemaType.AVRO,
        schema: JSON.stringify({
          type: 'record',
          name: 'Stranger',
          namespace: 'no.example',
          fields: [{ name: 'x', type: 'int' }],
        }),
      },
      { subject: uniqueName('test.stranger-value') },
    );
    const stranger = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), Buffer.from([4])]);
    stranger.writeInt32BE(other.id, 1);
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({
      topic,
      messages: [
        {
          key: 'ID2022_010',
          value: Buffer.from('{"methodId":"ID2022_010"}'),
          headers: { origin: 'json-by-mistake' },
        },
        { key: 'ID2022_011', value: unknownId },
        { key: 'ID2022_012', value: stranger },
      ],
    });
    await raw.disconnect();
    // An illegal transition: a decision for a method that was never registered.
    await send(topic, [
      methodEvent('STATUS_CHANGED', 'ID2022_013', { from: null, to: 'HORIZON_SCANNING', reason: null }),
      registration('ID2022_014'),
    ]);

    await eventually(() => handled.includes('ID2022_014'), 30_000, 'the good message after the bad ones');
    await r.stop();
    expect(dead).toEqual(['UNDECODABLE', 'UNKNOWN_SCHEMA', 'CONTRACT_VIOLATION', 'DOMAIN_RULE']);

    const letters = await readTopic(kafka, `${topic}.dlq`, 4);
    const infos = letters.map((m) => readDeadLetterInfo(m.headers));
    expect(infos.map((i) => i.errorClass)).toEqual(dead);
    expect(
      infos.every((i) => i.sourceTopic === topic && i.sourcePartition === 0 && i.handler === 'test-handler'),
    ).toBe(true);
    expect(infos.map((i) => i.sourceOffset)).toEqual(['0', '1', '2', '3']);
    expect(infos[0]!.reason).toMatch(/not Confluent-framed Avro: magic byte 123/);
    expect(infos[1]!.reason).toMatch(/schema id 2147483632 is not in the registry/);
    expect(infos[2]!.reason).toMatch(/Stranger/);
    expect(infos[3]!.reason).toMatch(/UNKNOWN_METHOD: ID2022_013 is not registered/);
    expect(letters[0]!.value!.toString()).toBe('{"methodId":"ID2022_010"}');
    expect(headerText(letters[0]!.headers, 'origin')).toBe('json-by-mistake');
    expect(letters[1]!.value!.equals(unknownId)).toBe(true);
  });

  it('retries a transient failure in place, keeping the order of a method’s events', async () => {
    const topic = await topicPair();
    let failures = 2;
    const seen: string[] = [];
    const r = runner(topic, async ({ value }) => {
      if (value.methodId === 'ID2022_020' && failures-- > 0) throw new TransientError('partner is down');
      seen.push(value.methodId);
    });
    await r.start();
    await send(topic, [registration('ID2022_020'), registration('ID2022_021')]);
    await eventually(() => seen.length === 2, 20_000, 'both handled');
    await r.stop();
    expect(seen).toEqual(['ID2022_020', 'ID2022_021']);
  });

  it('dead-letters a transient failure that outlasts the configured attempts', async () => {
    const topic = await topicPair();
    const r = runner(
      topic,
      async () => {
        throw new TransientError('partner answers 503');
      },
      { maxTransientAttempts: 3 },
    );
    await r.start();
    await send(topic, [registration('ID2022_030')]);
    const [letter] = await readTopic(kafka, `${topic}.dlq`, 1);
    await r.stop();
    const info = readDeadLetterInfo(letter!.headers);
    expect(info.errorClass).toBe('TRANSIENT_EXHAUSTED');
    expect(info.reason).toMatch(/^gave up after 3 attempts in \d+ s: partner answers 503$/);
  });

  it('dead-letters a transient failure that outlasts its time budget, and says it is retrying until then', async () => {
    const topic = await topicPair();
    const seen: string[] = [];
    const r = runner(
      topic,
      async ({ value }) => {
        if (value.methodId === 'ID2022_031') throw new TransientError('partner answers 503');
        seen.push(value.methodId);
      },
      {
        bus: { ...busPolicyOf(loadConfig({})), retryBaseMs: 20, retryMaxMs: 100, transientBudgetMs: 1500 },
        name: 'budget-test',
      },
    );
    await r.start();
    await send(topic, [registration('ID2022_031'), registration('ID2022_032')]);
    await eventually(
      () => runnersInTrouble().some((t) => t.runner === 'budget-test'),
      10_000,
      'trouble shown',
    );
    const trouble = runnersInTrouble().find((t) => t.runner === 'budget-test')!;
    expect(trouble).toMatchObject({ topic, offset: '0', reason: 'partner answers 503' });
    const [letter] = await readTopic(kafka, `${topic}.dlq`, 1);
    await eventually(() => seen.includes('ID2022_032'), 10_000, 'the next message after the budget');
    await r.stop();
    expect(readDeadLetterInfo(letter!.headers).errorClass).toBe('TRANSIENT_EXHAUSTED');
    expect(runnersInTrouble().some((t) => t.runner === 'budget-test')).toBe(false);
  });

  it('never retries what is not known to pass: a handler bug or a trust-boundary refusal goes to the DLQ at once', async () => {
    const topic = await topicPair();
    const seen: string[] = [];
    let calls = 0;
    const r = runner(topic, async ({ value }) => {
      if (value.methodId === 'ID2022_033') {
        calls++;
        throw new TypeError("Cannot read properties of undefined (reading 'atcCode')");
      }
      if (value.methodId === 'ID2022_034') {
        calls++;
        throw new ConfidentialLeak('financing.drug-decisions.v1', ['supplierConfidentialNote']);
      }
      seen.push(value.methodId);
    });
    await r.start();
    await send(topic, [registration('ID2022_033'), registration('ID2022_034'), registration('ID2022_035')]);
    const letters = await readTopic(kafka, `${topic}.dlq`, 2);
    await eventually(() => seen.includes('ID2022_035'), 10_000, 'the message after both');
    await r.stop();
    expect(calls).toBe(2);
    const infos = letters.map((m) => readDeadLetterInfo(m.headers));
    expect(infos.map((i) => i.errorClass)).toEqual(['HANDLER_FAILED', 'TRUST_BOUNDARY']);
    expect(infos[0]!.reason).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(infos[1]!.reason).toMatch(/CONFIDENTIAL_LEAK/);
    expect(infos.every((i) => i.handler === 'test-handler')).toBe(true);
  });

  it('holds a record written around our producer to the same limits: an instant in year 9999 is a contract violation', async () => {
    const topic = await topicPair();
    const seen: string[] = [];
    const r = runner(topic, async ({ value }) => void seen.push(value.methodId));
    await r.start();
    const far = { ...registration('ID2022_036'), occurredAt: '9999-12-31T23:59:59.000Z' };
    const framed = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0]),
      registry.contractOf(topic).type.toBuffer(far),
    ]);
    framed.writeInt32BE(await registry.idFor(topic), 1);
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic, messages: [{ key: far.methodId, value: framed }] });
    await raw.disconnect();
    await send(topic, [registration('ID2022_037')]);
    const [letter] = await readTopic(kafka, `${topic}.dlq`, 1);
    await eventually(() => seen.includes('ID2022_037'), 10_000, 'the good one after it');
    await r.stop();
    expect(seen).toEqual(['ID2022_037']);
    const info = readDeadLetterInfo(letter!.headers);
    expect(info.errorClass).toBe('CONTRACT_VIOLATION');
    expect(info.reason).toMatch(/occurredAt 9999-12-31T23:59:59.000Z is after/);
  });

  it('handles a redelivered event id once', async () => {
    const topic = await topicPair();
    const seen: string[] = [];
    const r = runner(topic, async ({ value }) => {
      seen.push(value.eventId);
    });
    await r.start();
    const event = registration('ID2022_040');
    await send(topic, [event, event, registration('ID2022_041')]);
    await eventually(() => seen.length >= 2, 20_000, 'handled');
    await new Promise((res) => setTimeout(res, 500));
    await r.stop();
    expect(seen.filter((id) => id === event.eventId)).toHaveLength(1);
    expect(seen).toHaveLength(2);
  });

  it('remembers as many event ids as BUS_IDEMPOTENCY_WINDOW says: with 5, the 6th-oldest is forgotten', async () => {
    const topic = await topicPair();
    const seen: string[] = [];
    const bus = busPolicyOf(loadConfig({ BUS_IDEMPOTENCY_WINDOW: '5' }));
    const r = runner(topic, async ({ value }) => void seen.push(value.eventId), { bus });
    expect(r.description.idempotencyWindow).toBe(5);
    await r.start();
    // One method, one partition: the six are remembered in this order.
    const six = Array.from({ length: 6 }, () => registration('ID2022_060'));
    await send(topic, [...six, six[0]!, six[5]!]);
    await eventually(() => seen.length >= 7, 20_000, 'handled');
    await new Promise((res) => setTimeout(res, 500));
    await r.stop();
    expect(seen).toEqual([...six.map((e) => e.eventId), six[0]!.eventId]);
  });

  it('commits what it handled on shutdown, so the next member of the group starts after it', async () => {
    const topic = await topicPair();
    const groupId = `test-${randomUUID()}`;
    const first: string[] = [];
    const r1 = runner(topic, async ({ value }) => void first.push(value.methodId), { groupId });
    await r1.start();
    await send(topic, [registration('ID2022_050'), registration('ID2022_051')]);
    await eventually(() => first.length === 2, 20_000, 'first member handled both');
    await r1.stop();

    await send(topic, [registration('ID2022_052')]);
    const second: string[] = [];
    const r2 = runner(topic, async ({ value }) => void second.push(value.methodId), { groupId });
    await r2.start();
    await eventually(() => second.length === 1, 20_000, 'second member handled the new one');
    await new Promise((res) => setTimeout(res, 500));
    await r2.stop();
    expect(second).toEqual(['ID2022_052']);
  });

  it('commits a moment after the effects, several batches in one request, to the end of the log past transaction markers', async () => {
    const topic = await topicPair();
    const groupId = `test-${randomUUID()}`;
    const seen: string[] = [];
    const bus = busPolicyOf(loadConfig({ BUS_COMMIT_DELAY_MS: '2000' }));
    const r = runner(topic, async ({ value }) => void seen.push(value.eventId), { groupId, bus });
    await r.start();
    // Transactions end with a marker after the last message: a consumer at the end has committed past it.
    const txProducer = kafka.producer({
      transactionalId: `test-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await txProducer.connect();
    const events = Array.from({ length: 8 }, (_, i) => registration(`ID2022_07${i}`));
    try {
      for (const event of events) {
        const tx = await txProducer.transaction();
        await tx.send({
          topic,
          messages: [{ key: event.methodId, value: await registry.encode(topic, event) }],
        });
        await tx.commit();
        await eventually(() => seen.includes(event.eventId), 20_000, `handled ${event.methodId}`);
      }
    } finally {
      await txProducer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [end] = await admin.fetchTopicOffsets(topic);
      expect(BigInt(end!.high)).toBe(16n); // 8 messages, 8 markers
      // With no more messages coming, what is done is committed all the same.
      const committed = async () =>
        (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset;
      await eventually(async () => (await committed()) === end!.high, 10_000, 'committed to the end');
      // Eight batches at least (each sent once the one before was handled), committed in fewer requests than that.
      expect(r.commitCounts!.requests).toBeGreaterThan(0);
      expect(r.commitCounts!.requests).toBeLessThan(8);
    } finally {
      await admin.disconnect();
      await r.stop();
    }
    expect(seen).toEqual(events.map((e) => e.eventId));
  });
});

/**
 * Broker kills, against a broker and registry of the test's own and the hub as its own process. The door while
 * the broker is down (issue 16, failure 3): every write is answered within seconds with 503, Retry-After and a
 * reason, /readyz says at once that Kafka is down, a resend after the broker is back is written once, SIGTERM
 * stops the hub in 10 s. The streams under hub kills and partner outages are in partner-outages.test.ts; the
 * long broker and registry kills in `npm run bench:faults`.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { ContractProducer } from '../../core/bus/producer.ts';
import { ContractRegistry } from '../../core/bus/registry.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { readAll } from '../support/kafka.ts';
import { type FaultStack, startFaultStack } from './faultStack.ts';
import { type HubProcess, hubProcess } from './hubProcess.ts';
import { streamFor } from './stream.ts';

let stack: FaultStack;
let hub: HubProcess;

beforeAll(async () => {
  stack = await startFaultStack();
  hub = await hubProcess({ ...stack, env: { INGRESS_TRANSACTIONAL_ID: 'faults-hub' } });
  await hub.start();
}, 240_000);

afterAll(async () => {
  if (hub?.running) await hub.kill();
  await stack?.stop();
}, 120_000);

const registration = (methodId: string) => ({
  eventId: randomUUID(),
  methodId,
  type: 'METHOD_REGISTERED',
  occurredAt: '2025-03-01T09:00:00.000Z',
  registered: {
    details: {
      name: 'Nivolumab til behandling av føflekkreft',
      methodType: 'MEDICINE',
      specialty: 'Onkologi',
      substances: ['nivolumab'],
      atcCodes: ['L01FF01'],
    },
  },
});

interface Timed {
  status: number;
  ms: number;
  retryAfter: string | null;
  body: { code?: string; detail?: string; checks?: Record<string, { ok: boolean; detail: string }> } & {
    results?: { outcome: string }[];
  };
}

async function timed(path: string, init: RequestInit = {}): Promise<Timed> {
  const t0 = Date.now();
  try {
    const r = await fetch(`${hub.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${hub.token}`, 'content-type': 'application/json', ...init.headers },
      signal: AbortSignal.timeout(25_000),
    });
    return {
      status: r.status,
      ms: Date.now() - t0,
      retryAfter: r.headers.get('retry-after'),
      body: (await r.json()) as Timed['body'],
    };
  } catch (error) {
    return { status: 0, ms: Date.now() - t0, retryAfter: null, body: { detail: (error as Error).message } };
  }
}

const post = (event: unknown) =>
  timed('/api/v1/case-events', { method: 'POST', body: JSON.stringify(event) });

async function postUntilAnswered(event: unknown, timeoutMs = 90_000): Promise<Timed> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const answer = await post(event);
    if (answer.status === 200 || answer.status === 202 || Date.now() > until) return answer;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('with the broker SIGKILLed', () => {
  it('answers writes within seconds with 503, Retry-After and a reason, /readyz names Kafka, and a resend is written once', async () => {
    const first = await postUntilAnswered(registration('ID2025_901'));
    expect(first.status).toBe(200);

    await stack.kill('kafka');
    const events = [registration('ID2025_902'), registration('ID2025_903'), registration('ID2025_904')];
    const [ready, ...writes] = await Promise.all([timed('/readyz'), ...events.map((e) => post(e))]);
    for (const w of writes) {
      expect({ status: w.status, code: w.body.code }).toEqual({ status: 503, code: 'BUS_UNAVAILABLE' });
      expect(w.ms).toBeLessThan(8_000);
      expect(Number(w.retryAfter)).toBeGreaterThan(0);
      expect(w.body.detail).toMatch(/resend the same request/);
    }

    expect(ready.ms).toBeLessThan(3_000);
    expect(ready.status).toBe(503);
    expect(ready.body.checks?.kafka?.ok).toBe(false);
    expect(ready.body.checks?.kafka?.detail).toMatch(/^kafka not ok/);
    await stack.restart();
    const back = Date.now();
    for (const event of events) expect((await postUntilAnswered(event)).status).toBe(200);
    process.stderr.write(
      `[faults] the door took writes again ${Date.now() - back} ms after the broker was back\n`,
    );
    const log = await readAll(
      new Kafka({ brokers: [stack.kafkaBrokers], logLevel: logLevel.NOTHING }),
      'nyemetoder.method-events.v1',
      30_000,
    );
    const ids = log.map((m) => m.headers?.ce_id?.toString());
    for (const event of [first, ...events].slice(1) as { eventId: string }[])
      expect(ids.filter((id) => id === event.eventId)).toHaveLength(1);
  }, 180_000);

  // The flag book and the method directory are such followers: read again from the start, they showed old flags and states.
  it('folds every record once, never an older one again, when its consumer rejoins after the broker was SIGKILLed', async () => {
    const kafka = new Kafka({ brokers: [stack.kafkaBrokers], logLevel: logLevel.NOTHING });
    const topic = `faults.follow.${randomUUID().slice(0, 8)}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const registry = new ContractRegistry(stack.schemaRegistryUrl).alias(
      topic,
      'nyemetoder.method-events.v1',
    );
    const producer = new ContractProducer(kafka, registry);
    const write = (events: MethodEvent[]) =>
      producer.send(
        'nyemetoder.method-events.v1',
        events.map((e) => ({
          key: e.methodId,
          value: e,
          headers: newHeaders({ id: e.eventId, source: '/faults', type: e.type }),
        })),
        { to: topic },
      );
    const events = streamFor(90, 60);
    await write(events.slice(0, 40));
    const folded: string[] = [];
    const follower = new TopicFollower<MethodEvent>(kafka, registry, {
      name: 'faults-follow',
      topic,
      onMessage: (_, at) => folded.push(`${at.partition}/${at.offset}`),
    });
    await follower.start();
    try {
      expect(await follower.waitUntilCaughtUp(30_000)).toBe(true);
      await stack.kill('kafka');
      await new Promise((r) => setTimeout(r, 12_000)); // past the follower's 6 s session
      await stack.restart();
      await write(events.slice(40));
      expect(await follower.reachEnd(60_000)).toBe(true);
      await new Promise((r) => setTimeout(r, 3_000)); // a read again from the start would show by now
      const twice = folded.filter((at, i) => folded.indexOf(at) !== i);
      expect({ folded: new Set(folded).size, twice: twice.slice(0, 5) }).toEqual({ folded: 60, twice: [] });
    } finally {
      await Promise.all([follower.stop(), producer.disconnect()]);
    }
  }, 180_000);

  it('stops on SIGTERM within 10 s while the broker is down and a request is in flight', async () => {
    // Last: the broker stays down, nothing needs it after.
    await stack.kill('kafka');
    const inFlight = post(registration('ID2025_905'));
    await new Promise((r) => setTimeout(r, 300));
    const ms = await hub.terminate();
    await inFlight;
    expect(ms).toBeLessThan(10_000);
  }, 30_000);
});

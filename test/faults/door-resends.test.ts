/**
 * The case-event door after a restart and after a write whose answer was lost, as a client sees it: an
 * event id already in the log is answered as a duplicate, never judged against a read model that is behind
 * the log (issue 16, failures 1 and 2). Against the shared broker and registry.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { newHeaders } from '../../core/bus/headers.ts';
import { demoHistory } from '../../core/demo/history.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { produceMethodEvents, readAll, testBus, testKafka } from '../support/kafka.ts';

interface Answer {
  status: number;
  retryAfter: string | null;
  code?: string;
  detail?: string;
  results?: { outcome: string; version?: number }[];
}

const open: TestHub[] = [];
afterAll(async () => {
  for (const h of open.reverse()) await h.close();
});

async function post(h: TestHub, body: unknown): Promise<Answer> {
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: body });
  const json = (await r.json()) as Omit<Answer, 'status' | 'retryAfter'>;
  return { status: r.status, retryAfter: r.headers.get('retry-after'), ...json };
}

/** Copies of each event id in the events topic. */
async function copiesInLog(topic: string): Promise<Map<string, number>> {
  const copies = new Map<string, number>();
  for (const m of await readAll(testKafka(), topic, 60_000)) {
    const id = m.headers?.ce_id?.toString();
    if (id) copies.set(id, (copies.get(id) ?? 0) + 1);
  }
  return copies;
}

describe('the door after a restart', () => {
  it('answers a resend of an acknowledged batch as a duplicate, or 503 with Retry-After while still reading the log, never 422', async () => {
    const history = demoHistory({ methods: 600, seed: 16 });
    const last = history.at(-1)!;
    const ownEvents = history.filter((e) => e.methodId === last.methodId);
    const batch = ownEvents.slice(-2);
    const before = history.filter((e) => !batch.includes(e));
    const first = await startTestHub(['api']);
    open.push(first);
    // A long log, so a restarted hub takes a while to read it.
    await produceMethodEvents(first.events, before);
    expect(await first.hub.waitUntilReady(60_000)).toBe(true);
    await expect
      .poll(() => first.hub.store.ledger(last.methodId)?.entries.length, { timeout: 30_000 })
      .toBe(ownEvents.length - 2);
    const acknowledged = await post(first, batch);
    expect(acknowledged.status).toBe(200);
    await first.hub.stop();

    const second = await startTestHub(['api'], {}, { sameTopicsAs: first, waitUntilReady: false });
    open.push(second);
    const answers: Answer[] = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const answer = await post(second, batch);
      answers.push(answer);
      if (answer.status === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    for (const refused of answers.filter((a) => a.status === 503)) {
      expect(refused.code).toBe('NOT_READY');
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    }
    const final = answers.at(-1)!;
    expect(final.status).toBe(200);
    expect(final.results!.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(final.results![1]!.version).toBe(ownEvents.length);

    const copies = await copiesInLog(first.events);
    expect(batch.map((e) => copies.get(e.eventId))).toEqual([1, 1]);
    expect([...copies.values()].filter((n) => n > 1)).toEqual([]);
  });
});

describe('a resend of an event the log has but the read model has not folded yet', () => {
  it('is answered as a duplicate and not written again', async () => {
    const h = await startTestHub(['api']);
    open.push(h);
    const { registry, producer } = testBus(testKafka());
    registry.alias(h.events, 'nyemetoder.method-events.v1');
    // A first attempt that committed while its answer was lost, then the client's resend at once.
    const registrations = demoHistory({ methods: 40, seed: 1616 }).filter(
      (e) => e.type === 'METHOD_REGISTERED',
    );
    const outcomes: string[] = [];
    for (const event of registrations) {
      await producer.send(
        'nyemetoder.method-events.v1',
        [
          {
            key: event.methodId,
            value: event,
            headers: newHeaders({
              id: event.eventId,
              source: '/case-system',
              type: `no.nyemetoder.method.${event.type}`,
            }),
          },
        ],
        { to: h.events },
      );
      const answer = await post(h, event);
      expect(answer.status).toBe(200);
      outcomes.push(answer.results![0]!.outcome);
    }
    await producer.disconnect();
    const copies = await copiesInLog(h.events);
    expect([...copies.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(new Set(outcomes)).toEqual(new Set(['duplicate']));
  });
});

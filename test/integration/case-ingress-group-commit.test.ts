/**
 * The case-event ingress under concurrent requests: requests that wait for their turn together are written in
 * one Kafka transaction (group commit), each still judged as if alone in its turn, against the real broker.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { testKafka } from '../support/kafka.ts';

let h: TestHub;
let serial = 100;
const nextId = () => `ID2026_${String(serial++).padStart(3, '0')}`;

beforeAll(async () => {
  h = await startTestHub();
});
afterAll(async () => {
  await h?.close();
});

const registration = (methodId: string) => ({
  eventId: randomUUID(),
  methodId,
  type: 'METHOD_REGISTERED',
  occurredAt: '2025-01-02T10:00:00.000Z',
  registered: {
    details: {
      name: 'Nivolumab til behandling av lungekreft',
      methodType: 'MEDICINE',
      specialty: 'Onkologi',
      substances: ['nivolumab'],
      atcCodes: ['L01FF01'],
    },
  },
});

const post = (body: unknown) => h.call('/api/v1/case-events', { method: 'POST', json: body });

/** Offsets on the events topic beyond its records: one commit marker per partition per transaction. */
async function markersOnEventsTopic(records: number): Promise<number> {
  const admin = testKafka().admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(h.events);
  await admin.disconnect();
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0) - records;
}

describe('concurrent case-event requests', () => {
  it('are written in fewer transactions than requests, every one applied', async () => {
    const before = await markersOnEventsTopic(0);
    const events = Array.from({ length: 20 }, () => registration(nextId()));
    const answers = await Promise.all(events.map((event) => post(event)));
    expect(answers.map((a) => a.status)).toEqual(events.map(() => 200));
    for (const answer of answers)
      expect(((await answer.json()) as { results: { outcome: string }[] }).results[0]!.outcome).toBe(
        'applied',
      );
    // One request at a time wrote 20 transactions (20 markers); waiting requests now share one.
    const markers = (await markersOnEventsTopic(20)) - before;
    expect(markers).toBeLessThanOrEqual(10);
  });

  it('refuse only the request that breaks a rule; the others in its turn are written', async () => {
    const good = Array.from({ length: 8 }, () => registration(nextId()));
    const orphan = {
      eventId: randomUUID(),
      methodId: nextId(),
      type: 'STATUS_CHANGED',
      occurredAt: '2025-01-03T10:00:00.000Z',
      statusChanged: { to: 'AWAITING_ORDERING', from: null, reason: 'Til Bestillerforum' },
    };
    const answers = await Promise.all([...good.slice(0, 4), orphan, ...good.slice(4)].map((e) => post(e)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(8);
    expect(statuses[4]).toBe(422);
    const problem = (await answers[4]!.json()) as { code: string; detail: string };
    expect(problem.code).toBe('REJECTED');
    expect(problem.detail).toContain('nothing was written');
    const state = await h.call(`/api/v1/methods/${orphan.methodId}`);
    expect(state.status).toBe(404);
    for (const event of good) expect((await h.call(`/api/v1/methods/${event.methodId}`)).status).toBe(200);
  });

  it('answer the same event sent twice at once as applied once and duplicate once', async () => {
    const event = registration(nextId());
    const answers = await Promise.all([post(event), post(event)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    const outcomes = await Promise.all(
      answers.map(async (a) => ((await a.json()) as { results: { outcome: string }[] }).results[0]!.outcome),
    );
    expect(outcomes.sort()).toEqual(['applied', 'duplicate']);
  });
});

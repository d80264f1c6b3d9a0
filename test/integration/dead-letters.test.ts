/**
 * The dead-letter tools end to end on the real stack: an event the projection refuses lands on the DLQ,
 * an operator lists and inspects it, fixes the cause, redrives it (once: a second redrive is refused),
 * or discards another with a reason; the audit topic records who did what. Plus /healthz and /readyz.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import type { DeadLetterDetail, DeadLetterSummary, RedriveResult } from '../../core/ops/deadLetters.ts';
import type { TraceEntry } from '../../core/ops/trace.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, produceMethodEvents, readAll, testKafka } from '../support/kafka.ts';

let h: TestHub;
beforeAll(async () => {
  h = await startTestHub(['api', 'projection'], {}, { topics: ['ops.dead-letter-audit.v1'] });
});
afterAll(async () => h?.close());

const produce = (events: MethodEvent[]) => produceMethodEvents(h.events, events);

async function json<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** Waits until `methodId` has exactly one dead letter and returns the list. */
async function oneDeadLetterOf(methodId: string): Promise<DeadLetterSummary[]> {
  let entries: DeadLetterSummary[] = [];
  await eventually(
    async () => {
      entries = await deadLettersOf(methodId);
      return entries.length === 1;
    },
    30_000,
    `the dead letter of ${methodId}`,
  );
  return entries;
}

async function deadLettersOf(methodId: string, pending = false): Promise<DeadLetterSummary[]> {
  const r = await h.call(`/ops/api/dead-letters${pending ? '?pending=true' : ''}`);
  expect(r.status).toBe(200);
  return (await json<{ entries: DeadLetterSummary[] }>(r)).entries.filter((e) => e.key === methodId);
}

const statusChange = (methodId: string, at: string) =>
  methodEvent(
    'STATUS_CHANGED',
    methodId,
    { from: 'PROPOSAL_RECEIVED', to: 'HORIZON_SCANNING', reason: 'Metodevarsel utarbeides' },
    { occurredAt: at },
  );

describe('dead letters', () => {
  const methodId = 'ID2025_901';
  const early = statusChange(methodId, '2025-02-01T10:00:00.000Z');

  it('lists and inspects a refused event with its reason, decoded with its contract', async () => {
    await produce([early]);
    const entries = await oneDeadLetterOf(methodId);
    const [entry] = entries;
    expect(entry?.errorClass).toBe('DOMAIN_RULE');
    expect(entry?.reason).toContain(methodId);
    expect(entry?.sourceTopic).toBe(h.events);
    expect(entry?.eventId).toBe(early.eventId);
    expect(entry?.settled).toBeNull();

    const r = await h.call(`/ops/api/dead-letters/${encodeURIComponent(entry!.entryId)}`);
    expect(r.status).toBe(200);
    const detail = await json<DeadLetterDetail>(r);
    expect(detail.decoded).toMatchObject({ eventId: early.eventId, methodId, type: 'STATUS_CHANGED' });
    expect(detail.headers.dlq_reason).toBe(entry?.reason);
  });

  it('redrives it once the cause is fixed, once only, and records who did it', async () => {
    const [entry] = await deadLettersOf(methodId);
    // The fix: the case system sends the registration the status change was waiting for.
    const registered = await h.call('/api/v1/case-events', {
      method: 'POST',
      json: methodEvent(
        'METHOD_REGISTERED',
        methodId,
        { details: medicineDetails() },
        { occurredAt: '2025-01-15T10:00:00.000Z' },
      ),
    });
    expect(registered.status, await registered.clone().text()).toBe(200);

    const redrive = () =>
      h.call(`/ops/api/dead-letters/${encodeURIComponent(entry!.entryId)}/redrive`, {
        method: 'POST',
        json: { note: 'Registreringen er sendt på nytt' },
      });
    const first = await json<RedriveResult>(await redrive());
    expect(first.outcome).toBe('redriven');
    expect(first.redrivenOffset).toMatch(/^\d+:\d+$/);

    await eventually(
      async () => {
        const r = await h.call(`/api/v1/methods/${methodId}`);
        return (
          r.status === 200 && (await json<{ state: MethodState }>(r)).state.status === 'HORIZON_SCANNING'
        );
      },
      30_000,
      'the redriven event applied',
    );
    const second = await redrive();
    expect(second.status).toBe(409);
    expect(await json<{ code: string; settled: { redrivenOffset: string } }>(second)).toMatchObject({
      code: 'ALREADY_SETTLED',
      settled: { redrivenOffset: first.redrivenOffset },
    });

    const [after] = await deadLettersOf(methodId);
    expect(after?.settled).toMatchObject({
      action: 'REDRIVEN',
      actor: 'dev-user',
      note: 'Registreringen er sendt på nytt',
    });
    expect(await deadLettersOf(methodId, true)).toEqual([]);
    expect(await readAll(testKafka(), h.topics['ops.dead-letter-audit.v1']!)).toHaveLength(1);

    const state = await json<{ state: MethodState }>(await h.call(`/api/v1/methods/${methodId}`));
    expect(state.state.version).toBe(2);
  });

  it('discards with a reason, and refuses what it cannot do with a clear 4xx', async () => {
    const other = 'ID2025_902';
    await produce([statusChange(other, '2025-03-01T10:00:00.000Z')]);
    const entries = await oneDeadLetterOf(other);
    const url = `/ops/api/dead-letters/${encodeURIComponent(entries[0]!.entryId)}`;

    const noNote = await h.call(`${url}/discard`, { method: 'POST', json: {} });
    expect(noNote.status).toBe(400);
    expect(JSON.stringify(await noNote.json())).toContain('note');

    const discarded = await h.call(`${url}/discard`, {
      method: 'POST',
      json: { note: 'Testmetode, skal ikke inn' },
    });
    expect(discarded.status).toBe(200);
    const again = await h.call(`${url}/discard`, { method: 'POST', json: { note: 'igjen' } });
    expect(again.status).toBe(409);
    expect((await json<{ code: string }>(again)).code).toBe('ALREADY_SETTLED');
    const redriveDiscarded = await h.call(`${url}/redrive`, { method: 'POST', json: {} });
    expect(redriveDiscarded.status).toBe(409);
    expect((await json<{ detail: string }>(redriveDiscarded)).detail).toContain('discarded by dev-user');

    const missing = await h.call(`/ops/api/dead-letters/${encodeURIComponent(`${h.events}.dlq:0:999999`)}`);
    expect(missing.status).toBe(404);
    const malformed = await h.call('/ops/api/dead-letters/not-an-entry');
    expect(malformed.status).toBe(400);
    expect((await json<{ detail: string }>(malformed)).detail).toContain('<topic>.dlq:<partition>:<offset>');
    const unknownTopic = await h.call('/ops/api/dead-letters?topic=no.such.topic');
    expect(unknownTopic.status).toBe(400);

    const readOnly = await h.hub.devToken(['nyemetoder:methods:read']);
    expect((await h.call('/ops/api/dead-letters', { token: readOnly })).status).toBe(403);
    expect((await h.call('/ops/api/dead-letters', { token: null })).status).toBe(401);
  });
});

describe('trace', () => {
  it('lists every message about a method across topics, in order, with latencies from its case event', async () => {
    const r = await h.call('/ops/trace/ID2025_901');
    expect(r.status).toBe(200);
    const trace = await json<{ messages: number; entries: TraceEntry[] }>(r);
    const topics = trace.entries.map((e) => e.topic);
    // The refused status change, its dead letter, the registration, the redriven copy, the states, the audit record.
    expect(topics.filter((t) => t === 'nyemetoder.method-events.v1')).toHaveLength(3);
    expect(topics).toContain('nyemetoder.method-events.v1.dlq');
    expect(topics).toContain('nyemetoder.method-state.v1');
    expect(topics).toContain('ops.dead-letter-audit.v1');
    expect(trace.entries.find((e) => e.deadLetter)?.deadLetter?.errorClass).toBe('DOMAIN_RULE');
    const ats = trace.entries.map((e) => e.at);
    expect([...ats].sort()).toEqual(ats);
    const states = trace.entries.filter((e) => e.topic === 'nyemetoder.method-state.v1');
    for (const s of states) {
      expect(s.latencyMs).toBeGreaterThanOrEqual(0);
      expect(s.latencyMs).toBeLessThan(30_000);
    }

    const invalid = await h.call('/ops/trace/ID25_1');
    expect(invalid.status).toBe(400);
    expect((await json<{ code: string }>(invalid)).code).toBe('INVALID_METHOD_ID');
  });
});

describe('health', () => {
  it('/healthz answers for the process and /readyz checks Kafka, the registry and the event log', async () => {
    expect((await h.call('/healthz', { token: null })).status).toBe(200);
    const r = await h.call('/readyz', { token: null });
    expect(r.status).toBe(200);
    const body = await json<{ status: string; checks: Record<string, { ok: boolean; detail: string }> }>(r);
    expect(body.status).toBe('ready');
    expect(body.checks.kafka?.detail).toMatch(/1 broker/);
    expect(body.checks.registry?.ok).toBe(true);
  });
});

/**
 * Issue 17, the rest: the case record at DMP (formerly SLV) kept current through the life of a method; a write the
 * runner dead-letters leaves health and history agreeing; a DMP edit that lands between our write and the
 * recording of its answer is DMP's edit, not ours.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../adapters/slv/exchanges.ts';
import { decisionOf, medicineDetails } from '../../core/demo/fixtures.ts';
import { eventually } from '../support/kafka.ts';
import { assignment, orderedFromSlv, type SlvTestBed, startSlvTestBed } from './slv-support.ts';

let bed: SlvTestBed;

beforeAll(async () => {
  bed = await startSlvTestBed({
    BUS_TRANSIENT_BUDGET_MS: '1500',
    SLV_REQUEST_TIMEOUT_MS: '1000',
  });
});
afterAll(async () => {
  await bed?.close();
});

const statusOf = (id: string) => bed.h.hub.store.ledger(id)?.current?.status;
const slvEventsOf = (id: string) => bed.eventsOf(id).filter((e) => e.source === 'slv');
const exchangesOf = async (id: string) =>
  ((await (await bed.h.call(`/slv/v1/methods/${id}/exchanges`)).json()) as { exchanges: Exchange[] })
    .exchanges;

let n = 10;
const at = () => new Date(Date.UTC(2025, 0, 6) + n++ * 86_400_000).toISOString();
const event = (methodId: string, type: string, detail: Record<string, unknown>) => {
  const occurredAt = at();
  return { eventId: randomUUID(), methodId, type, occurredAt, ...detail };
};

describe('the case record at DMP', () => {
  it('7: is kept current: each status through assessment, decision and reassessment, substance, ATC, indication, the absolute deadline', async () => {
    const id = 'ID2025_707';
    const row = () => bed.slv.record(id);
    const step = async (events: unknown[], status: string, what: string) => {
      await bed.post(events);
      await eventually(() => row()?.nm_status === status, 30_000, `${what}: DMP's case says ${status}`);
    };
    await step(orderedFromSlv(id, 'B'), 'Bestilt', 'ordered');
    expect(row()).toMatchObject({
      nm_substance: 'pembrolizumab',
      nm_atccodes: 'L01FF02',
      nm_indication: 'Urotelialt karsinom',
      nm_absolutedeadline: null,
    });
    await step(
      [event(id, 'ASSESSMENT_STARTED', { assessmentStarted: { startedOn: '2025-01-20', assessor: 'SLV' } })],
      'Under vurdering',
      'started',
    );
    await step(
      [
        event(id, 'ASSESSMENT_PAUSED', {
          assessmentPaused: {
            pausedOn: '2025-02-01',
            waitingFor: 'Oppdaterte data fra MSD',
            absoluteDeadline: '2025-05-01',
          },
        }),
      ],
      'Klokken stoppet',
      'paused',
    );
    expect(row()).toMatchObject({
      nm_absolutedeadline: '2025-05-01',
      nm_statusreason: 'Oppdaterte data fra MSD',
    });
    await step(
      [event(id, 'ASSESSMENT_RESUMED', { assessmentResumed: { resumedOn: '2025-03-01' } })],
      'Under vurdering',
      'resumed',
    );
    expect(row()?.nm_absolutedeadline).toBeNull();
    await step(
      [
        event(id, 'ASSESSMENT_DELIVERED', {
          assessmentDelivered: { deliveredOn: '2025-04-01', reportUrl: null, simplified: false },
        }),
      ],
      'Levert',
      'delivered',
    );
    await step(
      [
        event(id, 'STATUS_CHANGED', {
          statusChanged: { to: 'ASSESSMENT_COMPLETED', from: null, reason: null },
        }),
        event(id, 'STATUS_CHANGED', { statusChanged: { to: 'AWAITING_DECISION', from: null, reason: null } }),
      ],
      'Til beslutning',
      'awaiting decision',
    );
    await step(
      [event(id, 'DECISION_MADE', { decision: decisionOf('INTRODUCED', '2025-06-16') })],
      'Innført',
      'decided',
    );
    expect(row()?.nm_statusreason).toBe('Besluttet i Beslutningsforum 2025-06-16');
    await step(
      [
        event(id, 'DETAILS_CHANGED', {
          detailsChanged: {
            details: medicineDetails({
              substances: ['pembrolizumab', 'enfortumab vedotin'],
              atcCodes: ['L01FF02', 'L01FX13'],
              indication: 'Urotelialt karsinom, førstelinje',
            }),
          },
        }),
        event(id, 'REASSESSMENT_STARTED', {
          reassessmentStarted: { startedOn: '2026-01-05', reason: 'Nye data' },
        }),
      ],
      'Revurdering bestilt',
      'reassessment',
    );
    expect(row()).toMatchObject({
      nm_substance: 'pembrolizumab,enfortumab vedotin',
      nm_atccodes: 'L01FF02,L01FX13',
      nm_indication: 'Urotelialt karsinom, førstelinje',
      nm_statusreason: 'Nye data',
    });
    // Every write seen back as ours: no method event from DMP.
    await eventually(() => bed.adapter().exchanges.pending === 0, 30_000, 'every write delivered');
    await eventually(
      async () =>
        (await exchangesOf(id)).every((e) => e.direction !== 'to-slv' || e.delivery === 'confirmed'),
      30_000,
      'every write confirmed by change tracking',
    );
    expect(slvEventsOf(id)).toEqual([]);
  });

  it('a DMP edit of the absolute deadline and a clock stopped with one arrive as method events', async () => {
    const id = 'ID2025_708';
    await bed.post(orderedFromSlv(id, 'C'));
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `DMP case of ${id}`);
    await eventually(() => bed.adapter().exchanges.pending === 0, 30_000, 'write delivered');
    bed.slv.editAsSlv(id, { nm_status: 'Klokken stoppet', nm_absolutedeadline: '2025-09-01' });
    await eventually(
      () => bed.h.hub.store.ledger(id)?.current?.paused?.absoluteDeadline === '2025-09-01',
      30_000,
      'paused with the deadline',
    );
    bed.slv.editAsSlv(id, { nm_absolutedeadline: '2025-10-01' });
    await eventually(() => slvEventsOf(id).length === 3, 30_000, 'deadline edit arrived');
    expect(slvEventsOf(id).map((e) => e.type)).toEqual([
      'ASSESSMENT_STARTED',
      'ASSESSMENT_PAUSED',
      'NOTE_ATTACHED',
    ]);
    expect(slvEventsOf(id)[2]!.note!.text).toContain('2025-10-01');
  });
});

describe('health and history agree with what was sent', () => {
  it('a write that outlasts the retry budget is dead-lettered, and shows so in history and health', async () => {
    const id = 'ID2025_709';
    await bed.slv.setFaults({ down: true });
    try {
      await bed.post(orderedFromSlv(id, 'A'));
      await eventually(
        async () => (await exchangesOf(id)).some((e) => e.delivery === 'dead-lettered'),
        30_000,
        'write dead-lettered',
      );
    } finally {
      await bed.slv.setFaults({ down: false });
    }
    const ours = (await exchangesOf(id)).find((e) => e.direction === 'to-slv')!;
    expect(ours.outcome).toContain('TRANSIENT_EXHAUSTED');
    expect(bed.adapter().exchanges.pending).toBe(0);
    expect(bed.adapter().health().detail).toContain('0 write(s) to SLV waiting');
    await eventually(() => bed.adapter().client.circuit === 'closed', 30_000, 'circuit closed again');
  });
});

describe('a DMP edit between our write and the recording of its answer', () => {
  it('3: is DMP edit, not taken for our write, when the write landed but its answer was lost', async () => {
    const id = 'ID2025_710';
    await bed.post(orderedFromSlv(id, 'B'));
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `DMP case of ${id}`);
    await eventually(() => bed.adapter().exchanges.pending === 0, 30_000, 'write delivered');
    // The answer to our PATCH comes after the client's timeout (1 s): applied, never recorded.
    await bed.slv.setFaults({ slowWritesMs: 1_500 });
    await bed.post([assignment(id, 'ASSIGNMENT_CHANGED', 'A', 12)]);
    await eventually(() => bed.slv.record(id)?.nm_track === 'A', 30_000, 'our write applied at DMP');
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    await bed.slv.setFaults({ slowWritesMs: 0 });
    await eventually(() => statusOf(id) === 'ASSESSMENT_IN_PROGRESS', 30_000, 'DMP start not lost');
    await eventually(() => bed.adapter().exchanges.pending === 0, 30_000, 'write delivered');
    expect(slvEventsOf(id).map((e) => e.type)).toEqual(['ASSESSMENT_STARTED']);
    expect(bed.slv.record(id)).toMatchObject({ nm_track: 'A', nm_status: 'Under vurdering' });
  });
});

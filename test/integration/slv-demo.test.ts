/**
 * Issue 17's round trip on the demo: the demo history (as `npm start` replays it) through a hub with the DMP
 * (formerly SLV) adapter against the Dataverse emulator. Every method assigned to DMP has one current case
 * record matching its state; DMP's edits (status, text, deadline) arrive once, also colliding with our write and
 * across an adapter restart.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlvAdapter } from '../../adapters/slv/adapter.ts';
import { slvCaseRecordOf } from '../../adapters/slv/mapping.ts';
import type { MethodState } from '../../contracts/generated/types.ts';
import { replay } from '../../core/cli/simulate.ts';
import { demoHistory } from '../../core/demo/history.ts';
import { eventually } from '../support/kafka.ts';
import { type SlvTestBed, startSlvTestBed } from './slv-support.ts';

let bed: SlvTestBed;

beforeAll(async () => {
  bed = await startSlvTestBed({ INGRESS_MAX_BODY_BYTES: '5000000' }); // npm start's batches
}, 60_000);
afterAll(async () => {
  await bed?.close();
});

const assignedToDmp = (s: MethodState) =>
  s.assignment?.assignee === 'SLV' || s.assignment?.assignee === 'SLV_AND_FHI';
let demoIds: string[] = [];
const states = () =>
  demoIds
    .map((id) => bed.adapter().store.ledger(id)?.current)
    .filter((s): s is MethodState => s !== undefined);
const slvEventsOf = (id: string) => bed.eventsOf(id).filter((e) => e.source === 'slv');

/** The columns of DMP's case that differ from what the method's state says. */
const mismatches = () =>
  states()
    .filter(assignedToDmp)
    .flatMap((s) => {
      const row = bed.slv.record(s.methodId) as Record<string, unknown> | undefined;
      if (!row) return [`${s.methodId}: no case at DMP`];
      return Object.entries(slvCaseRecordOf(s))
        .filter(([column, value]) => row[column] !== value)
        .map(
          ([column, value]) =>
            `${s.methodId} ${column}: ${JSON.stringify(row[column])} != ${JSON.stringify(value)}`,
        );
    });

describe('the demo round trip with DMP', () => {
  it('every method assigned to DMP has one current case; DMP edits arrive once, colliding and across a restart', async () => {
    const events = demoHistory({ methods: 60 }); // a fifth of npm start's 320, to stay within a minute
    demoIds = [...new Set(events.map((e) => e.methodId))];
    const token = await bed.h.hub.devToken();
    await replay({
      target: { url: bed.h.hub.url!, token },
      events,
      rate: 0,
      batchSize: 250,
      progress: false,
    });
    await eventually(
      () => bed.adapter().exchanges.pending === 0,
      60_000,
      'every write to DMP delivered',
    ).catch((e) => {
      throw new Error(
        `${e.message}: ${bed.adapter().health().detail}; ${JSON.stringify(bed.adapter().outbound.runner.trouble)}; ${bed.slv.records().length} cases`,
      );
    });
    await eventually(() => mismatches().length === 0, 20_000, 'every case current');
    expect(mismatches()).toEqual([]);
    const assigned = states().filter(assignedToDmp);
    expect(assigned.length).toBeGreaterThan(10);
    const ids = bed.slv.records().map((r) => r.nm_nyemetoderid);
    expect(ids.length).toBe(new Set(ids).size); // one case per method
    expect(assigned.every((s) => ids.includes(s.methodId))).toBe(true);
    await eventually(
      () => bed.adapter().mapper.totals.echoes >= assigned.length,
      30_000,
      'our writes seen back',
    );
    expect(demoIds.flatMap(slvEventsOf)).toEqual([]);

    // DMP's edits: a stopped clock with a deadline, a text, and a deadline moved.
    const running = assigned.filter((s) => s.status === 'ASSESSMENT_IN_PROGRESS' && !s.paused);
    const ordered = assigned.filter((s) => s.status === 'ASSESSMENT_ORDERED');
    const decided = assigned.filter((s) => s.status === 'DECIDED');
    expect(running.length + ordered.length).toBeGreaterThanOrEqual(3);
    const [a, b, c] = [...running, ...ordered].map((s) => s.methodId);
    const [d] = decided.map((s) => s.methodId);
    // A stopped clock on an assessment not yet started brings the start along.
    const expectedA = ordered.some((s) => s.methodId === a) ? 3 : 2;
    bed.slv.editAsSlv(a!, {
      nm_status: 'Klokken stoppet',
      nm_statusreason: 'Venter på data',
      nm_absolutedeadline: '2026-03-01',
    });
    bed.slv.editAsSlv(d!, { nm_statusreason: 'Merknad fra DMP' });
    await eventually(() => slvEventsOf(d!).length === 1, 30_000, 'text edit arrived');
    await eventually(() => bed.h.hub.store.ledger(a!)?.current?.paused != null, 30_000, 'clock stopped');
    bed.slv.editAsSlv(a!, { nm_absolutedeadline: '2026-04-01' });

    // Colliding with our write: DMP edits between our read and our PATCH (412).
    bed.slv.beforeNextPatch(() => bed.slv.editAsSlv(b!, { nm_statusreason: 'DMP skriver samtidig' }));
    const detailsOfB = bed.adapter().store.ledger(b!)!.current!.details;
    await bed.h.call('/api/v1/case-events', {
      method: 'POST',
      json: [
        {
          eventId: randomUUID(),
          methodId: b,
          type: 'DETAILS_CHANGED',
          occurredAt: new Date().toISOString(),
          detailsChanged: {
            details: { ...detailsOfB, indication: `${detailsOfB.indication ?? ''} (oppdatert)` },
          },
        },
      ],
    });
    await eventually(() => slvEventsOf(b!).length === 1, 30_000, 'colliding edit arrived');
    await eventually(() => slvEventsOf(a!).length === expectedA, 30_000, 'deadline edit arrived');

    // Across a restart: DMP edits while the adapter is down.
    const old = bed.adapter();
    await old.stop();
    bed.slv.editAsSlv(c!, { nm_statusreason: 'Endret mens huben var nede' });
    const restarted = new SlvAdapter(bed.h.hub.context());
    bed.h.hub.adapters.set('slv', restarted);
    await restarted.start();
    await eventually(() => slvEventsOf(c!).length === 1, 30_000, 'edit made while down arrived');
    // Two more reads after the restart: nothing arrives twice.
    await restarted.poller.pollOnce();
    await restarted.poller.pollOnce();
    expect(slvEventsOf(a!).map((e) => e.type)).toHaveLength(expectedA);
    expect(slvEventsOf(a!).at(-1)!.note!.text).toContain('2026-04-01');
    for (const id of [b!, c!, d!]) expect(slvEventsOf(id).map((e) => e.type)).toEqual(['NOTE_ATTACHED']);
    await eventually(() => restarted.exchanges.pending === 0, 30_000, 'nothing waiting after the restart');
  }, 120_000);
});

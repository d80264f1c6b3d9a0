/**
 * The SLV adapter's inbound side across failures of its own, against the real broker and registry and
 * the Dynamics 365 emulator: a delta replayed (died after writing to Kafka, before saving the delta link)
 * emits nothing twice, and a restart resumes from the saved delta link with no gap and no repeat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlvAdapter } from '../../adapters/slv/adapter.ts';
import { eventually } from '../support/kafka.ts';
import { note, orderedFromSlv, type SlvTestBed, startSlvTestBed } from './slv-support.ts';

let bed: SlvTestBed;

beforeAll(async () => {
  bed = await startSlvTestBed();
});
afterAll(async () => {
  await bed?.close();
});

const statusOf = (id: string) => bed.h.hub.store.ledger(id)?.current?.status;
const slvEventsOf = (id: string) => bed.eventsOf(id).filter((e) => e.source === 'slv');

describe('SLV resume', () => {
  it('emits a replayed delta only once', async () => {
    const id = 'ID2025_503';
    await bed.post(orderedFromSlv(id, 'D'));
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `SLV case of ${id}`);
    const adapter = bed.adapter();
    const file = adapter.inboundState;
    const caseId = bed.slv.record(id)!.nm_methodcaseid;
    await eventually(
      async () => (await file.load()).cases[caseId]?.status === 'Bestilt',
      30_000,
      'state saved',
    );
    const saved = await file.load();
    // Two edits between two reads arrive as one change: the stopped clock brings its start with it.
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    bed.slv.editAsSlv(id, { nm_status: 'Klokken stoppet', nm_statusreason: 'Venter på svar' });
    await eventually(() => bed.h.hub.store.ledger(id)?.current?.paused !== null, 30_000, 'clock stopped');
    // As if the adapter died after writing the changes to Kafka but before saving the delta link.
    await adapter.poller.stop();
    await file.save(saved);
    const updatesBefore = adapter.poller.totals.updates;
    await adapter.poller.start();
    await eventually(() => adapter.poller.totals.updates > updatesBefore, 30_000, 'the old delta read again');
    // A later change of the same case comes after the replay on the same partition.
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    await eventually(() => bed.h.hub.store.ledger(id)?.current?.paused === null, 30_000, 'clock restarted');
    expect(slvEventsOf(id).map((e) => e.type)).toEqual([
      'ASSESSMENT_STARTED',
      'ASSESSMENT_PAUSED',
      'ASSESSMENT_RESUMED',
    ]);
  });

  it('resumes after a restart from the saved delta link, with no gap and no repeat', async () => {
    const id = 'ID2025_504';
    await bed.post(orderedFromSlv(id, 'A'));
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `SLV case of ${id}`);
    await bed.post([note(id, 'Møtereferat', 'Bestilt i Bestillerforum')]);
    await eventually(() => bed.slv.notes().length === 1, 30_000, 'note at SLV');
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    await eventually(() => statusOf(id) === 'ASSESSMENT_IN_PROGRESS', 30_000, 'assessment started');
    const old = bed.adapter();
    await old.stop();
    bed.slv.editAsSlv(id, { nm_status: 'Klokken stoppet', nm_statusreason: 'Venter på prisopplysninger' });
    const restarted = new SlvAdapter(bed.h.hub.context());
    bed.h.hub.adapters.set('slv', restarted);
    await restarted.start();
    await eventually(
      () => bed.h.hub.store.ledger(id)?.current?.paused !== null,
      30_000,
      'change made while down',
    );
    expect(restarted.poller.totals.fullLoads).toBe(0);
    // Writes accepted before the restart (the note too, which change tracking never shows) are not backlog.
    expect(restarted.exchanges.pending).toBe(0);
    expect(restarted.exchanges.exchangesOf(id).find((e) => e.what === 'NOTE_ATTACHED')?.delivery).toBe(
      'delivered',
    );
    expect(slvEventsOf(id).map((e) => e.type)).toEqual(['ASSESSMENT_STARTED', 'ASSESSMENT_PAUSED']);
  });
});

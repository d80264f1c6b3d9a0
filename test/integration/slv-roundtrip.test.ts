/**
 * The SLV adapter both ways against the real broker and registry and the Dynamics 365 emulator: an
 * assignment reaches SLV's case platform, SLV's work comes back as method events, our own writes echoing
 * back are not emitted again, concurrent edits (412) are merged, and the exchange history shows it all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../adapters/slv/exchanges.ts';
import { eventually } from '../support/kafka.ts';
import { assignment, note, orderedFromSlv, type SlvTestBed, startSlvTestBed } from './slv-support.ts';

let bed: SlvTestBed;

beforeAll(async () => {
  bed = await startSlvTestBed();
});
afterAll(async () => {
  await bed?.close();
});

const statusOf = (id: string) => bed.h.hub.store.ledger(id)?.current?.status;
const slvEventsOf = (id: string) => bed.eventsOf(id).filter((e) => e.source === 'slv');

describe('SLV round trip', () => {
  it('writes an assignment to SLV, attaches a note, and brings SLV work back as method events', async () => {
    const id = 'ID2025_501';
    const events = orderedFromSlv(id, 'B', 'Lekanemab ved tidlig Alzheimers sykdom');
    await bed.post(events);
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `SLV case of ${id}`);
    const written = bed.slv.record(id)!;
    expect(written).toMatchObject({
      nm_name: 'Lekanemab ved tidlig Alzheimers sykdom',
      nm_track: 'B',
      nm_sourceeventid: events[2]!.eventId,
    });
    const upsert = bed.slv.requestLog().find((e) => e.method === 'PATCH' && e.path.includes(id));
    expect(upsert?.path).toContain(`nm_methodcases(nm_nyemetoderid='${id}')`);
    expect(upsert?.headers['if-none-match']).toBe('*');
    // Our write comes back through change tracking as an echo: recognised, and no event made of it.
    await eventually(() => bed.adapter().mapper.totals.echoes >= 1, 30_000, 'echo of our write read');
    expect(slvEventsOf(id)).toEqual([]);

    await bed.post([note(id, 'Dokumentasjon', 'Leverandøren har sendt inn dokumentasjon for æ, ø og å')]);
    await eventually(() => bed.slv.notes().length === 1, 30_000, 'note at SLV');
    expect(bed.slv.notes()[0]).toMatchObject({
      notetext: 'Leverandøren har sendt inn dokumentasjon for æ, ø og å',
    });
    expect(bed.slv.notes()[0]!.subject).toContain('Dokumentasjon');

    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    await eventually(() => statusOf(id) === 'ASSESSMENT_IN_PROGRESS', 30_000, 'assessment started');
    bed.slv.editAsSlv(id, {
      nm_status: 'Klokken stoppet',
      nm_statusreason: 'Venter på dokumentasjon fra MSD',
    });
    await eventually(() => bed.h.hub.store.ledger(id)?.current?.paused !== null, 30_000, 'clock stopped');
    expect(bed.h.hub.store.ledger(id)!.current!.paused!.waitingFor).toBe('Venter på dokumentasjon fra MSD');
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    await eventually(() => bed.h.hub.store.ledger(id)?.current?.paused === null, 30_000, 'clock restarted');
    bed.slv.editAsSlv(id, {
      nm_status: 'Levert',
      nm_reporturl: 'https://www.dmp.no/rapporter/ID2025_501.pdf',
    });
    await eventually(
      () => bed.h.hub.store.ledger(id)?.current?.assessmentDelivered !== null,
      30_000,
      'report',
    );
    expect(bed.h.hub.store.ledger(id)!.current!.assessmentDelivered!.reportUrl).toBe(
      'https://www.dmp.no/rapporter/ID2025_501.pdf',
    );

    expect(slvEventsOf(id).map((e) => e.type)).toEqual([
      'ASSESSMENT_STARTED',
      'ASSESSMENT_PAUSED',
      'ASSESSMENT_RESUMED',
      'ASSESSMENT_DELIVERED',
    ]);
  });

  it('serves the exchanges with SLV and their change log, to a reader with the read scope', async () => {
    const id = 'ID2025_501';
    await eventually(
      async () => {
        const r = await bed.h.call(`/slv/v1/methods/${id}/exchanges`);
        const body = (await r.json()) as { exchanges: Exchange[] };
        const out = body.exchanges.filter((e) => e.direction === 'to-slv');
        // Case writes come back through change tracking (confirmed); notes are not tracked (delivered).
        return out[0]?.delivery === 'confirmed' && out[1]?.delivery === 'delivered';
      },
      30_000,
      'writes confirmed by SLV change tracking',
    );
    const r = await bed.h.call(`/slv/v1/methods/${id}/exchanges`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { status: string; slvTrack: string; exchanges: Exchange[] };
    expect(body.status).toBe('ASSESSMENT_IN_PROGRESS');
    const out = body.exchanges.filter((e) => e.direction === 'to-slv');
    expect(out.map((e) => e.what)).toEqual(['ASSIGNMENT_ORDERED', 'NOTE_ATTACHED']);
    expect(out[0]!.changes).toContainEqual({ field: 'status', from: null, to: 'Bestilt' });
    const inbound = body.exchanges.filter((e) => e.direction === 'from-slv');
    expect(inbound.map((e) => e.what)).toEqual([
      'ASSESSMENT_STARTED',
      'CLOCK_STOPPED',
      'CLOCK_RESTARTED',
      'REPORT_DELIVERED',
    ]);
    expect(inbound[0]!.changes).toContainEqual({ field: 'status', from: 'Bestilt', to: 'Under vurdering' });
    expect(inbound[1]!.changes).toContainEqual({
      field: 'text',
      from: null,
      to: 'Venter på dokumentasjon fra MSD',
    });

    expect((await bed.h.call(`/slv/v1/methods/${id}/exchanges`, { token: null })).status).toBe(401);
    const writer = await bed.h.hub.devToken(['nyemetoder:case-events:write']);
    expect((await bed.h.call(`/slv/v1/methods/${id}/exchanges`, { token: writer })).status).toBe(403);
    const bad = await bed.h.call('/slv/v1/methods/lekanemab/exchanges');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_METHOD_ID');
    expect((await bed.h.call('/slv/v1/methods/ID2025_999/exchanges')).status).toBe(404);
  });

  it('resolves a concurrent edit at SLV (412) by re-reading and merging', async () => {
    const id = 'ID2025_502';
    await bed.post(orderedFromSlv(id, 'C'));
    await eventually(() => bed.slv.record(id)?.nm_track === 'C', 30_000, `SLV case of ${id}`);
    const before = bed.slv.counters().preconditionFailed412;
    // Between the adapter's read and its write, a case handler at SLV edits the same case.
    bed.slv.beforeNextPatch(() => {
      bed.slv.editAsSlv(id, { nm_statusreason: 'Saksbehandler: Kari Nordmann' });
    });
    await bed.post([assignment(id, 'ASSIGNMENT_CHANGED', 'A', 10)]);
    await eventually(() => bed.slv.record(id)?.nm_track === 'A', 30_000, 'track changed at SLV');
    expect(bed.slv.counters().preconditionFailed412).toBe(before + 1);
    const row = bed.slv.record(id)!;
    expect(row.nm_statusreason).toBe('Saksbehandler: Kari Nordmann'); // SLV's edit kept
    expect(row.nm_status).toBe('Bestilt');
    const patches = bed.slv.requestLog().filter((e) => e.method === 'PATCH' && e.path.includes(id));
    expect(patches.map((p) => p.status)).toEqual([201, 412, 200]); // return=representation: created, then updated
    expect(patches[1]!.headers['if-match']).toMatch(/^W\/"\d+"$/);
    expect(patches[2]!.headers['if-match']).not.toBe(patches[1]!.headers['if-match']);
    // The emulator shows the row before the adapter has read its answer and counted the conflict.
    await expect
      .poll(() => bed.adapter().outbound.conflictsResolved, { timeout: 10_000 })
      .toBeGreaterThanOrEqual(1);
  });
});

/**
 * The issue-17 reproductions against the emulator corrected to Dataverse's documented behaviour: SLV's edits
 * keep our marker column, a delta shows only a row's latest version, 401s carry no body, Retry-After holds
 * every request, a restarted stand-in takes a new port.
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
const exchangesOf = async (id: string) =>
  ((await (await bed.h.call(`/slv/v1/methods/${id}/exchanges`)).json()) as { exchanges: Exchange[] })
    .exchanges;

/** Ordered from SLV, written there, and the echo of that write read back. */
async function orderedAndEchoed(id: string, track: 'A' | 'B' | 'C' | 'D' = 'B') {
  const echoes = bed.adapter().mapper.totals.echoes;
  await bed.post(orderedFromSlv(id, track));
  await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `SLV case of ${id}`);
  await eventually(() => bed.adapter().mapper.totals.echoes > echoes, 30_000, `echo of ${id} read`);
}

describe('SLV edits on real Dataverse semantics', () => {
  it('1: a case handler edit of a case we wrote (our marker column kept) becomes a method event', async () => {
    const id = 'ID2025_701';
    await orderedAndEchoed(id);
    const written = bed.slv.record(id)!;
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    expect(bed.slv.record(id)!.nm_sourceeventid).toBe(written.nm_sourceeventid);
    await eventually(() => statusOf(id) === 'ASSESSMENT_IN_PROGRESS', 30_000, 'assessment started');
    expect(slvEventsOf(id).map((e) => e.type)).toEqual(['ASSESSMENT_STARTED']);
    const history = await exchangesOf(id);
    const ours = history.find((e) => e.direction === 'to-slv')!;
    expect(ours.delivery).toBe('confirmed');
    expect(history.filter((e) => e.direction === 'from-slv').map((e) => e.what)).toEqual([
      'ASSESSMENT_STARTED',
    ]);
  });

  it('2: an SLV edit that collides with our write (412) is emitted before our merge, also with the column cleared', async () => {
    const id = 'ID2025_702';
    await orderedAndEchoed(id, 'C');
    bed.slv.beforeNextPatch(() => {
      bed.slv.editAsSlv(id, { nm_status: 'Under vurdering', nm_sourceeventid: null });
    });
    await bed.post([assignment(id, 'ASSIGNMENT_CHANGED', 'A', 10)]);
    await eventually(() => bed.slv.record(id)?.nm_track === 'A', 30_000, 'track changed at SLV');
    await eventually(() => statusOf(id) === 'ASSESSMENT_IN_PROGRESS', 30_000, 'SLV start not lost');
    const patches = bed.slv.requestLog().filter((e) => e.method === 'PATCH' && e.path.includes(id));
    expect(patches.map((p) => p.status)).toEqual([201, 412, 200]);
    expect(bed.slv.record(id)!.nm_status).toBe('Under vurdering');
    // Later polls show only our merged write: an echo, nothing emitted twice. Two polls that end after the merge
    // (the second surely began after it), rather than a count that the echo may already have moved.
    const merged = Date.now();
    const polled = new Set<string>();
    await eventually(
      () => {
        const last = bed.adapter().poller.lastPoll;
        if (last?.ok && Date.parse(last.at) > merged) polled.add(last.at);
        return polled.size >= 2;
      },
      30_000,
      'two polls after the merge',
    );
    expect(slvEventsOf(id).map((e) => e.type)).toEqual(['ASSESSMENT_STARTED']);
  });

  it('4: a 401 that outlasts one token renewal is retried, not dead-lettered; health and history agree', async () => {
    const id = 'ID2025_704';
    const refusedBefore = bed.slv.counters().unauthorized401;
    await bed.slv.setFaults({ fail401Count: 4 });
    await bed.post(orderedFromSlv(id, 'A'));
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `SLV case of ${id}`);
    expect(bed.slv.counters().unauthorized401 - refusedBefore).toBe(4);
    // The emulator shows the row before the adapter has read its answer and marked the write delivered.
    await eventually(() => bed.adapter().exchanges.pending === 0, 30_000, 'nothing waiting');
    const ours = (await exchangesOf(id)).find((e) => e.direction === 'to-slv')!;
    expect(['delivered', 'confirmed']).toContain(ours.delivery);
    expect(bed.adapter().health().detail).toContain('0 write(s) to SLV waiting');
  });

  it('5: while a Retry-After runs, no request of the adapter goes to SLV', async () => {
    const id = 'ID2025_705';
    bed.slv.clearRequestLog();
    const throttledBefore = bed.adapter().client.counts.throttled;
    await bed.slv.setFaults({ throttle: { retryAfterSeconds: 2, count: 1 } });
    // A read of SLV's changes meets the 429; the write of a new assignment must wait with it. The write is
    // asked for once the adapter has read the 429, not merely once the stand-in has sent it.
    const poll = bed.adapter().poller.pollOnce();
    await eventually(
      () => bed.adapter().client.counts.throttled > throttledBefore,
      10_000,
      '429 answered and read by the adapter',
    );
    await bed.post(orderedFromSlv(id, 'B'));
    await poll;
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `SLV case of ${id}`);
    const log = bed.slv.requestLog().filter((e) => e.path.startsWith('/api/'));
    const throttled = log.find((e) => e.status === 429)!;
    expect(throttled).toBeDefined();
    // From when the adapter read the 429: a request it sent just before then may reach the stand-in after the 429 went out.
    const readAt = bed.adapter().client.lastThrottledAt;
    expect(readAt).toBeGreaterThanOrEqual(Date.parse(throttled.at));
    const at = Date.parse(throttled.at);
    const during = log.filter((e) => Date.parse(e.at) > readAt + 50 && Date.parse(e.at) < at + 1900);
    expect(during.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([]);
  });

  it('3: a note whose create was applied but answered after the timeout is attached once', async () => {
    const id = 'ID2025_703';
    await orderedAndEchoed(id);
    const before = bed.slv.notes().length;
    await bed.slv.setFaults({ slowWritesMs: 6_000 }); // longer than SLV_REQUEST_TIMEOUT_MS (5 s)
    await bed.post([note(id, 'Dokumentasjon', 'Sendt inn')]);
    await eventually(() => bed.slv.notes().length > before, 60_000, 'note created at SLV');
    await bed.slv.setFaults({ slowWritesMs: 0 });
    await eventually(
      async () =>
        (await exchangesOf(id)).some((e) => e.what === 'NOTE_ATTACHED' && e.delivery === 'delivered'),
      60_000,
      'note delivered',
    );
    expect(bed.slv.notes().length - before).toBe(1);
  }, 120_000);

  it('6: a delta link saved with an old base URL is read on the configured one', async () => {
    const id = 'ID2025_706';
    await orderedAndEchoed(id);
    const poller = bed.adapter().poller;
    await poller.stop();
    const file = bed.adapter().inboundState;
    const state = await file.load();
    await file.save({ ...state, deltaLink: state.deltaLink!.replace(bed.slv.url, 'http://127.0.0.1:18599') });
    const fullLoads = poller.totals.fullLoads;
    await poller.start();
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    await eventually(() => statusOf(id) === 'ASSESSMENT_IN_PROGRESS', 30_000, 'SLV edit read after restart');
    expect(poller.totals.fullLoads).toBe(fullLoads);
    expect(bed.adapter().client.circuit).toBe('closed');
  });
});

/**
 * SLV's (DMP's) inbound state lives in Kafka: a new hub on another machine (a fresh state directory, nothing in
 * memory) on the same Kafka resumes from the stored delta link: no full load, no repeated method event, and an
 * edit made at DMP while no hub ran arrives once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlvAdapter, slvAdapter } from '../../adapters/slv/adapter.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testKafka } from '../support/kafka.ts';
import { orderedFromSlv, type SlvTestBed, slvTestEnv, startSlvTestBed } from './slv-support.ts';

let bed: SlvTestBed;
let second: TestHub | undefined;
const dirs: string[] = [];
const freshDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fresh-machine-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  bed = await startSlvTestBed({ SLV_STATE_DIR: await freshDir() });
});
afterAll(async () => {
  await second?.close();
  await bed?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('SLV state in Kafka', () => {
  it('a hub on a fresh machine resumes from the stored delta link: no full load, no repeat, no gap', async () => {
    const id = 'ID2025_521';
    await bed.post(orderedFromSlv(id, 'B'));
    await eventually(() => bed.slv.record(id)?.nm_status === 'Bestilt', 30_000, `DMP case of ${id}`);
    bed.slv.editAsSlv(id, { nm_status: 'Under vurdering' });
    await eventually(
      () => bed.h.hub.store.ledger(id)?.current?.status === 'ASSESSMENT_IN_PROGRESS',
      30_000,
      'assessment started',
    );
    await bed.h.hub.stop();
    // Made at DMP while no hub runs.
    bed.slv.editAsSlv(id, { nm_status: 'Klokken stoppet', nm_statusreason: 'Venter på dokumentasjon' });
    second = await startTestHub(
      ['api', 'projection', 'slv'],
      slvTestEnv(bed.slv, { SLV_STATE_DIR: await freshDir() }),
      { adapters: [slvAdapter], sameTopicsAs: bed.h, sameGroups: true },
    );
    const hub = second.hub;
    await eventually(
      () => (hub.store.ledger(id)?.current?.paused ?? null) !== null,
      30_000,
      'the edit made while down',
    );
    const adapter = hub.adapters.get('slv') as SlvAdapter;
    expect(adapter.poller.totals.fullLoads).toBe(0);
    const slvTypes = (hub.store.ledger(id)?.entries ?? [])
      .map((e) => e.event)
      .filter((e) => e.source === 'slv')
      .map((e) => e.type);
    expect(slvTypes).toEqual(['ASSESSMENT_STARTED', 'ASSESSMENT_PAUSED']);
    // Nothing written twice to the log either.
    const logged = (await readAll(testKafka(), bed.h.events)).filter((m) => m.key?.toString() === id);
    expect(logged.length).toBe(hub.store.ledger(id)?.entries.length);
  });
});

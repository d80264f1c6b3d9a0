/**
 * The SLV adapter's saved state at DMP's size: a first full load of thousands of cases is saved (it was one
 * produce request over the broker's 1 MB, refused as MESSAGE_TOO_LARGE on every poll).
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  emptyDelta,
  type InboundState,
  InboundStateStore,
  sameEntry,
} from '../../adapters/slv/inboundState.ts';
import type { CaseSnapshot } from '../../adapters/slv/mapping.ts';
import { Topics } from '../../contracts/topics.ts';
import { StateStore } from '../../core/bus/stateStore.ts';
import { deleteTopics, testBus, testKafka, uniqueName } from '../support/kafka.ts';

const kafka = testKafka();
const { registry, producer } = testBus(kafka);
const topics: string[] = [];

afterAll(async () => {
  await producer.disconnect();
  await deleteTopics(kafka, topics);
});

const caseId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const snapshot = (i: number, version: number, ownEventId: string | null = null): CaseSnapshot => ({
  methodId: `ID2026_${String(i).padStart(5, '0')}`,
  status: 'Under vurdering',
  statusReason: 'Venter på dokumentasjon fra leverandør',
  name: `Metode ${i} til behandling av en sykdom med et langt navn`,
  reportUrl: `https://dmp.no/rapporter/${i}`,
  absoluteDeadline: null,
  version,
  ownEventId,
});

function newStore(): { store: StateStore<typeof Topics.slvInboundState>; topic: string } {
  const topic = uniqueName('test.slv-inbound-state');
  topics.push(topic);
  registry.alias(topic, Topics.slvInboundState);
  return {
    topic,
    store: new StateStore(kafka, registry, producer, {
      declared: Topics.slvInboundState,
      topic,
      same: sameEntry,
    }),
  };
}

describe('SLV inbound state at the size of DMP', () => {
  it('saves a full load of 8,000 cases (well over 1 MB of records) and a fresh hub restores all of it', async () => {
    const { store } = newStore();
    const file = new InboundStateStore(store);
    await file.load();
    const state: InboundState = { deltaLink: 'link-1', cases: {}, intendedWrites: {}, savedAt: null };
    for (let i = 0; i < 8_000; i++) state.cases[caseId(i)] = snapshot(i, 1_000 + i);
    await file.save(state);

    const restored = await new InboundStateStore(
      new StateStore(kafka, registry, producer, { declared: Topics.slvInboundState, topic: store.topic }),
    ).load();
    expect(Object.keys(restored.cases)).toHaveLength(8_000);
    expect(restored.cases[caseId(7_999)]).toMatchObject({ methodId: 'ID2026_07999', version: 8_999 });
    expect(restored.deltaLink).toBe('link-1');
  }, 120_000);
});

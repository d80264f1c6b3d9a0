/**
 * The SLV adapter's saved state at DMP's size: a first full load of thousands of cases is saved (it was one
 * produce request over the broker's 1 MB, refused as MESSAGE_TOO_LARGE on every poll), and a write to DMP saves
 * only the records it touches, leaving the state as it was when Kafka refuses the write.
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

/** A state of `count` cases, saved on a topic of its own: the store, its records and the state. */
async function savedState(count: number) {
  const topic = uniqueName('test.slv-inbound-state');
  topics.push(topic);
  registry.alias(topic, Topics.slvInboundState);
  const store = new StateStore(kafka, registry, producer, {
    declared: Topics.slvInboundState,
    topic,
    same: sameEntry,
  });
  const file = new InboundStateStore(store);
  await file.load();
  const state: InboundState = { deltaLink: 'link-1', cases: {}, intendedWrites: {}, savedAt: null };
  for (let i = 0; i < count; i++) state.cases[caseId(i)] = snapshot(i, 1_000 + i);
  await file.save(state);
  return { store, file, state };
}

/** What a hub on a fresh machine reads back from the topic. */
const restoredFrom = (topic: string) =>
  new InboundStateStore(
    new StateStore(kafka, registry, producer, { declared: Topics.slvInboundState, topic }),
  ).load();

describe('SLV inbound state at the size of DMP', () => {
  it('saves a full load of 8,000 cases (well over 1 MB of records) and a fresh hub restores all of it', async () => {
    const { store } = await savedState(8_000);
    const restored = await restoredFrom(store.topic);
    expect(Object.keys(restored.cases)).toHaveLength(8_000);
    expect(restored.cases[caseId(7_999)]).toMatchObject({ methodId: 'ID2026_07999', version: 8_999 });
    expect(restored.deltaLink).toBe('link-1');
  }, 120_000);

  it('saves a write to DMP as the records it touches, and keeps the state as it was when Kafka refuses', async () => {
    const { store, file, state } = await savedState(2_000);
    const before = store.entries();

    const intend = emptyDelta();
    intend.intendedWrites.set('ID2026_00007', { eventId: 'evt-7', expected: snapshot(7, 0) });
    await file.apply(state, intend);
    const answered = emptyDelta();
    answered.intendedWrites.set('ID2026_00007', undefined);
    answered.cases.set(caseId(7), snapshot(7, 5_000, 'evt-7'));
    answered.deltaLink = 'link-1';
    await file.apply(state, answered);

    const after = store.entries();
    const changed = [...after].filter(
      ([key, value]) => !before.has(key) || !sameEntry(before.get(key)!, value),
    );
    expect(changed.map(([key]) => key)).toEqual([`case:${caseId(7)}`]);
    expect(after.has('write:ID2026_00007')).toBe(false);
    expect(state.cases[caseId(7)]).toMatchObject({ version: 5_000, ownEventId: 'evt-7' });
    expect(state.intendedWrites).toEqual({});

    // A value the contract refuses fails the write: nothing of the delta is applied in memory.
    const refused = emptyDelta();
    refused.cases.set(caseId(8), { ...snapshot(8, 6_000), version: 1.5 });
    refused.deltaLink = 'link-2';
    await expect(file.apply(state, refused)).rejects.toThrow();
    expect(state.cases[caseId(8)]).toMatchObject({ version: 1_008 });
    expect(state.deltaLink).toBe('link-1');

    const restored = await restoredFrom(store.topic);
    expect(restored.cases[caseId(7)]).toMatchObject({ version: 5_000, ownEventId: 'evt-7' });
    expect(restored.cases[caseId(8)]).toMatchObject({ version: 1_008 });
    expect(restored.deltaLink).toBe('link-1');
  }, 120_000);
});

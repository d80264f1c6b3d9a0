/**
 * The inbound side's durable state: the delta link of SLV's change tracking, what it last saw of each case and
 * the writes to SLV whose answer is not yet recorded, as records on the compacted topic `slv.inbound-state.v1`
 * (one per case and per write, one for the link), so a hub on a fresh machine resumes where the last one stopped.
 * It is saved only after the changes it covers are in Kafka, and the delta link only after the records it
 * covers, so a restart resumes from the last saved link: no gap, and a replayed change carries the same change
 * id, so it is not emitted twice.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SlvInboundStateEntry } from '../../contracts/generated/types.ts';
import type { StateChange, StateStore } from '../../core/bus/stateStore.ts';
import { loggerFor } from '../../core/log/logger.ts';
import type { CaseSnapshot, IntendedWrite } from './mapping.ts';
import type { Topics } from '../../contracts/topics.ts';

export interface InboundState {
  /** Null before the first full load. */
  deltaLink: string | null;
  /** By SLV case id (GUID). */
  cases: Record<string, CaseSnapshot>;
  /** Writes sent to SLV whose answer is not yet recorded, by method id. */
  intendedWrites?: Record<string, IntendedWrite>;
  savedAt: string | null;
}

const DELTA_LINK = 'delta-link';
const caseKey = (slvCaseId: string) => `case:${slvCaseId}`;
const writeKey = (methodId: string) => `write:${methodId}`;

type Snapshot = NonNullable<SlvInboundStateEntry['snapshot']>;

const recordOf = (s: CaseSnapshot): Snapshot => ({
  methodId: s.methodId,
  status: s.status,
  statusReason: s.statusReason,
  name: s.name,
  reportUrl: s.reportUrl,
  absoluteDeadline: s.absoluteDeadline ?? null,
  version: s.version ?? null,
  ownEventId: s.ownEventId ?? null,
});

const snapshotFrom = (r: Snapshot): CaseSnapshot => ({
  methodId: r.methodId,
  status: r.status,
  statusReason: r.statusReason,
  name: r.name,
  reportUrl: r.reportUrl,
  absoluteDeadline: r.absoluteDeadline,
  // A snapshot without a version is never taken as already seen (see alreadySeen).
  ...(r.version === null ? {} : { version: r.version }),
  ownEventId: r.ownEventId,
});

const entry = (fields: Partial<SlvInboundStateEntry> & Pick<SlvInboundStateEntry, 'kind'>) => ({
  deltaLink: null,
  slvCaseId: null,
  eventId: null,
  snapshot: null,
  savedAt: new Date().toISOString(),
  ...fields,
});

/**
 * What a round changes in the state: a case or an intended write set, or removed (undefined), and the new delta
 * link. `InboundStateStore.apply` saves only these records and then changes the state in place, so a write to
 * SLV costs the same with 40,000 known cases as with ten.
 */
export interface StateDelta {
  cases: Map<string, CaseSnapshot | undefined>;
  intendedWrites: Map<string, IntendedWrite | undefined>;
  deltaLink?: string;
}

export const emptyDelta = (): StateDelta => ({ cases: new Map(), intendedWrites: new Map() });

/** A case as the state holds it once `delta` is applied. */
export const caseAfter = (state: InboundState, delta: StateDelta, slvCaseId: string) =>
  delta.cases.has(slvCaseId) ? delta.cases.get(slvCaseId) : state.cases[slvCaseId];

/** An intended write as the state holds it once `delta` is applied. */
export const intendedAfter = (state: InboundState, delta: StateDelta, methodId: string) =>
  delta.intendedWrites.has(methodId) ? delta.intendedWrites.get(methodId) : state.intendedWrites?.[methodId];

const caseEntry = (slvCaseId: string, snapshot: CaseSnapshot) =>
  entry({ kind: 'CASE', slvCaseId, snapshot: recordOf(snapshot) });
const writeEntry = (intended: IntendedWrite) =>
  entry({ kind: 'INTENDED_WRITE', eventId: intended.eventId, snapshot: recordOf(intended.expected) });
const linkEntry = (deltaLink: string) => entry({ kind: 'DELTA_LINK', deltaLink });

/** The records that hold `state`, by key. */
export function entriesOf(state: InboundState): Map<string, SlvInboundStateEntry> {
  const entries = new Map<string, SlvInboundStateEntry>();
  for (const [slvCaseId, snapshot] of Object.entries(state.cases))
    entries.set(caseKey(slvCaseId), caseEntry(slvCaseId, snapshot));
  for (const [methodId, intended] of Object.entries(state.intendedWrites ?? {}))
    entries.set(writeKey(methodId), writeEntry(intended));
  if (state.deltaLink !== null) entries.set(DELTA_LINK, linkEntry(state.deltaLink));
  return entries;
}

/** The state the records hold. */
export function stateOf(entries: Map<string, SlvInboundStateEntry>): InboundState {
  const state: InboundState = { deltaLink: null, cases: {}, intendedWrites: {}, savedAt: null };
  for (const [key, e] of entries) {
    if (state.savedAt === null || e.savedAt > state.savedAt) state.savedAt = e.savedAt;
    if (e.kind === 'DELTA_LINK') state.deltaLink = e.deltaLink;
    else if (e.kind === 'CASE' && e.snapshot)
      state.cases[e.slvCaseId ?? key.slice(5)] = snapshotFrom(e.snapshot);
    else if (e.kind === 'INTENDED_WRITE' && e.snapshot && e.eventId)
      state.intendedWrites![e.snapshot.methodId] = { eventId: e.eventId, expected: snapshotFrom(e.snapshot) };
  }
  return state;
}

/** Same record whenever it was saved. */
export const sameEntry = (a: SlvInboundStateEntry, b: SlvInboundStateEntry): boolean =>
  JSON.stringify({ ...a, savedAt: null }) === JSON.stringify({ ...b, savedAt: null });

export class InboundStateStore {
  private readonly log = loggerFor('slv-inbound');

  /** `importFrom`: a directory that may hold the state file of a hub before 0.2, read once into an empty topic. */
  constructor(
    private readonly store: StateStore<typeof Topics.slvInboundState>,
    private readonly importFrom?: string,
  ) {}

  async load(): Promise<InboundState> {
    const entries = await this.store.restore();
    if (entries.size === 0 && this.importFrom) {
      const imported = await readOldStateFile(join(this.importFrom, 'slv-inbound-state.json'));
      if (imported) {
        await this.save(imported);
        this.log.info(
          { from: this.importFrom, cases: Object.keys(imported.cases).length },
          `SLV inbound state imported into ${this.store.topic} from the old state file; SLV_STATE_DIR is no longer read`,
        );
        return stateOf(this.store.entries());
      }
    }
    return stateOf(entries);
  }

  /** Writes what differs from the records (the whole state compared); the delta link last, once the records it covers are acknowledged. */
  async save(state: InboundState): Promise<void> {
    const next = entriesOf(state);
    await this.store.write(this.store.changesTo(next, (key) => key !== DELTA_LINK));
    await this.store.write(this.store.changesTo(next, (key) => key === DELTA_LINK));
  }

  /**
   * Saves `delta` (only the records it touches, and of those only the ones that differ; the delta link last, once
   * the records it covers are acknowledged), then applies it to `state` in place. When a write fails `state`
   * is left as it was, so the round is judged again from what it knew.
   */
  async apply(state: InboundState, delta: StateDelta): Promise<void> {
    const records: StateChange<SlvInboundStateEntry>[] = [];
    for (const [slvCaseId, snapshot] of delta.cases)
      records.push({ key: caseKey(slvCaseId), value: snapshot ? caseEntry(slvCaseId, snapshot) : null });
    for (const [methodId, intended] of delta.intendedWrites)
      records.push({ key: writeKey(methodId), value: intended ? writeEntry(intended) : null });
    await this.store.write(this.store.unsaved(records));
    if (delta.deltaLink !== undefined)
      await this.store.write(this.store.unsaved([{ key: DELTA_LINK, value: linkEntry(delta.deltaLink) }]));
    for (const [slvCaseId, snapshot] of delta.cases) {
      if (snapshot === undefined) delete state.cases[slvCaseId];
      else state.cases[slvCaseId] = snapshot;
    }
    state.intendedWrites ??= {};
    for (const [methodId, intended] of delta.intendedWrites) {
      if (intended === undefined) delete state.intendedWrites[methodId];
      else state.intendedWrites[methodId] = intended;
    }
    if (delta.deltaLink !== undefined) state.deltaLink = delta.deltaLink;
  }
}

async function readOldStateFile(path: string): Promise<InboundState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const state = JSON.parse(text) as InboundState;
    if (typeof state !== 'object' || state === null || typeof state.cases !== 'object')
      throw new Error('no cases');
    return state;
  } catch (error) {
    throw new Error(
      `SLV_STATE_UNREADABLE: ${path} is not a state file (${(error as Error).message}); move it away to start again with a full load`,
    );
  }
}

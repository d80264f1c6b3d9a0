/**
 * SLV to Nye metoder, in two steps:
 * - `SlvChangePoller` reads SLV's change tracking (`Prefer: odata.track-changes`, then the delta link) and
 *   writes each changed case to `slv.case-updates.v1`; a malformed row goes to that topic's dead-letter
 *   topic with its reason. The delta link is saved (InboundStateStore, in Kafka) only after Kafka has the changes.
 * - `SlvCaseUpdateMapper` turns case updates into method events on `nyemetoder.method-events.v1`, judged
 *   against the method's current state; echoes of our own writes give none, an illegal one is dead-lettered.
 */
import type { Kafka } from 'kafkajs';
import type { SlvCaseUpdate } from '../../contracts/generated/types.ts';
import { dlqTopicOf, Topics } from '../../contracts/topics.ts';
import { DLQ_HEADERS } from '../../core/bus/deadLetter.ts';
import { PermanentError } from '../../core/bus/errors.ts';
import { causedBy, newHeaders } from '../../core/bus/headers.ts';
import type { ContractProducer } from '../../core/bus/producer.ts';
import { contractRefusal } from '../../core/contracts/validity.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import { type BusPolicy, ConsumerRunner, type Delivery } from '../../core/bus/runner.ts';
import { describeErrors } from '../../core/lifecycle/errors.ts';
import type { MethodStore } from '../../core/lifecycle/methodStore.ts';
import { type Logger, loggerFor } from '../../core/log/logger.ts';
import { DeltaLinkRefused, type SlvCase, type SlvClient } from './client.ts';
import type { ExchangeLog } from './exchanges.ts';
import {
  caseAfter,
  emptyDelta,
  type InboundState,
  type InboundStateStore,
  intendedAfter,
  type StateDelta,
} from './inboundState.ts';
import {
  alreadySeen,
  caseFromRow,
  caseUpdateOf,
  eventIdOfChange,
  type IntendedWrite,
  methodEventsOf,
  sameCase,
  snapshotOf,
  writeLanded,
} from './mapping.ts';
import { oneAtATime } from '../../core/concurrency/oneAtATime.ts';

const CASE_UPDATES = Topics.slvCaseUpdates;

export interface PollerOptions {
  caseUpdatesTopic: string;
  intervalMs: number;
}

export interface PollReport {
  updates: number;
  deadLettered: number;
  fullLoad: boolean;
}

export class SlvChangePoller {
  private state: InboundState | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private readonly lock = oneAtATime();
  /** Counts the start and end of every write to SLV. */
  private writes = 0;
  private stopped = false;
  private readonly log: Logger = loggerFor('slv-inbound');
  lastPoll: { at: string; ok: boolean; detail: string } | undefined;
  readonly totals = { updates: 0, deadLettered: 0, fullLoads: 0 };

  constructor(
    private readonly client: SlvClient,
    private readonly producer: ContractProducer,
    private readonly stateFile: InboundStateStore,
    private readonly options: PollerOptions,
  ) {}

  async start(): Promise<void> {
    this.state = await this.exclusive(() => this.stateFile.load());
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pollOnce()
        .then((report) => {
          this.lastPoll = { at: new Date().toISOString(), ok: true, detail: `${report.updates} change(s)` };
        })
        .catch((error: Error) => {
          this.lastPoll = { at: new Date().toISOString(), ok: false, detail: error.message };
          this.log.warn(
            { err: error.message },
            'reading DMP (formerly SLV) changes failed; the same delta link is tried next time',
          );
        })
        .finally(() => this.schedule(this.options.intervalMs));
    }, delayMs);
  }

  /**
   * Runs `work` alone against the known cases: a poll, or a write to SLV with what it read and wrote, so
   * a delta is never judged against a write whose version is not yet recorded.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return this.lock(work);
  }

  private async loaded(): Promise<InboundState> {
    this.state ??= await this.stateFile.load();
    return this.state;
  }

  /**
   * One round: read changes, write them to Kafka, then save the new delta link. The read runs outside
   * `exclusive` (a throttled read must not hold up writes); if one of our writes was sent meanwhile, its
   * version may be in the delta before it is recorded, so the delta is read again (the third time alone).
   */
  async pollOnce(): Promise<PollReport> {
    for (let round = 1; ; round++) {
      const writes = this.writes;
      if (round >= 3) return this.exclusive(async () => this.absorbRead(await this.read()));
      const read = await this.read();
      const report = await this.exclusive(async () =>
        this.writes === writes ? this.absorbRead(read) : undefined,
      );
      if (report) return report;
    }
  }

  /** Around a write to SLV, so a delta read meanwhile is not judged without it. */
  async writing<T>(write: () => Promise<T>): Promise<T> {
    this.writes++;
    try {
      return await write();
    } finally {
      this.writes++;
    }
  }

  /**
   * A case the outbound side read before writing (inside `exclusive`): an SLV edit not yet seen is
   * emitted now, since the delta after our write will show only our version.
   */
  async observe(raw: SlvCase): Promise<void> {
    const state = await this.loaded();
    if (state.deltaLink === null) return; // before the first load there is nothing to compare with
    await this.absorb(state, [raw], [], state.deltaLink, { baselineOnly: false, fullLoad: false });
  }

  /**
   * Before a write to SLV (inside `exclusive`): what it will write, saved, so that after a crash before its
   * answer is recorded a row holding our event id but other values is known as SLV's edit of our write.
   */
  async intendWrite(intended: IntendedWrite): Promise<void> {
    const state = await this.loaded();
    const delta = emptyDelta();
    delta.intendedWrites.set(intended.expected.methodId, intended);
    await this.stateFile.apply(state, delta);
  }

  /**
   * The row our write produced, or a row read back holding it (inside `exclusive`). When it holds the values
   * we wrote, its version is ours, so a delta showing it is an echo; when SLV changed them after our write
   * landed, it is SLV's edit and is emitted against what we wrote.
   */
  async recordOwnWrite(row: SlvCase, eventId: string): Promise<void> {
    const state = await this.loaded();
    const intended = state.intendedWrites?.[row.nm_nyemetoderid];
    const previous = state.cases[row.nm_methodcaseid];
    if (intended?.eventId !== eventId && state.deltaLink !== null) {
      // A redelivery of a write recorded before: a newer row is SLV's edit, judged as any other.
      if (!alreadySeen(previous, row))
        await this.absorb(state, [row], [], state.deltaLink, { baselineOnly: false, fullLoad: false });
      return;
    }
    const delta = emptyDelta();
    delta.intendedWrites.set(row.nm_nyemetoderid, undefined);
    if (
      intended &&
      !sameCase(snapshotOf(row), intended.expected) &&
      !alreadySeen(previous, row) &&
      state.deltaLink !== null
    ) {
      // Judged against what we wrote: the row holds SLV's edit of it.
      delta.cases.set(row.nm_methodcaseid, { ...intended.expected, ownEventId: eventId });
      await this.absorb(state, [row], [], state.deltaLink, { baselineOnly: false, fullLoad: false }, delta);
      return;
    }
    if (!alreadySeen(previous, row)) delta.cases.set(row.nm_methodcaseid, snapshotOf(row, eventId));
    await this.stateFile.apply(state, delta);
  }

  private async read() {
    const state = await this.loaded();
    let fullLoad = state.deltaLink === null;
    let changes: Awaited<ReturnType<SlvClient['changesSince']>>;
    try {
      changes = await this.client.changesSince(state.deltaLink ?? undefined);
    } catch (error) {
      if (!(error instanceof DeltaLinkRefused)) throw error;
      this.log.warn({ reason: error.message }, 'delta link refused; starting again with a full load');
      fullLoad = true;
      changes = await this.client.changesSince(undefined);
    }
    // The very first load only learns what SLV has; later full loads emit what differs from what we knew.
    return { changes, fullLoad, baselineOnly: state.deltaLink === null };
  }

  private async absorbRead({
    changes,
    fullLoad,
    baselineOnly,
  }: Awaited<ReturnType<SlvChangePoller['read']>>): Promise<PollReport> {
    if (fullLoad) this.totals.fullLoads++;
    const state = await this.loaded();
    const report = await this.absorb(state, changes.rows, changes.deletedIds, changes.deltaLink, {
      baselineOnly,
      fullLoad,
    });
    return { ...report, fullLoad };
  }

  /** Turns rows into case updates against what was last seen, writes them to Kafka, then saves the state. */
  private async absorb(
    state: InboundState,
    rows: unknown[],
    deletedIds: string[],
    deltaLink: string,
    { baselineOnly, fullLoad }: { baselineOnly: boolean; fullLoad: boolean },
    delta: StateDelta = emptyDelta(),
  ): Promise<{ updates: number; deadLettered: number }> {
    const updates: SlvCaseUpdate[] = [];
    const malformed: { raw: unknown; reason: string }[] = [];
    for (const raw of rows) {
      const checked = caseFromRow(raw);
      if (!checked.ok) {
        malformed.push({ raw, reason: checked.reason });
        continue;
      }
      const row = checked.row;
      let previous = caseAfter(state, delta, row.nm_methodcaseid);
      const intended = intendedAfter(state, delta, row.nm_nyemetoderid);
      if (intended && !alreadySeen(previous, row) && writeLanded(row, intended)) {
        // A write whose answer was never recorded (a crash in between): ours if it holds our values, else SLV edited it since.
        delta.intendedWrites.set(row.nm_nyemetoderid, undefined);
        if (sameCase(snapshotOf(row), intended.expected)) {
          if (!baselineOnly) updates.push(caseUpdateOf(row, previous, intended.eventId));
          delta.cases.set(row.nm_methodcaseid, snapshotOf(row));
          continue;
        }
        previous = { ...intended.expected, ownEventId: intended.eventId };
      }
      if (alreadySeen(previous, row)) {
        // Our own write, shown back by change tracking: recorded as an echo that confirms it.
        if (previous?.ownEventId && row.versionnumber === previous.version && !baselineOnly) {
          updates.push(caseUpdateOf(row, previous, previous.ownEventId));
          delta.cases.set(row.nm_methodcaseid, { ...previous, ownEventId: null });
        }
        continue;
      }
      delta.cases.set(row.nm_methodcaseid, snapshotOf(row));
      if (baselineOnly) continue;
      if (fullLoad && previous && sameCase(previous, snapshotOf(row))) continue;
      const update = caseUpdateOf(row, previous);
      // A row whose text the hub's contracts cannot carry waits on the DLQ; the other rows go on.
      const refusal = contractRefusal(CASE_UPDATES, update);
      if (refusal) malformed.push({ raw, reason: `the case update ${refusal}` });
      else updates.push(update);
    }
    for (const id of deletedIds) delta.cases.set(id, undefined);
    await this.producer.send(
      CASE_UPDATES,
      updates.map((update) => ({
        key: update.methodId,
        value: update,
        headers: newHeaders({
          id: eventIdOfChange(`case-update:${update.changeId}`),
          source: '/metodehub/slv',
          type: `no.nyemetoder.slv.${update.kind}`,
          subject: update.methodId,
          time: update.changedAt,
        }),
      })),
      { to: this.options.caseUpdatesTopic },
    );
    if (malformed.length > 0) await this.deadLetterRows(malformed);
    delta.deltaLink = deltaLink;
    await this.stateFile.apply(state, delta);
    this.totals.updates += updates.length;
    this.totals.deadLettered += malformed.length;
    return { updates: updates.length, deadLettered: malformed.length };
  }

  /** Rows that are not a case as we know it: kept, as SLV sent them, with the reason, on the dead-letter topic. */
  private async deadLetterRows(rows: { raw: unknown; reason: string }[]): Promise<void> {
    await this.producer.sendRaw(
      dlqTopicOf(this.options.caseUpdatesTopic),
      rows.map(({ raw, reason }) => {
        const record = (raw ?? {}) as Record<string, unknown>;
        this.log.warn({ reason }, 'malformed DMP (formerly SLV) row sent to the dead-letter topic');
        return {
          key: typeof record.nm_nyemetoderid === 'string' ? record.nm_nyemetoderid : null,
          value: Buffer.from(JSON.stringify(raw), 'utf8'),
          headers: {
            'content-type': 'application/json',
            [DLQ_HEADERS.errorClass]: 'PARTNER_REJECTED',
            [DLQ_HEADERS.reason]: reason,
            [DLQ_HEADERS.sourceTopic]: 'slv:nm_methodcases (change tracking)',
            [DLQ_HEADERS.sourcePartition]: '-1',
            [DLQ_HEADERS.sourceOffset]: '-1',
            [DLQ_HEADERS.time]: new Date().toISOString(),
            [DLQ_HEADERS.handler]: 'slv-inbound',
          },
        };
      }),
    );
  }
}

export interface MapperOptions {
  caseUpdatesTopic: string;
  eventsTopic: string;
  groupId: string;
  bus: BusPolicy;
  /** DMP's retry waits (SLV_RETRY_*): the outbound's writes wait on what this runner folds. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export class SlvCaseUpdateMapper {
  readonly runner: ConsumerRunner<SlvCaseUpdate>;
  readonly totals = { emitted: 0, echoes: 0, duplicates: 0, none: 0 };

  constructor(
    kafka: Kafka,
    registry: ContractRegistry,
    private readonly producer: ContractProducer,
    private readonly store: MethodStore,
    private readonly exchanges: ExchangeLog,
    private readonly options: MapperOptions,
  ) {
    this.runner = new ConsumerRunner<SlvCaseUpdate>(kafka, registry, producer, {
      name: 'slv-case-updates',
      groupId: options.groupId,
      topics: [options.caseUpdatesTopic],
      bus: options.bus,
      retryBaseMs: options.retryBaseMs,
      retryMaxMs: options.retryMaxMs,
      handle: (delivery) => this.handle(delivery),
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async handle({ value: update, headers, log }: Delivery<SlvCaseUpdate>): Promise<void> {
    const mapped = methodEventsOf(update, this.store.ledger(update.methodId)?.current);
    if (mapped.outcome === 'refused') {
      this.exchanges.settleInbound(update.methodId, update.changeId, `refused: ${mapped.reason}`);
      throw new PermanentError('DOMAIN_RULE', mapped.reason);
    }
    if (mapped.outcome === 'none') {
      if (update.originEventId) this.totals.echoes++;
      else this.totals.none++;
      this.exchanges.settleInbound(update.methodId, update.changeId, mapped.why);
      return;
    }
    // A replayed change: its events are in the log already.
    const unseen = mapped.events.filter((e) => this.store.settlementOf(e.eventId)?.outcome !== 'applied');
    this.totals.duplicates += mapped.events.length - unseen.length;
    if (unseen.length === 0) return;
    // SLV stamps changes to the second; one seen after a later-stamped event of ours is not older than it.
    const lastApplied = this.store.ledger(update.methodId)?.current?.updatedAt;
    const events = unseen.map((e) =>
      lastApplied && Date.parse(e.occurredAt) < Date.parse(lastApplied)
        ? { ...e, occurredAt: lastApplied }
        : e,
    );
    const verdicts = this.store.judgeBatch(events);
    const refused = verdicts.flatMap((v, i) =>
      v.outcome === 'rejected' ? [`${events[i]!.type}: ${describeErrors(v.errors)}`] : [],
    );
    if (refused.length > 0) {
      const reason = `SLV change ${update.changeId} (${update.kind}, status ${JSON.stringify(update.slvStatus)}) of ${update.methodId}: ${refused.join('; ')}`;
      this.exchanges.settleInbound(update.methodId, update.changeId, `refused: ${reason}`);
      throw new PermanentError('DOMAIN_RULE', reason);
    }
    const fresh = events.filter((_, i) => verdicts[i]!.outcome === 'applied');
    this.totals.duplicates += events.length - fresh.length;
    if (fresh.length === 0) return;
    await this.producer.send(
      Topics.methodEvents,
      fresh.map((event) => ({
        key: event.methodId,
        value: event,
        headers: causedBy(headers, {
          id: event.eventId,
          source: '/metodehub/slv',
          type: `no.nyemetoder.method.${event.type}`,
          subject: event.methodId,
        }),
      })),
      { to: this.options.eventsTopic },
    );
    this.totals.emitted += fresh.length;
    const outcome = fresh.map((e) => `${e.type} ${e.eventId}`).join(', ');
    this.exchanges.settleInbound(update.methodId, update.changeId, outcome);
    log.info(
      { methodId: update.methodId, events: fresh.map((e) => e.type) },
      'DMP (formerly SLV) change emitted as method events',
    );
    // The next change of this method is judged against these.
    if (
      !(await this.store.whenSettled(
        fresh.map((e) => e.eventId),
        30_000,
      ))
    ) {
      log.warn({ methodId: update.methodId }, 'the read model did not fold the emitted events in 30 s');
    }
  }
}

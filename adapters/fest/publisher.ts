/**
 * Method state -> `fest.vilkar.v1`. Restores the catalogue from its own compacted topic first (so versions
 * go on where they stopped and nothing unchanged is published again), then follows
 * `nyemetoder.method-state.v1` and publishes a new version of a condition only when what a vendor sees
 * changes. One publisher per deployment: it is the single writer of catalogue versions, so with several
 * instances only the leader of the `fest` role publishes (`lead()`); the others follow the catalogue and stand by.
 */
import { backoff } from '../../core/retry/backoff.ts';
import type { FestVilkar, MethodState } from '../../contracts/generated/types.ts';
import { guardOutbound, withoutConfidential } from '../../core/bus/confidential.ts';
import { ConfidentialLeak, TransientError } from '../../core/bus/errors.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { renderedAgain, withhold } from '../../core/bus/withheld.ts';
import type { HubContext } from '../../core/hub/component.ts';
import { loggerFor } from '../../core/log/logger.ts';
import type { VilkarCatalogue } from './catalogue.ts';
import { entryOf } from './changeRule.ts';
import {
  draftOf,
  festVilkarFor,
  type MappingOptions,
  sameVilkar,
  type VilkarDraft,
  withdrawnVilkar,
} from './mapping.ts';
import { Topics } from '../../contracts/topics.ts';

const STATE_TOPIC = Topics.methodState;
const VILKAR_TOPIC = Topics.festVilkar;
const log = loggerFor('fest-publisher');
/** Conditions per catalogue batch: one send, well under the broker's 1 MB message.max.bytes. */
const PUBLISH_SLICE = 200;

export class VilkarPublisher {
  private catalogueFollower: TopicFollower<FestVilkar> | undefined;
  private stateFollower: TopicFollower<MethodState> | undefined;
  private readonly pending = new Map<string, MethodState>();
  private draining: Promise<void> | undefined;
  /** A send failed: it may have written its batch all the same, so the topic is read to its end before the next. */
  private unsure = false;
  private stopped = false;
  /** Conditions the trust-boundary guard refused, and the last failure to publish. */
  refused = 0;
  lastError: string | undefined;

  constructor(
    private readonly context: HubContext,
    private readonly catalogue: VilkarCatalogue,
    private readonly mapping: MappingOptions,
  ) {}

  /** Set once the method state that existed at start has been read (then drafts are published). */
  private live = false;
  /** Whether this instance writes catalogue versions (the `fest` leader); until then states only wait in `pending`. */
  private publishing = true;
  /** Whether this instance knows yet if it leads (until then it is not caught up: the leader may be itself). */
  private decided = true;
  private initialPublished = false;

  /** Whether the catalogue reflects all method state that existed at start. */
  get caughtUp(): boolean {
    return this.initialPublished;
  }

  /** Reads the catalogue, then follows method state; after a start that threw, `start` may be called again. */
  async start(timeoutMs = 120_000): Promise<void> {
    this.stopped = false;
    try {
      await this.follow(timeoutMs);
    } catch (error) {
      await this.stopFollowers();
      throw error;
    }
  }

  private async follow(timeoutMs: number): Promise<void> {
    const { kafka, registry } = this.context;
    this.catalogueFollower = new TopicFollower<FestVilkar>(kafka, registry, {
      name: 'fest-catalogue',
      topic: this.context.topic(VILKAR_TOPIC),
      onMessage: (entry) => this.catalogue.offer(entry),
    });
    await this.catalogueFollower.start();
    if (!(await this.catalogueFollower.waitUntilCaughtUp(timeoutMs)))
      throw new TransientError(
        `fest: could not read ${this.context.topic(VILKAR_TOPIC)} to its end in ${timeoutMs} ms`,
      );
    this.stateFollower = new TopicFollower<MethodState>(kafka, registry, {
      name: 'fest-method-state',
      topic: this.context.topic(STATE_TOPIC),
      onMessage: (state) => {
        this.pending.set(state.methodId, state);
        // While restoring, only the latest state of each method counts: older ones would publish stale versions.
        if (this.live) this.drainSoon();
      },
    });
    await this.stateFollower.start();
    void this.goLiveWhenCaughtUp(this.stateFollower);
  }

  private async goLiveWhenCaughtUp(follower: TopicFollower<MethodState>): Promise<void> {
    const current = () => !this.stopped && follower === this.stateFollower;
    while (current() && !(await follower.waitUntilCaughtUp(5_000)));
    if (!current()) return;
    this.live = true;
    if (this.publishing) this.drainSoon();
    else if (this.decided) this.initialPublished = true; // the leader publishes; this catalogue is what it wrote
  }

  /** Publishes nothing until told whether this instance leads (`lead` or `standBy`). */
  hold(): void {
    this.publishing = false;
    this.decided = false;
  }

  /** Stops writing catalogue versions (another instance leads); a batch under way is finished first. */
  async standBy(): Promise<void> {
    this.publishing = false;
    this.decided = true;
    await this.draining?.catch(() => undefined);
    if (this.live) this.initialPublished = true;
  }

  /** Writes catalogue versions from now on, after reading what the last leader wrote to its end. */
  async lead(timeoutMs = 60_000): Promise<void> {
    if (this.catalogueFollower && !(await this.catalogueFollower.reachEnd(timeoutMs)))
      throw new Error(
        `fest: could not read ${this.context.topic(VILKAR_TOPIC)} to its end in ${timeoutMs} ms`,
      );
    this.publishing = true;
    this.decided = true;
    if (this.live) this.drainSoon();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stopFollowers();
    await this.draining?.catch(() => undefined);
  }

  private async stopFollowers(): Promise<void> {
    await this.stateFollower?.stop().catch(() => undefined);
    await this.catalogueFollower?.stop().catch(() => undefined);
    this.stateFollower = undefined;
    this.catalogueFollower = undefined;
  }

  private drainSoon(): void {
    if (this.draining || !this.publishing) return;
    this.draining = (async () => {
      let failures = 0;
      while (this.pending.size > 0 && !this.stopped && this.publishing) {
        // In slices: a whole catalogue in one request (8,000 conditions at start) is refused by the broker as larger
        // than its max message size, and was tried again for ever, so nothing was published at all.
        const states: MethodState[] = [];
        for (const state of this.pending.values()) {
          states.push(state);
          if (states.length >= PUBLISH_SLICE) break;
        }
        for (const state of states) this.pending.delete(state.methodId);
        try {
          await this.publish(states);
          failures = 0;
        } catch (error) {
          // Kafka or the registry away: keep the states (newer ones win) and try again. The send may still have
          // written the batch (its answer lost with the broker), so its catalogue versions are not free.
          this.unsure = true;
          for (const s of states) if (!this.pending.has(s.methodId)) this.pending.set(s.methodId, s);
          this.lastError = (error as Error).message;
          failures++;
          log.warn({ err: this.lastError, failures }, 'could not publish conditions; retrying');
          await new Promise((r) => setTimeout(r, backoff(failures + 1, 200, 30_000)));
        }
      }
    })().finally(() => {
      this.draining = undefined;
      if (this.live) this.initialPublished = true;
      if (this.pending.size > 0 && !this.stopped && this.publishing) this.drainSoon();
    });
  }

  /** The changes these states make to the catalogue, published as one batch with consecutive versions. */
  private async publish(states: MethodState[]): Promise<void> {
    // After a send whose outcome is unknown, what it may have written is read first: numbering the retry from the
    // old version would give a method's newer condition a lower catalogueVersion than the older one it follows, so
    // the older would win for every reader (seen once in the broker-outage fault test: INNFORT lost to UNDER_VURDERING).
    if (this.unsure) {
      if (!(await this.catalogueFollower?.reachEnd(30_000)))
        throw new TransientError(`fest: could not read ${this.context.topic(VILKAR_TOPIC)} to its end`);
      this.unsure = false;
    }
    // Never earlier than what is published: incremental extracts are asked for by time.
    const nowMs = Math.max(Date.now(), this.catalogue.latestChangedAt);
    const now = new Date(nowMs).toISOString();
    let version = this.catalogue.version;
    let vilkarNr = this.catalogue.highestVilkarNr;
    const changed: FestVilkar[] = [];
    for (const state of states) {
      const draft = this.changeFor(state);
      if (!draft) continue;
      const known = this.catalogue.get(draft.vilkarId);
      const entry = entryOf(draft, known, now, version + 1, known?.vilkarNr ?? vilkarNr + 1);
      // One condition that cannot go out (the guard, or outside the contract) is left out; the rest are published.
      const refusal = this.refusalOf(entry, state);
      if (refusal) {
        this.refused++;
        withhold(VILKAR_TOPIC, state.methodId, refusal);
        continue;
      }
      version++;
      if (entry.vilkarNr !== null && entry.vilkarNr > vilkarNr) vilkarNr = entry.vilkarNr;
      renderedAgain(VILKAR_TOPIC, state.methodId);
      changed.push(entry);
    }
    if (changed.length === 0) return;
    this.catalogue.publishingSince = nowMs;
    try {
      await this.context.producer.send(
        VILKAR_TOPIC,
        changed.map((entry) => ({
          key: entry.vilkarId,
          value: entry,
          headers: newHeaders({
            source: '/metodehub/fest',
            type: 'no.nyemetoder.fest.vilkar',
            subject: entry.vilkarId,
          }),
        })),
        { to: this.context.topic(VILKAR_TOPIC) },
      );
      for (const entry of changed) this.catalogue.offer(entry);
    } finally {
      this.catalogue.publishingSince = undefined;
    }
    this.lastError = undefined;
    log.info({ count: changed.length, version }, 'published conditions');
  }

  private refusalOf(entry: FestVilkar, state: MethodState): string | null {
    try {
      guardOutbound(VILKAR_TOPIC, entry, {
        outputTopic: VILKAR_TOPIC,
        sources: [{ topic: STATE_TOPIC, value: state }],
      });
    } catch (error) {
      if (error instanceof ConfidentialLeak) return error.message;
      throw error;
    }
    return this.context.registry.refusalOf(this.context.topic(VILKAR_TOPIC), entry)?.message ?? null;
  }

  /** The new draft for a method, or undefined when vendors would see no difference. */
  private changeFor(state: MethodState): VilkarDraft | undefined {
    const draft = festVilkarFor(withoutConfidential(STATE_TOPIC, state), this.mapping);
    const vilkarId = draft?.vilkarId ?? `NM-${state.methodId}`;
    const known = this.catalogue.get(vilkarId);
    if (!draft) return known && !known.withdrawn ? withdrawnVilkar(known) : undefined;
    if (known && sameVilkar(draftOf(known), draft)) return undefined;
    return draft;
  }
}

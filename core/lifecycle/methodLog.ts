/**
 * The event log folded once per process. One follower reads `nyemetoder.method-events.v1` from its first offset,
 * the state machine folds each event into one `MethodStore`, and every part that needs method state shares the two:
 * the API's read model, the case-event door, and the adapters that keep something of their own beside it (SLV's
 * exchanges, financing's decisions). Those subscribe a listener, which is called with each event as it is folded:
 * the state before it and the verdict on it. Each adapter keeps its own consumer group for its effects; this is only
 * what it knows.
 *
 * A listener subscribed before the log starts is fed by the shared follower. One subscribed later (an adapter made
 * again in a running process) would have missed what was read before it, so it gets a follower and a fold of its
 * own that read the log from its start, as a restarted process would.
 */
import type { Kafka } from 'kafkajs';
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import type { ContractRegistry } from '../bus/registry.ts';
import { type Position, TopicFollower } from '../bus/topicFollower.ts';
import { type Logger, loggerFor } from '../log/logger.ts';
import type { Verdict } from './ledger.ts';
import { MethodStore } from './methodStore.ts';

/** One event as the fold took it. */
export interface FoldedEvent {
  event: MethodEvent;
  position: Position;
  /** The method's state before the event (undefined: not registered yet). */
  before: MethodState | undefined;
  verdict: Verdict;
}

export type FoldListener = (folded: FoldedEvent) => void;

/** How far a reader of the log has read it, and a way to wait for more. */
export interface MethodLogReader {
  /** The fold the reader's listener is fed from: state as of the last event it was given. */
  readonly store: MethodStore;
  /** Whether everything in the log when the reading started is folded. */
  readonly caughtUp: boolean;
  /** Starts the reading if it has not started (shared: every caller joins the one start); may be called again after a throw. */
  start(): Promise<void>;
  /** Stops a reading of the subscriber's own; the shared one is stopped by its owner (the hub). */
  stop(): Promise<void>;
  /** Waits until the record at `offset` of `partition` has been folded; false on timeout. */
  waitUntilRead(partition: number, offset: bigint, timeoutMs: number): Promise<boolean>;
  /** Waits until everything in the log when the reading started is folded; false on timeout. */
  waitUntilCaughtUp(timeoutMs: number): Promise<boolean>;
  /** Reads on to the log's end now; false if Kafka does not answer or the read does not get there in time. */
  reachEnd(timeoutMs: number): Promise<boolean>;
}

/** Feeds `listener` from `store`'s fold of every message `follower` reads. */
function folding(store: MethodStore, log: Logger, listeners: () => Iterable<FoldListener>) {
  return (event: MethodEvent, position: Position) => {
    const before = store.ledger(event.methodId)?.current ?? undefined;
    const verdict = store.offer(event, position);
    for (const listener of listeners()) {
      try {
        listener({ event, position, before, verdict });
      } catch (error) {
        // One subscriber's failure on one event must not keep the others (or the fold) from it.
        log.error(
          { partition: position.partition, offset: position.offset, err: (error as Error).message },
          'a subscriber could not take a folded event; it goes on with the next',
        );
      }
    }
  };
}

/**
 * One follower of the log and the fold it feeds: started once for every caller (a start that threw may be asked
 * again), and asked how far it has read.
 */
class Reading implements MethodLogReader {
  readonly store = new MethodStore();
  private readonly follower: TopicFollower<MethodEvent>;
  private starting: Promise<void> | undefined;
  /** Once a start was asked for, the reading may have read something, even if that start later threw. */
  private asked = false;

  constructor(
    kafka: Kafka,
    registry: ContractRegistry,
    topic: string,
    name: string,
    listeners: Set<FoldListener>,
  ) {
    this.follower = new TopicFollower<MethodEvent>(kafka, registry, {
      name,
      topic,
      onMessage: folding(this.store, loggerFor(name), () => listeners),
    });
  }

  get begun(): boolean {
    return this.asked;
  }

  get caughtUp(): boolean {
    return this.follower.caughtUp;
  }

  start(): Promise<void> {
    this.asked = true;
    if (!this.starting) {
      this.starting = this.follower.start().catch((error: unknown) => {
        this.starting = undefined;
        throw error;
      });
    }
    return this.starting;
  }

  async stop(): Promise<void> {
    const starting = this.starting;
    this.starting = undefined;
    await starting?.catch(() => undefined);
    await this.follower.stop();
  }

  waitUntilRead(partition: number, offset: bigint, timeoutMs: number): Promise<boolean> {
    return this.follower.waitUntilRead(partition, offset, timeoutMs);
  }

  waitUntilCaughtUp(timeoutMs: number): Promise<boolean> {
    return this.follower.waitUntilCaughtUp(timeoutMs);
  }

  reachEnd(timeoutMs: number): Promise<boolean> {
    return this.follower.reachEnd(timeoutMs);
  }
}

/** The shared reading: the one every part of the hub subscribes to. */
export class MethodLog extends Reading {
  private readonly listeners: Set<FoldListener>;
  private readonly own = new Set<Reading>();

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
    private readonly topic: string,
  ) {
    const listeners = new Set<FoldListener>();
    super(kafka, registry, topic, 'method-log', listeners);
    this.listeners = listeners;
  }

  /**
   * Calls `listener` with every event of the log, in log order per partition. Subscribed before the shared reading
   * starts, it is fed by that reading (the reader returned is this log); later, by a reading of its own from the start.
   */
  subscribe(name: string, listener: FoldListener): MethodLogReader {
    if (!this.begun) {
      this.listeners.add(listener);
      return this;
    }
    const reading = new Reading(this.kafka, this.registry, this.topic, name, new Set([listener]));
    this.own.add(reading);
    return reading;
  }

  /** A subscriber's stop leaves the shared reading on: the others still read by it. */
  override async stop(): Promise<void> {}

  /** Stops the shared reading and every subscriber's own: the hub's, when it stops. */
  async close(): Promise<void> {
    await Promise.all([...this.own].map((reading) => reading.stop()));
    this.own.clear();
    await super.stop();
  }
}

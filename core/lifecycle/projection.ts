/**
 * The method-state projection: folds `nyemetoder.method-events.v1` into `nyemetoder.method-state.v1`.
 * One consumer group shares the partitions between instances. Its state is restored from the compacted
 * state topic whenever partitions are (re)assigned, so an instance that takes over a partition starts
 * from what the previous owner wrote. Per batch it writes the latest state of each method touched and a
 * dead letter for every event the state machine refuses, then commits; if writing fails, the batch's
 * changes are rolled back and the batch is read again.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { dlqTopicOf, Topics } from '../../contracts/topics.ts';
import { deadLetterOf, ensureDeadLetterTopics, isForConsumer } from '../bus/deadLetter.ts';
import { PermanentError, TransientError } from '../bus/errors.ts';
import { causedBy, fromKafkaHeaders } from '../bus/headers.ts';
import type { ContractProducer } from '../bus/producer.ts';
import { type ContractRegistry, type MessageAt, placeToShare } from '../bus/registry.ts';
import { TopicFollower } from '../bus/topicFollower.ts';
import { type Logger, loggerFor } from '../log/logger.ts';
import { messagesDeadLettered, messagesDuplicate, messagesIn } from '../metrics/registry.ts';
import { describeErrors } from './errors.ts';
import { verdictOn } from './ledger.ts';
import { LaterCommits } from '../bus/laterCommits.ts';
import type { ComponentHealth } from '../hub/component.ts';

export interface ProjectionOptions {
  /** Physical topic of the method events (aliased to the declared one in tests). */
  eventsTopic: string;
  stateTopic: string;
  groupId: string;
  /** How long to wait for the state topic to be read back when restoring (ms). */
  restoreTimeoutMs?: number;
  /** Partitions folded at once (BUS_PARTITIONS_CONCURRENTLY); a method's events share one, so order is kept. */
  partitionsConcurrently?: number;
  /** How long after its states are written a batch's offset is committed (BUS_COMMIT_DELAY_MS; 0 at once). */
  commitDelayMs?: number;
}

export interface ProjectionCounts {
  applied: number;
  duplicate: number;
  rejected: number;
  statesWritten: number;
  restores: number;
}

const HANDLER = 'method-state-projection';

/** A projection whose batches have failed this long, with none done since, is reported as stuck in health. */
const STUCK_AFTER_MS = 60_000;

export class MethodStateProjection {
  readonly states = new Map<string, MethodState>();
  readonly counts: ProjectionCounts = {
    applied: 0,
    duplicate: 0,
    rejected: 0,
    statesWritten: 0,
    restores: 0,
  };
  private consumer: Consumer | undefined;
  private commits: LaterCommits | undefined;
  private stopping = false;
  private restored = false;
  /** For health: when a batch was last done, and since when (and why) batches fail with none done since. */
  private lastBatchAt: number | undefined;
  private failing: { since: number; reason: string; attempts: number } | undefined;
  /** When the restore under way began: a restore that hangs shows in health before it times out. */
  private restoringSince: number | undefined;
  /** The restore under way: the partitions folded at once share it. */
  private restoring: Promise<void> | undefined;
  private readonly log: Logger = loggerFor(HANDLER);
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
    private readonly producer: ContractProducer,
    private readonly options: ProjectionOptions,
  ) {}

  async start(): Promise<void> {
    await ensureDeadLetterTopics(this.kafka, [this.options.eventsTopic]);
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      maxBytes: 50 * 1024 * 1024,
    });
    this.consumer = consumer;
    this.stopping = false;
    const commits = new LaterCommits(consumer, this.options.commitDelayMs ?? 0, this.log);
    this.commits = commits;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.restored = false; // partitions may have moved: what others wrote since must be read back
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.eventsTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false, // committed by LaterCommits once each batch's states are written
      eachBatchAutoResolve: false,
      // Each partition's batch writes and commits on its own, so one partition's round trips do not hold the others.
      partitionsConsumedConcurrently: this.options.partitionsConcurrently ?? 1,
      eachBatch: (payload) => commits.track(this.observed(this.eachBatch(payload))),
    });
  }

  /** What an operator needs to know: how far it got, and a failure that keeps coming back (a restore included). */
  health(): ComponentHealth {
    const { applied, statesWritten, restores } = this.counts;
    const done = `${applied} event(s) applied, ${statesWritten} state(s) written, ${restores} restore(s)`;
    const last =
      this.lastBatchAt === undefined
        ? 'no batch yet'
        : `last batch ${new Date(this.lastBatchAt).toISOString()}`;
    const restoring =
      this.restoringSince === undefined
        ? ''
        : `; reading ${this.options.stateTopic} back since ${new Date(this.restoringSince).toISOString()}`;
    if (!this.failing) return { ok: true, detail: `${done}; ${last}${restoring}` };
    const { since, reason, attempts } = this.failing;
    return {
      ok: Date.now() - since < STUCK_AFTER_MS,
      detail: `${done}; ${last}${restoring}; batches failing since ${new Date(since).toISOString()} (${attempts} attempt(s), read again by kafkajs): ${reason}`,
    };
  }

  private async observed(batch: Promise<void>): Promise<void> {
    try {
      await batch;
      this.lastBatchAt = Date.now();
      this.failing = undefined;
    } catch (error) {
      const reason = (error as Error).message;
      this.failing = {
        since: this.failing?.since ?? Date.now(),
        reason,
        attempts: (this.failing?.attempts ?? 0) + 1,
      };
      this.log.warn(
        { err: reason, attempts: this.failing.attempts },
        'a batch failed; kafkajs reads it again',
      );
      throw error;
    }
  }

  /** Finishes the batches at hand, commits what is written, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    const consumer = this.consumer;
    this.consumer = undefined;
    await this.commits?.finish();
    this.commits = undefined;
    await consumer?.disconnect();
  }

  /** Reads the compacted state topic to its end: the latest state of every method. */
  async restore(): Promise<void> {
    const started = Date.now();
    const states = new Map<string, MethodState>();
    const follower = new TopicFollower<MethodState>(this.kafka, this.registry, {
      name: `${HANDLER}-restore`,
      topic: this.options.stateTopic,
      onMessage: (state) => states.set(state.methodId, state),
    });
    const ends = await follower.endOffsets();
    if ([...ends.values()].every((end) => end === 0n)) return this.restoredAs(states, started);
    await follower.start();
    try {
      const done = await follower.waitUntilCaughtUp(this.options.restoreTimeoutMs ?? 120_000);
      if (!done) throw new TransientError(`could not read ${this.options.stateTopic} to its end`);
    } finally {
      await follower.stop();
    }
    this.restoredAs(states, started);
  }

  private restoredAs(states: Map<string, MethodState>, started: number): void {
    this.states.clear();
    for (const [id, state] of states) this.states.set(id, state);
    this.counts.restores++;
    this.restored = true;
    this.log.info({ methods: states.size, ms: Date.now() - started }, 'restored method states');
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    if (!this.restored) {
      if (!this.restoring) {
        this.restoringSince = Date.now();
        this.restoring = this.restore().finally(() => {
          this.restoring = undefined;
          this.restoringSince = undefined;
        });
      }
      await this.restoring;
    }
    const before = new Map<string, MethodState | undefined>();
    const written = new Map<string, { state: MethodState; cause: KafkaMessage }>();
    const deadLetters: ReturnType<typeof deadLetterOf>[] = [];
    let last: string | undefined;
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || this.stopping) break;
        messagesIn.inc({ topic: batch.topic, handler: HANDLER });
        const problem = await this.fold(placeToShare(batch, message.offset), message, before, written);
        if (problem) {
          deadLetters.push(
            deadLetterOf(message, {
              sourceTopic: batch.topic,
              partition: batch.partition,
              offset: message.offset,
              errorClass: problem.errorClass,
              reason: problem.reason,
              handler: HANDLER,
            }),
          );
          messagesDeadLettered.inc({ topic: batch.topic, handler: HANDLER, error_class: problem.errorClass });
          this.log.warn({ offset: message.offset, ...problem }, 'sent to the dead-letter topic');
        }
        last = message.offset;
      }
      await this.write(written, deadLetters, batch.topic);
    } catch (error) {
      for (const [id, state] of before) {
        if (state) this.states.set(id, state);
        else this.states.delete(id);
      }
      throw error; // kafkajs reads the batch again from the last commit
    }
    await this.commits?.handled(payload, last);
    await heartbeat();
    for (const wake of this.idle) wake();
  }

  /** Folds one message; returns why it goes to the dead-letter topic, or nothing. */
  private async fold(
    at: MessageAt | undefined,
    message: KafkaMessage,
    before: Map<string, MethodState | undefined>,
    written: Map<string, { state: MethodState; cause: KafkaMessage }>,
  ): Promise<{ errorClass: string; reason: string } | undefined> {
    // A copy redriven for another consumer: this projection folded the original already.
    if (!isForConsumer(message.headers, HANDLER)) return undefined;
    let event: MethodEvent;
    try {
      event = (await this.registry.decode<MethodEvent>(this.options.eventsTopic, message.value, at)).value;
    } catch (error) {
      if (error instanceof PermanentError) return { errorClass: error.errorClass, reason: error.reason };
      throw error;
    }
    const current = this.states.get(event.methodId);
    const verdict = verdictOn(current, event);
    if (verdict.outcome === 'duplicate') {
      this.counts.duplicate++;
      messagesDuplicate.inc({ topic: this.options.eventsTopic, handler: HANDLER });
      return undefined;
    }
    if (verdict.outcome === 'rejected') {
      this.counts.rejected++;
      return { errorClass: 'DOMAIN_RULE', reason: describeErrors(verdict.errors) };
    }
    if (!before.has(event.methodId)) before.set(event.methodId, current);
    this.states.set(event.methodId, verdict.state);
    written.set(event.methodId, { state: verdict.state, cause: message });
    this.counts.applied++;
    return undefined;
  }

  private async write(
    written: Map<string, { state: MethodState; cause: KafkaMessage }>,
    deadLetters: ReturnType<typeof deadLetterOf>[],
    sourceTopic: string,
  ): Promise<void> {
    if (written.size > 0) {
      await this.producer.send(
        Topics.methodState,
        [...written.values()].map(({ state, cause }) => ({
          key: state.methodId,
          value: state,
          headers: causedBy(fromKafkaHeaders(cause.headers, state.lastEventId), {
            source: '/metodehub/method-state-projection',
            type: 'no.nyemetoder.method.state',
            subject: state.methodId,
          }),
        })),
        { to: this.options.stateTopic },
      );
      this.counts.statesWritten += written.size;
    }
    if (deadLetters.length > 0) await this.producer.sendRaw(dlqTopicOf(sourceTopic), deadLetters);
  }

  /** Resolves after the next batch is done (for benchmarks and tests that wait for the projection). */
  nextBatch(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.idle.delete(wake);
        resolve();
      };
      this.idle.add(wake);
    });
  }
}

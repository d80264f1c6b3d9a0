/**
 * The consumer runner: decodes each message into its topic's contract and hands it to one handler.
 * - a failure known to pass (broker, network, a partner's 5xx or 429, a component not caught up; see
 *   `transientCause`) is retried with jittered exponential backoff, in place, so one method's events keep
 *   their order, until its budget (attempts or time) runs out;
 * - anything else (undecodable, unknown schema, a contract or domain rule broken, a trust-boundary refusal, a
 *   handler failure not known to pass) and an exhausted transient go to `<topic>.dlq` with the original bytes,
 *   the consumer's name and the reason, and the partition moves on;
 * - while it retries, the runner says so (`trouble`), for health and the dashboard;
 * - a redelivered event id is dropped; shutdown finishes the message at hand and commits what is done.
 */
import { backoff } from '../retry/backoff.ts';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { dlqTopicOf } from '../../contracts/topics.ts';
import type { Config } from '../config/spec.ts';
import { type Logger, loggerFor } from '../log/logger.ts';
import {
  consumerLag,
  messagesDeadLettered,
  messagesDuplicate,
  messagesFailed,
  messagesIn,
  processingSeconds,
} from '../metrics/registry.ts';
import { deadLetterOf, ensureDeadLetterTopics, isForConsumer } from './deadLetter.ts';
import {
  ConfidentialLeak,
  PermanentError,
  type PermanentErrorClass,
  RetryLater,
  transientCause,
} from './errors.ts';
import { type EventHeaders, fromKafkaHeaders } from './headers.ts';
import { ProcessedIds } from './idempotency.ts';
import { LaterCommits } from './laterCommits.ts';
import { namingResource } from './kafka.ts';
import type { ContractProducer } from './producer.ts';
import { type ContractRegistry, type MessageAt, placeToShare } from './registry.ts';

export interface Delivery<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  schemaId: number;
  headers: EventHeaders;
  log: Logger;
}

export interface RunnerOptions<T> {
  /** Name of the handler: in logs, metrics and dead letters. */
  name: string;
  groupId: string;
  topics: string[];
  handle: (delivery: Delivery<T>) => Promise<void>;
  fromBeginning?: boolean;
  /** The hub's BUS_* settings (`busPolicyOf(config)`): every runner is given them. */
  bus: BusPolicy;
  /** Attempts for a transient failure before it is dead-lettered; Infinity (default): the time budget decides. */
  maxTransientAttempts?: number;
  /** A partner's own retry waits (SLV_RETRY_*, ...), in place of the bus's, where the runner delivers to it. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** How a runner retries, what it remembers and how many partitions it handles at once: the BUS_* settings. */
export interface BusPolicy {
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long one message may be retried for a transient failure before it is dead-lettered. */
  transientBudgetMs: number;
  /** How many processed event ids the runner remembers to drop redeliveries. */
  idempotencyWindow: number;
  /** Partitions handled at once (kafkajs partitionsConsumedConcurrently); order within each is kept. */
  partitionsConcurrently: number;
  /** How long after its effect a message's offset is committed, with the others done meanwhile (LaterCommits). */
  commitDelayMs: number;
}

export const busPolicyOf = (
  config: Pick<
    Config,
    | 'BUS_RETRY_BASE_MS'
    | 'BUS_RETRY_MAX_MS'
    | 'BUS_TRANSIENT_BUDGET_MS'
    | 'BUS_IDEMPOTENCY_WINDOW'
    | 'BUS_PARTITIONS_CONCURRENTLY'
    | 'BUS_COMMIT_DELAY_MS'
  >,
): BusPolicy => ({
  retryBaseMs: config.BUS_RETRY_BASE_MS,
  retryMaxMs: config.BUS_RETRY_MAX_MS,
  transientBudgetMs: config.BUS_TRANSIENT_BUDGET_MS,
  idempotencyWindow: config.BUS_IDEMPOTENCY_WINDOW,
  partitionsConcurrently: config.BUS_PARTITIONS_CONCURRENTLY,
  commitDelayMs: config.BUS_COMMIT_DELAY_MS,
});

/** What one running runner reads and the policy it runs with: for health, the operations view and tests. */
export interface RunnerDescription extends BusPolicy {
  runner: string;
  groupId: string;
  topics: string[];
}

export interface DeadLetteredEvent {
  topic: string;
  partition: number;
  offset: string;
  errorClass: string;
  reason: string;
}

/** A runner that is retrying a message now: what health and the dashboard show. */
export interface RunnerTrouble {
  runner: string;
  topic: string;
  partition: number;
  offset: string;
  attempt: number;
  since: string;
  reason: string;
}

const running = new Set<ConsumerRunner<unknown>>();

/** Every runner of this process, with the policy it runs with. */
export function runningRunners(): RunnerDescription[] {
  return [...running].map((r) => r.description);
}

/** Every runner of this process that is retrying a message now. */
export function runnersInTrouble(): RunnerTrouble[] {
  return [...running].flatMap((r) => (r.trouble ? [r.trouble] : []));
}

/** Why a failure that is not known to pass cannot be retried, as a dead-letter class and reason. */
function permanentOf(error: unknown): { errorClass: PermanentErrorClass; reason: string } | null {
  if (error instanceof PermanentError) return { errorClass: error.errorClass, reason: error.reason };
  if (error instanceof ConfidentialLeak) return { errorClass: 'TRUST_BOUNDARY', reason: error.message };
  if (transientCause(error)) return null;
  const e = error as Error;
  return { errorClass: 'HANDLER_FAILED', reason: `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}` };
}

export class ConsumerRunner<T> {
  /** The message being retried now, if any. */
  trouble: RunnerTrouble | undefined;
  private consumer: Consumer | undefined;
  private readonly processed: ProcessedIds;
  private readonly log: Logger;
  private stopping = false;
  private commits: LaterCommits | undefined;
  private readonly listeners: ((event: DeadLetteredEvent) => void)[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
    private readonly producer: ContractProducer,
    private readonly options: RunnerOptions<T>,
  ) {
    this.processed = new ProcessedIds(options.bus.idempotencyWindow);
    this.log = loggerFor(options.name);
  }

  /** Its group, topics and the retry waits, budget and idempotency window in force. */
  get description(): RunnerDescription {
    return {
      runner: this.options.name,
      groupId: this.options.groupId,
      topics: [...this.options.topics],
      ...this.options.bus,
      retryBaseMs: this.options.retryBaseMs ?? this.options.bus.retryBaseMs,
      retryMaxMs: this.options.retryMaxMs ?? this.options.bus.retryMaxMs,
    };
  }

  /** Commit requests sent since the last start and the offsets they carried. */
  get commitCounts(): LaterCommits['counts'] | undefined {
    return this.commits?.counts;
  }

  onDeadLetter(listener: (event: DeadLetteredEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Joins the group and consumes; after a start that threw (Kafka away), `start` may be called again. */
  async start(): Promise<void> {
    this.stopping = false;
    running.add(this as ConsumerRunner<unknown>);
    try {
      await this.begin();
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw error;
    }
  }

  private async begin(): Promise<void> {
    await ensureDeadLetterTopics(this.kafka, this.options.topics).catch((error: unknown) => {
      throw namingResource(`the dead-letter topics of ${this.options.topics.join(', ')}`, error);
    });
    // A consumer of its own per start: one that failed to join is not used again.
    const consumer = this.kafka.consumer({ groupId: this.options.groupId, allowAutoTopicCreation: false });
    this.consumer = consumer;
    const commits = new LaterCommits(consumer, this.options.bus.commitDelayMs, this.log);
    this.commits = commits;
    await consumer.connect();
    for (const topic of this.options.topics) {
      await consumer
        .subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true })
        .catch((error: unknown) => {
          throw namingResource(`read of topic ${topic} (group ${this.options.groupId})`, error);
        });
    }
    await consumer.run({
      autoCommit: false, // committed by LaterCommits once each batch has had its effects
      eachBatchAutoResolve: false,
      // Partitions are independent (a method's events share one): a slow one need not hold the others.
      partitionsConsumedConcurrently: this.options.bus.partitionsConcurrently,
      eachBatch: (payload) => commits.track(this.eachBatch(payload)),
    });
  }

  /** Finishes the message at hand, commits what is done, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    running.delete(this as ConsumerRunner<unknown>);
    const consumer = this.consumer;
    this.consumer = undefined;
    await this.commits?.finish();
    this.commits = undefined;
    await consumer?.disconnect();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    let done: string | undefined;
    try {
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || this.stopping) break;
        await this.handleOne(
          batch.topic,
          batch.partition,
          message,
          heartbeat,
          placeToShare(batch, message.offset),
        );
        resolveOffset(message.offset);
        done = message.offset;
      }
    } finally {
      await this.commits?.handled(payload, done);
    }
    consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition), handler: this.options.name },
      Number(batch.offsetLag()),
    );
  }

  private async handleOne(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
    at: MessageAt | undefined,
  ) {
    const labels = { topic, handler: this.options.name };
    const started = process.hrtime.bigint();
    messagesIn.inc(labels);
    const headers = fromKafkaHeaders(message.headers, `${topic}/${partition}/${message.offset}`);
    const log = this.log.child({
      correlationId: headers.correlationId,
      eventId: headers.id,
      topic,
      partition,
      offset: message.offset,
    });
    // A copy redriven from the dead-letter topic for another consumer: this one handled the original.
    if (!isForConsumer(message.headers, this.options.name)) return;
    if (this.processed.has(headers.id)) {
      messagesDuplicate.inc(labels);
      log.debug('dropped a redelivered event');
      return;
    }
    let firstFailureAt = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const { value, schemaId } = await this.registry.decode<T>(topic, message.value, at);
        await this.options.handle({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value,
          schemaId,
          headers,
          log,
        });
        this.processed.add(headers.id);
        break;
      } catch (error) {
        const permanent = permanentOf(error);
        const errorClass = permanent?.errorClass ?? 'TRANSIENT';
        messagesFailed.inc({ ...labels, error_class: errorClass });
        if (firstFailureAt === 0) firstFailureAt = Date.now();
        const maxAttempts = this.options.maxTransientAttempts ?? Number.POSITIVE_INFINITY;
        const budgetMs = this.options.bus.transientBudgetMs;
        const exhausted = attempt >= maxAttempts || Date.now() - firstFailureAt >= budgetMs;
        if (!permanent && this.stopping) {
          this.trouble = undefined;
          throw error; // not done: leave it uncommitted for the next owner
        }
        if (permanent || exhausted) {
          this.trouble = undefined;
          const reason =
            permanent?.reason ??
            `gave up after ${attempt} attempts in ${Math.round((Date.now() - firstFailureAt) / 1000)} s: ${(error as Error).message}`;
          await this.deadLetter(
            topic,
            partition,
            message,
            permanent?.errorClass ?? 'TRANSIENT_EXHAUSTED',
            reason,
            log,
          );
          break;
        }
        const wait = Math.max(
          backoff(
            attempt,
            this.options.retryBaseMs ?? this.options.bus.retryBaseMs,
            this.options.retryMaxMs ?? this.options.bus.retryMaxMs,
          ),
          error instanceof RetryLater ? error.retryAfterMs : 0,
        );
        this.trouble = {
          runner: this.options.name,
          topic,
          partition,
          offset: message.offset,
          attempt,
          since: new Date(firstFailureAt).toISOString(),
          reason: (error as Error).message,
        };
        log.warn({ attempt, waitMs: wait, err: (error as Error).message }, 'transient failure; retrying');
        await sleepWithHeartbeat(wait, heartbeat, () => this.stopping);
      }
    }
    this.trouble = undefined;
    processingSeconds.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    errorClass: string,
    reason: string,
    log: Logger,
  ): Promise<void> {
    await this.producer.sendRaw(dlqTopicOf(topic), [
      deadLetterOf(message, {
        sourceTopic: topic,
        partition,
        offset: message.offset,
        errorClass,
        reason,
        handler: this.options.name,
      }),
    ]);
    messagesDeadLettered.inc({ topic, handler: this.options.name, error_class: errorClass });
    log.warn({ errorClass, reason }, 'sent to the dead-letter topic');
    for (const listener of this.listeners)
      listener({ topic, partition, offset: message.offset, errorClass, reason });
  }
}

async function sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>, cancelled: () => boolean) {
  const until = Date.now() + ms;
  while (Date.now() < until && !cancelled()) {
    await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
    await heartbeat().catch(() => undefined);
  }
}

/**
 * The consumer runner: decodes each message into its topic's contract and hands it to one handler.
 * - permanent failures (undecodable, unknown schema, contract or domain-rule violation) go to `<topic>.dlq`
 *   with the original bytes and the reason, and the partition moves on;
 * - anything else is transient and retried with jittered exponential backoff, in place, so one method's
 *   events keep their order (a partner that is down holds its partition until it returns);
 * - a redelivered event id is dropped; shutdown finishes the message at hand and commits what is done.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { dlqTopicOf } from '../../contracts/topics.ts';
import { settings } from '../config/spec.ts';
import { type Logger, loggerFor } from '../log/logger.ts';
import {
  consumerLag,
  messagesDeadLettered,
  messagesDuplicate,
  messagesFailed,
  messagesIn,
  processingSeconds,
} from '../metrics/registry.ts';
import { deadLetterOf, ensureDeadLetterTopics } from './deadLetter.ts';
import { PermanentError, RetryLater } from './errors.ts';
import { type EventHeaders, fromKafkaHeaders } from './headers.ts';
import { ProcessedIds } from './idempotency.ts';
import type { ContractProducer } from './producer.ts';
import type { ContractRegistry } from './registry.ts';

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
  /** Attempts for a transient failure before it is dead-lettered; Infinity (default) keeps retrying. */
  maxTransientAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  idempotencyWindow?: number;
}

export interface DeadLetteredEvent {
  topic: string;
  partition: number;
  offset: string;
  errorClass: string;
  reason: string;
}

export class ConsumerRunner<T> {
  private readonly consumer: Consumer;
  private readonly processed: ProcessedIds;
  private readonly log: Logger;
  private stopping = false;
  private readonly listeners: ((event: DeadLetteredEvent) => void)[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
    private readonly producer: ContractProducer,
    private readonly options: RunnerOptions<T>,
  ) {
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    this.processed = new ProcessedIds(options.idempotencyWindow ?? settings.BUS_IDEMPOTENCY_WINDOW.default);
    this.log = loggerFor(options.name);
  }

  onDeadLetter(listener: (event: DeadLetteredEvent) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    await ensureDeadLetterTopics(this.kafka, this.options.topics);
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    }
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  /** Finishes the message at hand, commits, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopping) break;
      await this.handleOne(batch.topic, batch.partition, message, heartbeat);
      resolveOffset(message.offset);
      await commitOffsetsIfNecessary();
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
    if (this.processed.has(headers.id)) {
      messagesDuplicate.inc(labels);
      log.debug('dropped a redelivered event');
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        const { value, schemaId } = await this.registry.decode<T>(topic, message.value);
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
        const permanent = error instanceof PermanentError ? error : undefined;
        const errorClass = permanent?.errorClass ?? 'TRANSIENT';
        messagesFailed.inc({ ...labels, error_class: errorClass });
        const maxAttempts = this.options.maxTransientAttempts ?? Number.POSITIVE_INFINITY;
        if (permanent || attempt >= maxAttempts || this.stopping) {
          if (!permanent && this.stopping) throw error; // not done: leave it uncommitted for the next owner
          const reason =
            permanent?.reason ?? `gave up after ${attempt} attempts: ${(error as Error).message}`;
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
            this.options.retryBaseMs ?? settings.BUS_RETRY_BASE_MS.default,
            this.options.retryMaxMs ?? settings.BUS_RETRY_MAX_MS.default,
          ),
          error instanceof RetryLater ? error.retryAfterMs : 0,
        );
        log.warn({ attempt, waitMs: wait, err: (error as Error).message }, 'transient failure; retrying');
        await sleepWithHeartbeat(wait, heartbeat, () => this.stopping);
      }
    }
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

export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // "equal jitter"
}

async function sleepWithHeartbeat(ms: number, heartbeat: () => Promise<void>, cancelled: () => boolean) {
  const until = Date.now() + ms;
  while (Date.now() < until && !cancelled()) {
    await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
    await heartbeat().catch(() => undefined);
  }
}

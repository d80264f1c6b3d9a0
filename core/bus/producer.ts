/**
 * The typed producer: every value is checked against its topic's contract before it is sent, framed with
 * its registered schema id, and written idempotently with acks from all in-sync replicas.
 */
import { withDeadline } from '../retry/deadline.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import kafkajs, { type Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs';

const { Partitioners } = kafkajs; // CommonJS: named import fails under ESM
import type { TopicValues } from '../../contracts/generated/types.ts';
import { messagesOut, produceRequests } from '../metrics/registry.ts';
import { type EventHeaders, toKafkaHeaders } from './headers.ts';
import type { ContractRegistry } from './registry.ts';

export interface OutgoingMessage<V> {
  key: string;
  value: V;
  headers: EventHeaders;
}

export type TopicName = keyof TopicValues & string;

/** A transactional write whose outcome is not known yet: it failed or ran out of time, and may still commit. */
export class WriteUncertain extends Error {
  override name = 'WriteUncertain';
}

/** Retries of the request path: a few quick ones, so a dead broker fails a write in seconds, not a minute. */
const REQUEST_RETRY = { retries: 3, initialRetryTime: 200, maxRetryTime: 1_000 };
/** A transaction left open by a crashed writer blocks every read_committed reader this long at most. */
const TRANSACTION_TIMEOUT_MS = 10_000;

/**
 * At most this many bytes (keys, values, headers) go in one request, from several callers or from one caller's
 * long list (a state snapshot of 40,000 cases): the broker refuses a batch over 1 MB (message.max.bytes).
 */
const REQUEST_MAX_BYTES = 256 * 1024;

const bytesOf = (message: Message): number => {
  let bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers ?? {}))
    bytes += name.length + (typeof value === 'string' || Buffer.isBuffer(value) ? value.length : 0);
  return bytes;
};

const within = <T>(work: Promise<T>, ms: number, what: string): Promise<T> =>
  withDeadline(work, ms, () => new WriteUncertain(`${what} took more than ${ms} ms`));

export class ContractProducer {
  private readonly producer: Producer;
  private connected = false;
  private transactional: Producer | undefined;
  /** One transaction at a time per producer: kafkajs allows no more. */
  private transactions: Promise<unknown> = Promise.resolve();
  /** Kept for the producer's life: a new producer with the same id fences the old one and ends its open transaction. */
  private readonly transactionalId: string;
  /** Set when a transactional write failed or timed out: its transaction may still be open or committed. */
  private uncertain = false;
  /** Plain sends waiting for the request in flight to finish: they go together in the next one. */
  private waiting: WaitingSend[] = [];
  private sending = false;
  private readonly partitionOf = new WeakMap<object, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
    options: { transactionalId?: string } = {},
  ) {
    this.transactionalId =
      options.transactionalId || `metodehub-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    // One request in flight keeps a method's events in order even across retries.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // kafkajs's own partitioner, noting where each message went so a coalesced send can answer each caller.
      createPartitioner: () => {
        const partition = Partitioners.DefaultPartitioner();
        return (args) => {
          const chosen = partition(args);
          this.partitionOf.set(args.message, chosen);
          return chosen;
        };
      },
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    await this.transactional?.disconnect().catch(() => undefined);
    this.transactional = undefined;
    if (!this.connected) return;
    await this.producer.disconnect();
    this.connected = false;
  }

  private async encodeAll<T extends TopicName>(topic: string, messages: OutgoingMessage<TopicValues[T]>[]) {
    return Promise.all(
      messages.map(async (m) => ({
        key: m.key,
        value: await this.registry.encode(topic, m.value),
        headers: toKafkaHeaders({ ...m.headers, subject: m.headers.subject ?? m.key }),
      })),
    );
  }

  /** Whether an earlier transactional write ended without a known outcome (see `reconcile`). */
  get outcomeUncertain(): boolean {
    return this.uncertain;
  }

  /**
   * All or nothing: the messages are written in one Kafka transaction, so a reader (read_committed, the
   * kafkajs default) sees every one of them or none, even when they land in different partitions.
   * `timeoutMs` bounds the wait; on failure or timeout the outcome is uncertain until `reconcile` ran.
   */
  async sendAtomically<T extends TopicName>(
    declared: T,
    messages: OutgoingMessage<TopicValues[T]>[],
    options: { to?: string; timeoutMs?: number } = {},
  ): Promise<RecordMetadata[]> {
    const topic = options.to ?? declared;
    if (messages.length === 0) return [];
    const encoded = await this.encodeAll(topic, messages);
    const run = this.transactions.then(async () => {
      const producer = await this.transactionalProducer();
      const transaction = await producer.transaction();
      try {
        const result = await transaction.send({ topic, acks: -1, messages: encoded });
        await transaction.commit();
        messagesOut.inc({ topic }, messages.length);
        return result;
      } catch (error) {
        this.uncertain = true;
        await transaction.abort().catch(() => undefined);
        this.dropTransactional();
        throw error;
      }
    });
    this.transactions = run.catch(() => undefined);
    if (options.timeoutMs === undefined) return run;
    return within(run, options.timeoutMs, 'the Kafka transaction').catch((error: unknown) => {
      this.uncertain = true;
      throw error;
    });
  }

  /**
   * Brings an uncertain write to an end: waits for it, then starts a producer under the same transactional
   * id, which makes the coordinator commit or abort what the old one left open. After it, the log's end
   * holds every message that will ever commit from earlier writes.
   */
  async reconcile(timeoutMs: number, options: { force?: boolean } = {}): Promise<void> {
    if (!this.uncertain && !options.force) return;
    const run = this.transactions.then(async () => {
      if (!this.uncertain && !options.force) return;
      this.dropTransactional();
      const producer = await this.transactionalProducer();
      // An empty transaction makes kafkajs send InitProducerId, which fences the earlier producer.
      const transaction = await producer.transaction();
      await transaction.abort();
      this.uncertain = false;
    });
    this.transactions = run.catch(() => this.dropTransactional());
    return within(run, timeoutMs, 'settling the earlier Kafka transaction');
  }

  private async transactionalProducer(): Promise<Producer> {
    if (this.transactional) return this.transactional;
    const producer = this.kafka.producer({
      transactionalId: this.transactionalId,
      transactionTimeout: TRANSACTION_TIMEOUT_MS,
      idempotent: true,
      maxInFlightRequests: 1,
      retry: REQUEST_RETRY,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.transactional = producer;
    return producer;
  }

  /** Forgets a transactional producer in an unknown state; its connections are closed in the background. */
  private dropTransactional(): void {
    const old = this.transactional;
    this.transactional = undefined;
    void old?.disconnect().catch(() => undefined);
  }

  /**
   * Encodes all first, so a contract violation in any message sends none of them. `options.to` names the
   * physical topic when it differs from the declared one (it must be aliased in the registry).
   */
  async send<T extends TopicName>(
    declared: T,
    messages: OutgoingMessage<TopicValues[T]>[],
    options: { to?: string } = {},
  ): Promise<RecordMetadata[]> {
    const topic = options.to ?? declared;
    if (messages.length === 0) return [];
    const encoded = await this.encodeAll(topic, messages);
    await this.connect();
    const result = await this.coalesced(topic, encoded);
    messagesOut.inc({ topic }, messages.length);
    return result;
  }

  /**
   * Sends as one request what callers sent while the one before was in flight (kafkajs has one request in flight
   * per broker here): under load N sends cost one round trip instead of N, in the order they were asked for, so a
   * method's records keep their order. Each caller gets the metadata of its own messages. If a request of several
   * callers fails, each caller's messages are sent again alone, so one bad message fails only its own caller.
   */
  private async coalesced(topic: string, messages: Message[]): Promise<RecordMetadata[]> {
    // One caller's list larger than a request goes as several, one after another in the queue, so its order holds.
    const parts: { messages: Message[]; bytes: number }[] = [{ messages: [], bytes: 0 }];
    for (const message of messages) {
      const bytes = bytesOf(message);
      let part = parts.at(-1)!;
      if (part.messages.length > 0 && part.bytes + bytes > REQUEST_MAX_BYTES) {
        part = { messages: [], bytes: 0 };
        parts.push(part);
      }
      part.messages.push(message);
      part.bytes += bytes;
    }
    const written = await Promise.all(
      parts.map(
        (part) =>
          new Promise<RecordMetadata[]>((resolve, reject) => {
            this.waiting.push({ topic, ...part, resolve, reject });
            void this.drain();
          }),
      ),
    );
    if (written.length === 1) return written[0]!;
    // The caller's first offset in each partition is that of its first part there.
    const first = new Map<string, RecordMetadata>();
    for (const metadata of written.flat()) {
      const where = `${metadata.partition}@${metadata.topicName}`;
      if (!first.has(where)) first.set(where, metadata);
    }
    return [...first.values()];
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.waiting.length > 0) {
        let bytes = 0;
        let taken = 0;
        while (
          taken < this.waiting.length &&
          (taken === 0 || bytes + this.waiting[taken]!.bytes <= REQUEST_MAX_BYTES)
        )
          bytes += this.waiting[taken++]!.bytes;
        const group = this.waiting.splice(0, taken);
        try {
          this.answer(group, await this.producer.sendBatch(this.requestOf(group)));
        } catch (error) {
          if (group.length === 1) group[0]!.reject(error);
          else for (const one of group) await this.sendAlone(one);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private async sendAlone(one: WaitingSend): Promise<void> {
    try {
      this.answer([one], await this.producer.sendBatch(this.requestOf([one])));
    } catch (error) {
      one.reject(error);
    }
  }

  private requestOf(group: WaitingSend[]) {
    produceRequests.inc();
    return { acks: -1, topicMessages: group.map(({ topic, messages }) => ({ topic, messages })) };
  }

  /** Each caller's own metadata: its first offset in each partition is the request's base plus what came before it. */
  private answer(group: WaitingSend[], written: RecordMetadata[]): void {
    const base = new Map(written.map((m) => [`${m.partition}@${m.topicName}`, m]));
    const before = new Map<string, bigint>();
    for (const one of group) {
      const own = new Map<string, RecordMetadata>();
      for (const message of one.messages) {
        const where = `${this.partitionOf.get(message)}@${one.topic}`;
        const metadata = base.get(where);
        const earlier = before.get(where) ?? 0n;
        before.set(where, earlier + 1n);
        if (!metadata || own.has(where)) continue;
        own.set(where, {
          ...metadata,
          ...(metadata.baseOffset === undefined
            ? {}
            : { baseOffset: String(BigInt(metadata.baseOffset) + earlier) }),
        });
      }
      one.resolve([...own.values()]);
    }
  }

  /** Raw bytes, for the dead-letter path and redrive: no contract applies. */
  async sendRaw(
    topic: string,
    messages: {
      key: Buffer | string | null;
      value: Buffer | null;
      headers: Record<string, string | Buffer>;
    }[],
  ) {
    await this.connect();
    const result = await this.coalesced(topic, messages);
    messagesOut.inc({ topic }, messages.length);
    return result;
  }
}

/** A plain send waiting for its request. */
interface WaitingSend {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: (written: RecordMetadata[]) => void;
  reject: (error: unknown) => void;
}

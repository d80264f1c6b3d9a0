/**
 * The typed producer: every value is checked against its topic's contract before it is sent, framed with
 * its registered schema id, and written idempotently with acks from all in-sync replicas.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import kafkajs, { type Kafka, type Producer, type RecordMetadata } from 'kafkajs';

const { Partitioners } = kafkajs; // CommonJS: named import fails under ESM
import type { TopicValues } from '../../contracts/generated/types.ts';
import { messagesOut } from '../metrics/registry.ts';
import { type EventHeaders, toKafkaHeaders } from './headers.ts';
import type { ContractRegistry } from './registry.ts';

export interface OutgoingMessage<V> {
  key: string;
  value: V;
  headers: EventHeaders;
}

export type TopicName = keyof TopicValues & string;

export class ContractProducer {
  private readonly producer: Producer;
  private connected = false;
  private transactional: Producer | undefined;
  /** One transaction at a time per producer: kafkajs allows no more. */
  private transactions: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
  ) {
    // One request in flight keeps a method's events in order even across retries.
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    await this.transactional?.disconnect();
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

  /**
   * All or nothing: the messages are written in one Kafka transaction, so a reader (read_committed, the
   * kafkajs default) sees every one of them or none, even when they land in different partitions.
   */
  async sendAtomically<T extends TopicName>(
    declared: T,
    messages: OutgoingMessage<TopicValues[T]>[],
    options: { to?: string } = {},
  ): Promise<RecordMetadata[]> {
    const topic = options.to ?? declared;
    if (messages.length === 0) return [];
    const encoded = await this.encodeAll(topic, messages);
    const run = this.transactions.then(async () => {
      if (!this.transactional) {
        const producer = this.kafka.producer({
          transactionalId: `metodehub-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
          idempotent: true,
          maxInFlightRequests: 1,
          createPartitioner: Partitioners.DefaultPartitioner,
        });
        await producer.connect();
        this.transactional = producer;
      }
      const transaction = await this.transactional.transaction();
      try {
        const result = await transaction.send({ topic, acks: -1, messages: encoded });
        await transaction.commit();
        messagesOut.inc({ topic }, messages.length);
        return result;
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
    });
    this.transactions = run.catch(() => undefined);
    return run;
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
    const result = await this.producer.send({ topic, acks: -1, messages: encoded });
    messagesOut.inc({ topic }, messages.length);
    return result;
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
    const result = await this.producer.send({ topic, acks: -1, messages });
    messagesOut.inc({ topic }, messages.length);
    return result;
  }
}

/**
 * The typed producer: every value is checked against its topic's contract before it is sent, framed with
 * its registered schema id, and written idempotently with acks from all in-sync replicas.
 */
import type { Kafka, Producer, RecordMetadata } from 'kafkajs';
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

  constructor(
    kafka: Kafka,
    private readonly registry: ContractRegistry,
  ) {
    // One request in flight keeps a method's events in order even across retries.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.producer.disconnect();
    this.connected = false;
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
    const encoded = await Promise.all(
      messages.map(async (m) => ({
        key: m.key,
        value: await this.registry.encode(topic, m.value),
        headers: toKafkaHeaders({ ...m.headers, subject: m.headers.subject ?? m.key }),
      })),
    );
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

/**
 * A small keyed store on a compacted Kafka topic under contract, so an adapter's state lives in Kafka and not on
 * the local disk: `restore()` reads the topic to its end, `write()` resolves once every broker in sync has the
 * records (acks=all, the hub's idempotent producer), a null value writes a tombstone. A hub on a fresh machine
 * with the same Kafka restores what the last one wrote.
 */
import type { Kafka } from 'kafkajs';
import type { TopicValues } from '../../contracts/generated/types.ts';
import { ensureDeclaredTopic } from './createTopics.ts';
import { newHeaders, toKafkaHeaders } from './headers.ts';
import type { ContractProducer, TopicName } from './producer.ts';
import type { ContractRegistry } from './registry.ts';
import { readTopicSnapshot } from './topicSnapshot.ts';

/** A record to write: a value, or null to remove the key (a tombstone). */
export interface StateChange<V> {
  key: string;
  value: V | null;
}

export interface StateStoreOptions<T extends TopicName> {
  /** The declared topic (contracts/topics.ts): its contract and, when the store creates it, its configuration. */
  declared: T;
  /** The physical topic name (HubContext.topic(declared)). */
  topic: string;
  /** Whether two values are the same, so `changesTo` writes only what changed (default: same JSON). */
  same?: (a: TopicValues[T], b: TopicValues[T]) => boolean;
  restoreTimeoutMs?: number;
}

export class StateStore<T extends TopicName> {
  private readonly known = new Map<string, TopicValues[T]>();
  private writing: Promise<unknown> = Promise.resolve();
  private readonly same: (a: TopicValues[T], b: TopicValues[T]) => boolean;

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
    private readonly producer: ContractProducer,
    private readonly options: StateStoreOptions<T>,
  ) {
    this.same = options.same ?? ((a, b) => JSON.stringify(a) === JSON.stringify(b));
  }

  get topic(): string {
    return this.options.topic;
  }

  /** Reads the topic from its start to its end now (creating it, compacted, when missing); the last record per key wins. */
  async restore(): Promise<Map<string, TopicValues[T]>> {
    await this.writing;
    await this.ensureTopic();
    const records = await readTopicSnapshot(this.kafka, this.options.topic, {
      timeoutMs: this.options.restoreTimeoutMs ?? 60_000,
    });
    this.known.clear();
    for (const record of records) {
      if (record.key === null) continue;
      if (record.value === null) {
        this.known.delete(record.key);
        continue;
      }
      try {
        const { value } = await this.registry.decode<TopicValues[T]>(this.options.topic, record.value);
        this.known.set(record.key, value);
      } catch (error) {
        // The cause tells a registry away (tried again) from a record that never decodes.
        throw new Error(
          `STATE_UNREADABLE: ${this.options.topic} partition ${record.partition} offset ${record.offset} (key ${record.key}): ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    return new Map(this.known);
  }

  /** What was last restored or written. */
  entries(): Map<string, TopicValues[T]> {
    return new Map(this.known);
  }

  /** The records that make the store hold `next` for the keys `among` accepts: changed values and tombstones. */
  changesTo(next: Map<string, TopicValues[T]>, among: (key: string) => boolean = () => true) {
    const changes: StateChange<TopicValues[T]>[] = [];
    for (const [key, value] of next) if (among(key) && this.differs(key, value)) changes.push({ key, value });
    for (const key of this.known.keys()) if (among(key) && !next.has(key)) changes.push({ key, value: null });
    return changes;
  }

  /** Of these changes to some keys, the ones that would change what the store holds (the others are left out). */
  unsaved(changes: StateChange<TopicValues[T]>[]): StateChange<TopicValues[T]>[] {
    return changes.filter(({ key, value }) => this.differs(key, value));
  }

  private differs(key: string, value: TopicValues[T] | null): boolean {
    const before = this.known.get(key);
    if (value === null) return before !== undefined;
    return before === undefined || !this.same(before, value);
  }

  put(key: string, value: TopicValues[T]): Promise<void> {
    return this.write([{ key, value }]);
  }

  delete(key: string): Promise<void> {
    return this.write([{ key, value: null }]);
  }

  /**
   * Writes the changes in one produce request and resolves once Kafka acknowledged them; writes run one after
   * another, in call order. Every value is checked against the contract first, so a bad one writes none.
   */
  write(changes: StateChange<TopicValues[T]>[]): Promise<void> {
    const run = this.writing.then(async () => {
      if (changes.length === 0) return;
      const messages = await Promise.all(
        changes.map(async ({ key, value }) => ({
          key,
          value: value === null ? null : await this.registry.encode(this.options.topic, value),
          headers: toKafkaHeaders(
            newHeaders({
              source: '/metodehub/state',
              type: `no.nyemetoder.state.${value === null ? 'removed' : 'saved'}`,
              subject: key,
            }),
          ) as Record<string, string | Buffer>,
        })),
      );
      await this.producer.sendRaw(this.options.topic, messages);
      for (const { key, value } of changes) {
        if (value === null) this.known.delete(key);
        else this.known.set(key, value);
      }
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  private ensureTopic(): Promise<void> {
    return ensureDeclaredTopic(this.kafka, this.options.declared, this.options.topic);
  }
}

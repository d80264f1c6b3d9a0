/**
 * Follows a whole topic from its first offset, in every partition, outside any shared consumer group:
 * how each hub instance builds its read model, and how the projection restores its state. It knows how
 * far it has read, so callers can wait until it has caught up with the log.
 */
import { withDeadline } from '../retry/deadline.ts';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { type Logger, loggerFor } from '../log/logger.ts';
import { PermanentError } from './errors.ts';
import { namingResource, whileLeadershipMoves } from './kafka.ts';
import { type ContractRegistry, placeToShare } from './registry.ts';

export interface Position {
  partition: number;
  offset: string;
}

export interface FollowerOptions<T> {
  name: string;
  topic: string;
  onMessage: (value: T, position: Position, key: string | null) => void;
}

export class TopicFollower<T> {
  private consumer: Consumer | undefined;
  /** Next offset to read, per partition. */
  private readonly next = new Map<number, bigint>();
  private readonly waiters = new Set<() => void>();
  private startEnds: Map<number, bigint> | undefined;
  /** Kept connected, so asking for the log's end costs one request, not a new connection. */
  private admin: Admin | undefined;
  private readonly log: Logger;
  skipped = 0;
  /** Messages that decoded but whose fold threw: skipped, so the read goes on. */
  failed = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly registry: ContractRegistry,
    private readonly options: FollowerOptions<T>,
  ) {
    this.log = loggerFor(options.name);
  }

  /** Starts reading; after a start that threw (Kafka away), `start` may be called again and goes on where it was. */
  async start(): Promise<void> {
    try {
      await this.begin();
    } catch (error) {
      await this.stop().catch(() => undefined);
      throw namingResource(`read of topic ${this.options.topic}`, error);
    }
  }

  private async begin(): Promise<void> {
    this.startEnds = await this.endOffsets();
    const groupId = `metodehub.follow.${this.options.name}.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`;
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxBytes: 50 * 1024 * 1024,
      // The group has only this member: after a crash (a broker gone) its restart need not wait out 30 s for its old self.
      sessionTimeout: 6_000,
      heartbeatInterval: 1_000,
    });
    this.consumer = consumer;
    // Batches of only transaction markers are not handed to eachBatch but still move the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.advance(payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const folded = this.next.get(batch.partition) ?? 0n;
        for (const message of batch.messages) {
          // Without committed offsets a consumer that rejoins (after a broker restart) reads from the start again.
          if (BigInt(message.offset) < folded) continue;
          let value: T | undefined;
          try {
            ({ value } = await this.registry.decode<T>(
              this.options.topic,
              message.value,
              placeToShare(batch, message.offset),
            ));
          } catch (error) {
            if (!(error instanceof PermanentError)) throw error; // registry away: kafkajs retries the batch
            this.skipped++;
            this.log.warn(
              { partition: batch.partition, offset: message.offset, reason: error.reason },
              'skipped an unreadable message',
            );
          }
          if (value !== undefined) {
            try {
              this.options.onMessage(
                value,
                { partition: batch.partition, offset: message.offset },
                message.key?.toString('utf8') ?? null,
              );
            } catch (error) {
              // One record the fold cannot take must not hold the read of everything after it.
              this.failed++;
              this.log.error(
                { partition: batch.partition, offset: message.offset, err: (error as Error).message },
                'a message could not be folded; skipped',
              );
            }
          }
          this.advance(batch.partition, BigInt(message.offset) + 1n);
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  /**
   * Reads on until every partition is read to the end the log has now (its high watermark), so what was
   * committed before the call is folded; false when Kafka does not answer or the read does not get there in time.
   */
  async reachEnd(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let ends: Map<number, bigint>;
    try {
      ends = await withDeadline(
        this.liveEndOffsets(),
        timeoutMs,
        () => new Error(`no answer from Kafka within ${timeoutMs} ms`),
      );
    } catch {
      return false;
    }
    return this.waitUntil(() => this.reached(ends), Math.max(0, deadline - Date.now()));
  }

  private async liveEndOffsets(): Promise<Map<number, bigint>> {
    if (!this.admin) {
      const admin = this.kafka.admin({ retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 } });
      await admin.connect();
      this.admin = admin;
    }
    try {
      const offsets = await this.admin.fetchTopicOffsets(this.options.topic);
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } catch (error) {
      const admin = this.admin;
      this.admin = undefined;
      void admin.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /** The last offset + 1 of each partition now. */
  async endOffsets(): Promise<Map<number, bigint>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await whileLeadershipMoves(() => admin.fetchTopicOffsets(this.options.topic));
      return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
    } finally {
      await admin.disconnect();
    }
  }

  private advance(partition: number, next: bigint): void {
    if ((this.next.get(partition) ?? 0n) >= next) return;
    this.next.set(partition, next);
    for (const wake of this.waiters) wake();
  }

  /** Whether every partition has been read up to `ends`. */
  reached(ends: Map<number, bigint>): boolean {
    for (const [partition, end] of ends) if ((this.next.get(partition) ?? 0n) < end) return false;
    return true;
  }

  get caughtUp(): boolean {
    return this.startEnds !== undefined && this.reached(this.startEnds);
  }

  /** Waits until the record at `offset` of `partition` has been read; false on timeout. */
  waitUntilRead(partition: number, offset: bigint, timeoutMs: number): Promise<boolean> {
    return this.waitUntilReached(new Map([[partition, offset + 1n]]), timeoutMs);
  }

  /** Waits until every partition has been read up to `ends` (next offsets); false on timeout. */
  waitUntilReached(ends: Map<number, bigint>, timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.reached(ends), timeoutMs);
  }

  /** Waits until everything in the log when it started has been read; false on timeout. */
  waitUntilCaughtUp(timeoutMs: number): Promise<boolean> {
    return this.waitUntil(() => this.caughtUp, timeoutMs);
  }

  private waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.waiters.add(check);
    });
  }
}

/**
 * The flags as they stand: the latest record per flag, read from `hdir.guideline-flags.v1` (the topic is
 * the durable state; every instance follows all of it). Writers append to the topic and then wait here
 * until their records have been read back, so every reader sees one order of changes.
 */
import type { Kafka, RecordMetadata } from 'kafkajs';
import type { GuidelineFlag } from '../../contracts/generated/types.ts';
import type { ContractProducer, OutgoingMessage } from '../../core/bus/producer.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { TransientError } from '../../core/bus/errors.ts';
import { Topics } from '../../contracts/topics.ts';

export class FlagBook {
  private readonly flags = new Map<string, GuidelineFlag>();
  /** flagIds by method. */
  private readonly byMethod = new Map<string, Set<string>>();
  /** Method events (and status reports) already turned into records: a redelivered one is not done twice. */
  private readonly handled = new Set<string>();
  private readonly follower: TopicFollower<GuidelineFlag>;
  private readonly listeners: ((record: GuidelineFlag) => void)[] = [];

  constructor(
    kafka: Kafka,
    registry: ContractRegistry,
    private readonly topic: string,
  ) {
    this.follower = new TopicFollower<GuidelineFlag>(kafka, registry, {
      name: 'hdir-flags',
      topic,
      onMessage: (record) => this.apply(record),
    });
  }

  async start(timeoutMs = 120_000): Promise<void> {
    await this.follower.start();
    if (!(await this.follower.waitUntilCaughtUp(timeoutMs)))
      throw new TransientError(`could not read the guideline flags topic to its end in ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  onRecord(listener: (record: GuidelineFlag) => void): void {
    this.listeners.push(listener);
  }

  private apply(record: GuidelineFlag): void {
    this.flags.set(record.flagId, record);
    const ids = this.byMethod.get(record.methodId) ?? new Set<string>();
    ids.add(record.flagId);
    this.byMethod.set(record.methodId, ids);
    if (record.causeEventId) this.handled.add(record.causeEventId);
    for (const listener of this.listeners) listener(record);
  }

  get caughtUp(): boolean {
    return this.follower.caughtUp;
  }

  get size(): number {
    return this.flags.size;
  }

  all(): IterableIterator<GuidelineFlag> {
    return this.flags.values();
  }

  get(flagId: string): GuidelineFlag | undefined {
    return this.flags.get(flagId);
  }

  ofMethod(methodId: string): GuidelineFlag[] {
    return [...(this.byMethod.get(methodId) ?? [])].map((id) => this.flags.get(id)!);
  }

  hasHandled(eventId: string): boolean {
    return this.handled.has(eventId);
  }

  /**
   * Waits until records just written have been read back; false on timeout. `count` records were sent in
   * one call with one key, so they sit side by side in one partition from its base offset.
   */
  async readBack(written: RecordMetadata[], count: number, timeoutMs = 30_000): Promise<boolean> {
    const ends = new Map<number, bigint>();
    for (const m of written) {
      const next = BigInt(m.baseOffset ?? '0') + BigInt(count);
      if ((ends.get(m.partition) ?? 0n) < next) ends.set(m.partition, next);
    }
    return this.follower.waitUntilReached(ends, timeoutMs);
  }

  /**
   * The one way records are written (the flagger's and the status reports'): to the flags topic, then read back,
   * so the writer answers only once every reader of this book sees them. False if not read back in time.
   */
  async append(producer: ContractProducer, messages: OutgoingMessage<GuidelineFlag>[]): Promise<boolean> {
    const written = await producer.send(Topics.hdirGuidelineFlags, messages, { to: this.topic });
    return this.readBack(written, messages.length);
  }
}

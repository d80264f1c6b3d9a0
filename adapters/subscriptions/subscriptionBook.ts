/**
 * The subscriptions as they stand: the latest record per subscription, read from the compacted
 * `subscriptions.subscriptions.v1` (the topic is the store; nothing is kept on disk). Writers append and then
 * wait until their record has been read back, so the next request sees it.
 */
import type { Kafka } from 'kafkajs';
import type { Subscription } from '../../contracts/generated/types.ts';
import type { ContractProducer } from '../../core/bus/producer.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { Topics } from '../../contracts/topics.ts';
import { TransientError } from '../../core/bus/errors.ts';

export const SUBSCRIPTIONS_TOPIC = Topics.subscriptions;

export class SubscriptionBook {
  private readonly byId = new Map<string, Subscription>();
  private readonly follower: TopicFollower<Subscription>;

  constructor(
    kafka: Kafka,
    registry: ContractRegistry,
    private readonly producer: ContractProducer,
    private readonly topic: string,
  ) {
    this.follower = new TopicFollower<Subscription>(kafka, registry, {
      name: 'subscriptions-book',
      topic,
      onMessage: (record) => this.byId.set(record.subscriptionId, record),
    });
  }

  async start(timeoutMs = 120_000): Promise<void> {
    await this.follower.start();
    if (!(await this.follower.waitUntilCaughtUp(timeoutMs)))
      throw new TransientError(`could not read ${this.topic} to its end in ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  get caughtUp(): boolean {
    return this.follower.caughtUp;
  }

  get(subscriptionId: string): Subscription | undefined {
    return this.byId.get(subscriptionId);
  }

  active(): Subscription[] {
    return [...this.byId.values()].filter((s) => s.active);
  }

  /** Writes the record and waits until this book has read it back. */
  async put(record: Subscription, type: string): Promise<void> {
    const written = await this.producer.send(
      SUBSCRIPTIONS_TOPIC,
      [{ key: record.subscriptionId, value: record, headers: newHeaders({ source: 'subscriptions', type }) }],
      { to: this.topic },
    );
    const ends = new Map(written.map((m) => [m.partition, BigInt(m.baseOffset ?? '0') + 1n]));
    const until = Date.now() + 30_000;
    while (!this.follower.reached(ends)) {
      if (Date.now() > until) throw new Error(`${this.topic} did not read back the subscription in 30 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

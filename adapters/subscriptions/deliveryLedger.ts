/**
 * What was told to whom: the compacted `subscriptions.deliveries.v1`, one record per subscription and change.
 * Read to its end before any change is handled, and written after each e-mail or webhook is accepted and
 * before the change's offset is committed, so a redelivered change, a redrive or a restart never tells a
 * subscriber twice. Queued records are the digests' durable backlog.
 */
import type { Kafka } from 'kafkajs';
import type { SubscriptionDelivery } from '../../contracts/generated/types.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import type { ContractProducer } from '../../core/bus/producer.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { Topics } from '../../contracts/topics.ts';
import { TransientError } from '../../core/bus/errors.ts';

export const DELIVERIES_TOPIC = Topics.subscriptionDeliveries;

export class DeliveryLedger {
  private readonly byKey = new Map<string, SubscriptionDelivery>();
  private readonly follower: TopicFollower<SubscriptionDelivery>;
  sent = 0;
  lastSentAt: string | null = null;

  constructor(
    kafka: Kafka,
    registry: ContractRegistry,
    private readonly producer: ContractProducer,
    private readonly topic: string,
  ) {
    this.follower = new TopicFollower<SubscriptionDelivery>(kafka, registry, {
      name: 'subscriptions-deliveries',
      topic,
      onMessage: (record) => {
        // Our own later record may be held already; reading an earlier one back must not undo it.
        const held = this.byKey.get(record.deliveryKey);
        if (!held || held.at <= record.at) this.byKey.set(record.deliveryKey, record);
      },
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

  get(deliveryKey: string): SubscriptionDelivery | undefined {
    return this.byKey.get(deliveryKey);
  }

  /** Changes queued for a subscriber's digest, oldest first. */
  queuedFor(subscriptionId: string): SubscriptionDelivery[] {
    return [...this.byKey.values()]
      .filter((d) => d.subscriptionId === subscriptionId && d.state === 'QUEUED')
      .sort((a, b) => a.changedAt.localeCompare(b.changedAt) || a.at.localeCompare(b.at));
  }

  /** Writes the records (acks=all) and holds them at once, so the next change sees them before the read-back. */
  async record(records: SubscriptionDelivery[]): Promise<void> {
    if (records.length === 0) return;
    await this.producer.send(
      DELIVERIES_TOPIC,
      records.map((value) => ({
        key: value.deliveryKey,
        value,
        headers: newHeaders({ source: 'subscriptions', type: `SubscriptionDelivery.${value.state}` }),
      })),
      { to: this.topic },
    );
    for (const r of records) {
      this.byKey.set(r.deliveryKey, r);
      if (r.state === 'SENT') {
        this.sent++;
        this.lastSentAt = r.at;
      }
    }
  }
}

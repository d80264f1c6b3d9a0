/**
 * Method events -> `financing.drug-decisions.v1`. Its fold is fed by the hub's method log (every event, from the
 * start and then on, so it knows every method also when its group is given another instance's partitions mid-log:
 * a fold that stopped at start lost the decisions of methods whose earlier events that instance had read), and it
 * consumes in its own group: each medicine decision, phase-out or correction is published as new records (ids derived from the source
 * event, so a record already in the feed is not sent again); one that cannot be published goes to the
 * dead-letter topic with the reason.
 */
import type { Kafka } from 'kafkajs';
import type { DrugDecision, MethodEvent } from '../../contracts/generated/types.ts';
import { guardOutbound } from '../../core/bus/confidential.ts';
import { DomainRuleError, TransientError } from '../../core/bus/errors.ts';
import { causedBy } from '../../core/bus/headers.ts';
import type { ContractProducer } from '../../core/bus/producer.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import {
  type BusPolicy,
  ConsumerRunner,
  type DeadLetteredEvent,
  type Delivery,
} from '../../core/bus/runner.ts';
import type { MethodLog, MethodLogReader } from '../../core/lifecycle/methodLog.ts';
import { loggerFor } from '../../core/log/logger.ts';
import { DecisionFold } from './decisionFold.ts';
import { Topics } from '../../contracts/topics.ts';

export const FEED_TOPIC = Topics.financingDrugDecisions;
export const EVENTS_TOPIC = Topics.methodEvents;

export interface PublisherOptions {
  kafka: Kafka;
  registry: ContractRegistry;
  producer: ContractProducer;
  /** The hub's fold of the event log, which feeds this publisher's fold. */
  methodLog: MethodLog;
  /** Physical topic names. */
  eventsTopic: string;
  feedTopic: string;
  groupId: string;
  bus: BusPolicy;
  /** Whether the feed already holds a record (read back from the feed topic). */
  published: (recordId: string) => boolean;
  startTimeoutMs: number;
}

const log = loggerFor('financing-outbound');

export class DecisionPublisher {
  readonly fold = new DecisionFold();
  private runner: ConsumerRunner<MethodEvent> | undefined;
  /** Feeds every event of every partition into the fold, for the publisher's life. */
  private readonly events: MethodLogReader;
  readonly deadLetters: DeadLetteredEvent[] = [];
  publishedCount = 0;

  constructor(private readonly options: PublisherOptions) {
    this.events = options.methodLog.subscribe(
      'financing-catch-up',
      ({ event }) => void this.fold.offer(event),
    );
  }

  /** Folds the event log to its end, then consumes in the group. */
  async start(): Promise<void> {
    await this.catchUp();
    await this.consume();
  }

  /** Folds the whole event log as it is now, so every method is known before consuming resumes. */
  async catchUp(): Promise<void> {
    const { eventsTopic } = this.options;
    let caughtUp = false;
    try {
      await this.events.start();
      caughtUp = await this.events.waitUntilCaughtUp(this.options.startTimeoutMs);
    } finally {
      if (!caughtUp) await this.events.stop();
    }
    if (!caughtUp)
      throw new TransientError(
        `financing: could not read ${eventsTopic} to its end in ${this.options.startTimeoutMs} ms`,
      );
    log.info({ methods: this.fold.methods }, 'folded the event log');
  }

  /** Consumes the event log in the adapter's group, publishing and dead-lettering as it goes. */
  async consume(): Promise<void> {
    const { kafka, registry, eventsTopic } = this.options;
    this.runner = new ConsumerRunner<MethodEvent>(kafka, registry, this.options.producer, {
      name: 'financing',
      groupId: this.options.groupId,
      topics: [eventsTopic],
      bus: this.options.bus,
      handle: (delivery) => this.handle(delivery),
    });
    this.runner.onDeadLetter((event) => this.deadLetters.push(event));
    await this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    await this.events.stop();
  }

  private async handle(delivery: Delivery<MethodEvent>): Promise<void> {
    const event = delivery.value;
    // The fold is the method log's: it has every earlier event of the method once the log has read this one.
    if (!(await this.events.waitUntilRead(delivery.partition, BigInt(delivery.offset), 30_000)))
      throw new TransientError(
        `financing: the fold has not read ${delivery.topic}/${delivery.partition}@${delivery.offset} yet`,
      );
    const outcome = this.fold.offer(event);
    if (!outcome) return;
    if (outcome.problem) throw new DomainRuleError(`financing feed: ${outcome.problem}`);
    const publishedAt = new Date().toISOString();
    const fresh: DrugDecision[] = outcome.records
      .filter((r) => !this.options.published(r.recordId))
      .map((r) => ({ ...r, publishedAt }));
    if (fresh.length === 0) return;
    for (const record of fresh)
      guardOutbound(FEED_TOPIC, record, {
        outputTopic: FEED_TOPIC,
        sources: [{ topic: EVENTS_TOPIC, value: event }],
      });
    await this.options.producer.send(
      FEED_TOPIC,
      fresh.map((record) => ({
        key: record.methodId,
        value: record,
        headers: causedBy(delivery.headers, {
          id: record.recordId,
          source: '/metodehub/financing',
          type: `no.nyemetoder.financing.${record.change}`,
          subject: record.methodId,
        }),
      })),
      { to: this.options.feedTopic },
    );
    this.publishedCount += fresh.length;
    delivery.log.info({ records: fresh.map((r) => r.recordId) }, 'published to the financing feed');
  }
}

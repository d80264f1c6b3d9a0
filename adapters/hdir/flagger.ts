/**
 * Method events -> guideline flags: reads `nyemetoder.method-events.v1` in its own consumer group and
 * appends what each event changes for a method's flags to `hdir.guideline-flags.v1` (see mapping.ts).
 * The records of one event are written in one call with one key (one partition, all or none) and read
 * back before the next event, so the next one is judged against them. A redelivered event whose records
 * are already on the topic is recognised by its id and not done twice. Each event is judged on the method
 * as it stood right after it (methodHistory.ts folds the log with the state machine, as the projection
 * does): one the state machine refused is passed over with a warning, a second copy of an event id is
 * passed over, and while the fold has not read that far the flagger waits and retries.
 */
import { createHash } from 'node:crypto';
import type { GuidelineFlag, MethodEvent } from '../../contracts/generated/types.ts';
import { guardOutbound } from '../../core/bus/confidential.ts';
import { ConfidentialLeak, PermanentError, TransientError } from '../../core/bus/errors.ts';
import { causedBy } from '../../core/bus/headers.ts';
import { ConsumerRunner, type Delivery } from '../../core/bus/runner.ts';
import type { HubContext } from '../../core/hub/component.ts';
import type { FlagBook } from './flagBook.ts';
import { flagRecordsFor } from './mapping.ts';
import type { MethodHistory } from './methodHistory.ts';
import type { RuleBook } from './rules.ts';
import { Topics } from '../../contracts/topics.ts';

export const FLAGS_TOPIC = Topics.hdirGuidelineFlags;
export const EVENTS_TOPIC = Topics.methodEvents;

/** A stable UUID-shaped id for a record: the same event makes the same ids, so resends are recognised. */
export function recordIdOf(causeId: string, record: GuidelineFlag): string {
  const hex = createHash('sha1').update(`${causeId}|${record.flagId}|${record.change}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface FlaggerParts {
  context: HubContext;
  book: FlagBook;
  history: MethodHistory;
  rules: () => RuleBook;
}

export class Flagger {
  private readonly runner: ConsumerRunner<MethodEvent>;
  records = 0;

  constructor(private readonly parts: FlaggerParts) {
    const { context } = parts;
    this.runner = new ConsumerRunner<MethodEvent>(context.kafka, context.registry, context.producer, {
      name: 'hdir-flagger',
      groupId: context.group('hdir-flagger'),
      topics: [context.topic(EVENTS_TOPIC)],
      bus: context.bus,
      handle: (delivery) => this.handle(delivery),
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async handle({
    value: event,
    headers,
    log,
    partition,
    offset,
  }: Delivery<MethodEvent>): Promise<void> {
    const { book, history, context } = this.parts;
    if (book.hasHandled(event.eventId)) return;
    // Only what the state machine took counts: an event written straight to Kafka may have been refused.
    const judged = await history.fateOf(event, { partition, offset }, 10_000);
    if (judged.fate === 'refused') {
      log.warn(
        { methodId: event.methodId, reason: judged.reason },
        'not flagged: the state machine refused this event',
      );
      return;
    }
    if (judged.fate === 'copy') return;
    if (judged.fate === 'pending') {
      throw new TransientError(
        `the method history has not read event ${event.eventId} of ${event.methodId} (partition ${partition} offset ${offset}) yet; will look again`,
      );
    }
    const records = flagRecordsFor(book.ofMethod(event.methodId), event, this.parts.rules(), judged.state);
    if (records.length === 0) return;
    try {
      for (const record of records)
        guardOutbound(FLAGS_TOPIC, record, {
          outputTopic: FLAGS_TOPIC,
          sources: [{ topic: EVENTS_TOPIC, value: event }],
        });
    } catch (error) {
      if (error instanceof ConfidentialLeak) throw new PermanentError('DOMAIN_RULE', error.message);
      throw error;
    }
    const readBack = await book.append(
      context.producer,
      records.map((record) => ({
        key: record.methodId,
        value: record,
        headers: causedBy(headers, {
          id: recordIdOf(event.eventId, record),
          source: '/metodehub/hdir',
          type: `no.nyemetoder.hdir.${record.change}`,
          subject: record.flagId,
        }),
      })),
    );
    if (!readBack)
      throw new TransientError('the flag records were written but not read back in time; will look again');
    this.records += records.length;
    log.info(
      { methodId: event.methodId, changes: records.map((r) => `${r.guidelineId}:${r.change}`) },
      'guideline flags changed',
    );
  }
}

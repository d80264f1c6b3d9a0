/**
 * Flags -> Helsedirektoratet: reads `hdir.guideline-flags.v1` in its own consumer group (the topic is the
 * durable outbox) and POSTs a notification for every record whose change Helsedirektoratet wants (new or
 * removed flag, decision, temporary introduction, re-assessment, phase-out). The record's event id is the
 * idempotency key. While Helsedirektoratet is down the partition waits and retries with jittered backoff;
 * its offset is committed only after delivery, so nothing is lost across restarts.
 */
import type { GuidelineFlag } from '../../contracts/generated/types.ts';
import { guardOutbound } from '../../core/bus/confidential.ts';
import { ConfidentialLeak, PermanentError } from '../../core/bus/errors.ts';
import { ConsumerRunner, type Delivery } from '../../core/bus/runner.ts';
import type { HubContext } from '../../core/hub/component.ts';
import type { HdirClient } from './client.ts';
import { FLAGS_TOPIC } from './flagger.ts';
import { notifiedChanges } from './mapping.ts';
import type { MethodDirectory } from './methodDirectory.ts';
import type { RuleBook } from './rules.ts';
import { Topics } from '../../contracts/topics.ts';

export interface GuidelineNotification {
  notificationId: string;
  change: string;
  flagId: string;
  methodId: string;
  methodName: string | null;
  guideline: { code: string; name: string | null; kind: string | null };
  origin: string;
  ruleId: string | null;
  active: boolean;
  decision: { outcome: string | null; decidedOn: string | null; reassessBy: string | null };
  implementation: { status: string; on: string | null };
  documentation: { assessmentUrl: string | null; publicPriceNoteUrl: string | null };
  changedAt: string;
}

/** The notification for one flag record: public facts only. */
export function notificationOf(record: GuidelineFlag, id: string, book: RuleBook): GuidelineNotification {
  const guideline = book.guidelines.get(record.guidelineId);
  return {
    notificationId: id,
    change: record.change,
    flagId: record.flagId,
    methodId: record.methodId,
    methodName: record.methodName,
    guideline: { code: record.guidelineId, name: guideline?.name ?? null, kind: guideline?.kind ?? null },
    origin: record.origin,
    ruleId: record.ruleId,
    active: record.active,
    decision: {
      outcome: record.decisionOutcome,
      decidedOn: record.decidedOn,
      reassessBy: record.reassessBy,
    },
    implementation: { status: record.implementationStatus, on: record.implementationStatusOn },
    documentation: { assessmentUrl: record.assessmentUrl, publicPriceNoteUrl: record.publicPriceNoteUrl },
    changedAt: record.changedAt,
  };
}

export interface NotifierParts {
  context: HubContext;
  client: HdirClient;
  directory: MethodDirectory;
  rules: () => RuleBook;
  retryBaseMs: number;
  retryMaxMs: number;
}

export class Notifier {
  private readonly runner: ConsumerRunner<GuidelineFlag>;
  /** The notification being tried now, while Helsedirektoratet does not take it. */
  waitingOn: string | undefined;

  constructor(private readonly parts: NotifierParts) {
    const { context } = parts;
    this.runner = new ConsumerRunner<GuidelineFlag>(context.kafka, context.registry, context.producer, {
      name: 'hdir-notifier',
      groupId: context.group('hdir-notifier'),
      topics: [context.topic(FLAGS_TOPIC)],
      bus: context.bus,
      retryBaseMs: parts.retryBaseMs,
      retryMaxMs: parts.retryMaxMs,
      handle: (delivery) => this.handle(delivery),
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async handle({ value: record, headers, log }: Delivery<GuidelineFlag>): Promise<void> {
    if (!notifiedChanges.includes(record.change)) return;
    const notification = notificationOf(record, headers.id, this.parts.rules());
    const state = this.parts.directory.get(record.methodId);
    try {
      guardOutbound('hdir notification', notification, {
        sources: state ? [{ topic: Topics.methodState, value: state }] : [],
      });
    } catch (error) {
      if (error instanceof ConfidentialLeak) throw new PermanentError('DOMAIN_RULE', error.message);
      throw error;
    }
    this.waitingOn = `${record.flagId} ${record.change}`;
    const outcome = await this.parts.client.deliver(notification, headers.id);
    this.waitingOn = undefined;
    log.info(
      { flagId: record.flagId, change: record.change, duplicate: outcome.duplicate },
      'Helsedirektoratet notified',
    );
  }
}

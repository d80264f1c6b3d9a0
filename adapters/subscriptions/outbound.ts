/**
 * Method changes -> subscribers. Reads `nyemetoder.method-state.v1` in its own consumer group; for each change
 * (one state record, identified by the event that made it) and each subscription it concerns, the subscriber
 * is told by e-mail or webhook, or the change is queued for the subscriber's digest, and the ledger records
 * it before the offset is committed. A change already in the ledger for a subscription is not told again, so
 * a redelivery, a redrive or a restart sends nothing twice. One subscriber whose webhook refuses for good is
 * recorded REFUSED and the others are still told; one that is away holds the partition and is retried.
 */
import { randomUUID } from 'node:crypto';
import type { MethodState, Subscription, SubscriptionDelivery } from '../../contracts/generated/types.ts';
import { guardOutbound } from '../../core/bus/confidential.ts';
import { ConfidentialLeak, PermanentError } from '../../core/bus/errors.ts';
import { ConsumerRunner, type Delivery } from '../../core/bus/runner.ts';
import type { HubContext } from '../../core/hub/component.ts';
import type { UrlGuard } from '../../core/http/urlGuard.ts';
import type { Logger } from '../../core/log/logger.ts';
import { type Mailer, postWebhook } from './client.ts';
import type { DeliveryLedger } from './deliveryLedger.ts';
import {
  type ChangeNotice,
  concerns,
  deliveryKeyOf,
  emailOf,
  noticeOf,
  noticeOfDelivery,
  unsubscribeTokenOf,
  webhookBodyOf,
  webhookSecretOf,
  webhookSignatureOf,
} from './mapping.ts';
import type { SubscriptionSettings } from './settings.ts';
import type { SubscriptionBook } from './subscriptionBook.ts';
import { Topics } from '../../contracts/topics.ts';
import { oneAtATime } from '../../core/concurrency/oneAtATime.ts';

const STATE_TOPIC = Topics.methodState;

export interface NotifierParts {
  context: HubContext;
  settings: SubscriptionSettings;
  signingKey: string;
  book: SubscriptionBook;
  ledger: DeliveryLedger;
  mailer: Mailer;
  guard: UrlGuard;
}

export const publicBase = (settings: SubscriptionSettings): string =>
  settings.SUBSCRIPTIONS_PUBLIC_URL.replace(/\/+$/, '');

export class ChangeNotifier {
  private readonly runner: ConsumerRunner<MethodState>;
  /** One tells at a time: the change runner and the digest timer never race for one subscriber. */
  private readonly oneAtATime = oneAtATime();

  constructor(private readonly parts: NotifierParts) {
    const { context, settings } = parts;
    this.runner = new ConsumerRunner<MethodState>(context.kafka, context.registry, context.producer, {
      name: 'subscriptions-notifier',
      groupId: context.group('subscriptions-notifier'),
      topics: [context.topic(STATE_TOPIC)],
      bus: context.bus,
      retryBaseMs: settings.SUBSCRIPTIONS_RETRY_BASE_MS,
      retryMaxMs: settings.SUBSCRIPTIONS_RETRY_MAX_MS,
      handle: (delivery) => this.oneAtATime(() => this.handle(delivery)),
    });
  }

  get trouble() {
    return this.runner.trouble;
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private links(subscription: Subscription) {
    const base = publicBase(this.parts.settings);
    const token = unsubscribeTokenOf(this.parts.signingKey, subscription.subscriptionId);
    return {
      unsubscribe: `${base}/subscriptions/v1/unsubscribe?token=${encodeURIComponent(token)}`,
      methods: `${base}/api/v1/methods`,
    };
  }

  private async handle({ value: state, log }: Delivery<MethodState>): Promise<void> {
    const notice = noticeOf(state);
    for (const subscription of this.parts.book.active().filter((s) => concerns(s, state))) {
      const key = deliveryKeyOf(subscription.subscriptionId, notice.changeId);
      if (this.parts.ledger.get(key)) continue;
      const base = {
        deliveryKey: key,
        subscriptionId: subscription.subscriptionId,
        changeId: notice.changeId,
        methodId: notice.methodId,
        methodName: notice.methodName,
        status: notice.status,
        methodVersion: notice.methodVersion,
        changedAt: notice.changedAt,
        digestId: null,
        reason: null,
      };
      if (subscription.digestEveryMinutes !== null) {
        await this.parts.ledger.record([{ ...base, state: 'QUEUED', at: new Date().toISOString() }]);
        continue;
      }
      const refusal = await this.tell(subscription, [notice], notice.changeId, state, log);
      await this.parts.ledger.record([
        refusal
          ? { ...base, state: 'REFUSED', reason: refusal, at: new Date().toISOString() }
          : { ...base, state: 'SENT', at: new Date().toISOString() },
      ]);
    }
  }

  /** Sends every digest whose period has passed since its oldest queued change. */
  sendDueDigests(now = Date.now()): Promise<number> {
    return this.oneAtATime(async () => {
      let sent = 0;
      for (const subscription of this.parts.book.active()) {
        if (subscription.digestEveryMinutes === null) continue;
        const queued = this.parts.ledger.queuedFor(subscription.subscriptionId);
        if (queued.length === 0) continue;
        const dueAt = Date.parse(queued[0]!.at) + subscription.digestEveryMinutes * 60_000;
        if (dueAt > now) continue;
        const digestId = `digest-${randomUUID()}`;
        const refusal = await this.tell(subscription, queued.map(noticeOfDelivery), digestId, undefined);
        const at = new Date().toISOString();
        await this.parts.ledger.record(
          queued.map(
            (d): SubscriptionDelivery =>
              refusal
                ? { ...d, state: 'REFUSED', reason: refusal, digestId, at }
                : { ...d, state: 'SENT', digestId, at },
          ),
        );
        if (!refusal) sent++;
      }
      return sent;
    });
  }

  /** Tells one subscriber; a refusal that will not pass comes back as its reason, anything else throws. */
  private async tell(
    subscription: Subscription,
    notices: ChangeNotice[],
    messageKey: string,
    source: MethodState | undefined,
    log?: Logger,
  ): Promise<string | undefined> {
    const links = this.links(subscription);
    const sources = source ? [{ topic: STATE_TOPIC, value: source }] : [];
    const deliveryId = `${subscription.subscriptionId}/${messageKey}`;
    try {
      if (subscription.channel === 'EMAIL') {
        const message = emailOf(subscription, notices, links, deliveryId);
        guardOutbound(`subscription e-mail ${subscription.subscriptionId}`, message, { sources });
        await this.parts.mailer.send(subscription.email!, message, links.unsubscribe);
      } else {
        const body = webhookBodyOf(subscription, notices, links, deliveryId);
        guardOutbound(`subscription webhook ${subscription.subscriptionId}`, body, { sources });
        const secret = webhookSecretOf(this.parts.signingKey, subscription.subscriptionId);
        await postWebhook(
          this.parts.guard,
          subscription.webhookUrl!,
          body,
          {
            'x-metodehub-delivery': deliveryId,
            'x-metodehub-subscription': subscription.subscriptionId,
            'x-metodehub-signature': webhookSignatureOf(secret, body),
          },
          this.parts.settings.SUBSCRIPTIONS_WEBHOOK_TIMEOUT_MS,
        );
      }
      log?.info({ subscriptionId: subscription.subscriptionId, changes: notices.length }, 'subscriber told');
      return undefined;
    } catch (error) {
      if (error instanceof PermanentError || error instanceof ConfidentialLeak) {
        log?.warn(
          { subscriptionId: subscription.subscriptionId, reason: error.message },
          'subscriber refused',
        );
        return error.message;
      }
      throw error;
    }
  }
}

/**
 * The subscriptions adapter (abonnering): people and systems subscribe to changes of a method, a specialty or
 * an ATC group and are told of each change by e-mail or signed webhook, or in a digest. Subscriptions and
 * what was told live on Kafka topics, not on disk. See README.md.
 */
import { Topics } from '../../contracts/topics.ts';
import { randomBytes } from 'node:crypto';
import { loadSettings } from '../../core/config/spec.ts';
import type {
  AdapterDefinition,
  ComponentHealth,
  HubComponent,
  HubContext,
} from '../../core/hub/component.ts';
import { UrlGuard } from '../../core/http/urlGuard.ts';
import { loggerFor } from '../../core/log/logger.ts';
import { Mailer } from './client.ts';
import { DELIVERIES_TOPIC, DeliveryLedger } from './deliveryLedger.ts';
import { ChangeNotifier } from './outbound.ts';
import { subscriptionRoutes } from './routes.ts';
import { subscriptionSettings } from './settings.ts';
import { SUBSCRIPTIONS_TOPIC, SubscriptionBook } from './subscriptionBook.ts';

const log = loggerFor('subscriptions');

export function createSubscriptionsComponent(context: HubContext): HubComponent {
  const settings = loadSettings(subscriptionSettings, context.env);
  const ephemeralKey = !settings.SUBSCRIPTIONS_SIGNING_KEY;
  const signingKey = settings.SUBSCRIPTIONS_SIGNING_KEY || randomBytes(32).toString('hex');
  context.registry.alias(context.topic(SUBSCRIPTIONS_TOPIC), SUBSCRIPTIONS_TOPIC);
  context.registry.alias(context.topic(DELIVERIES_TOPIC), DELIVERIES_TOPIC);
  const guard = new UrlGuard({
    allowHttp: context.config.OUTBOUND_ALLOW_HTTP,
    allowedHosts: context.config.OUTBOUND_ALLOWED_HOSTS,
  });
  const book = new SubscriptionBook(
    context.kafka,
    context.registry,
    context.producer,
    context.topic(SUBSCRIPTIONS_TOPIC),
  );
  const ledger = new DeliveryLedger(
    context.kafka,
    context.registry,
    context.producer,
    context.topic(DELIVERIES_TOPIC),
  );
  const mailer = new Mailer(settings);
  const notifier = new ChangeNotifier({ context, settings, signingKey, book, ledger, mailer, guard });
  let timer: NodeJS.Timeout | undefined;

  return {
    async routes(app) {
      await app.register(subscriptionRoutes({ settings, signingKey, book, guard }));
    },

    async start() {
      await book.start();
      await ledger.start();
      await notifier.start();
      timer = setInterval(() => {
        notifier
          .sendDueDigests()
          .catch((error: Error) =>
            log.warn({ err: error.message }, 'digest not sent; tried again next round'),
          );
      }, settings.SUBSCRIPTIONS_DIGEST_CHECK_MS);
      timer.unref();
      if (ephemeralKey)
        log.warn(
          'SUBSCRIPTIONS_SIGNING_KEY is not set: unsubscribe links and webhook secrets last only until restart',
        );
      if (!mailer.configured) log.warn('SMTP_HOST is not set: e-mail subscribers are not told until it is');
      log.info({ subscriptions: book.active().length }, 'subscriptions adapter started');
    },

    async stop() {
      if (timer) clearInterval(timer);
      await notifier.stop();
      await ledger.stop();
      await book.stop();
      mailer.close();
    },

    health(): ComponentHealth {
      const count = `${book.active().length} subscription(s); ${ledger.sent} message(s) sent${ledger.lastSentAt ? `, last ${ledger.lastSentAt}` : ''}`;
      const trouble = notifier.trouble;
      if (trouble) return { ok: false, detail: `${count}; retrying a change: ${trouble.reason}` };
      if (!mailer.configured) return { ok: true, detail: `${count}; e-mail held: SMTP_HOST is not set` };
      return { ok: true, detail: count };
    },
  };
}

export const subscriptionsAdapter: AdapterDefinition = {
  name: 'subscriptions',
  description:
    'Subscriptions (abonnering): e-mail and signed webhooks for changes of a method, specialty or ATC group',
  settings: subscriptionSettings,
  flow: {
    consumes: [Topics.methodState, Topics.subscriptions, Topics.subscriptionDeliveries],
    produces: [Topics.subscriptions, Topics.subscriptionDeliveries],
    partner: 'Subscribers',
    direction: 'to-partner',
    carries: [Topics.subscriptionDeliveries],
  },
  create: createSubscriptionsComponent,
};

/**
 * The EU HTA Joint Clinical Assessment channel (Regulation (EU) 2021/2282): JCA notifications in over
 * HTTP, linked to national methods, out on eu.jca-notifications.v1 and in the methods' history.
 */
import type { JcaNotification } from '../../contracts/generated/types.ts';
import { dlqTopicOf, Topics } from '../../contracts/topics.ts';
import { ensureDeadLetterTopics } from '../../core/bus/deadLetter.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { loadSettings } from '../../core/config/spec.ts';
import type { AdapterDefinition, HubComponent, HubContext } from '../../core/hub/component.ts';
import type { MethodStore } from '../../core/lifecycle/methodStore.ts';
import { loggerFor } from '../../core/log/logger.ts';
import { jcaIntakeRoutes } from './inbound.ts';
import { JcaProcedures } from './procedures.ts';
import { RejectedDocuments } from './rejections.ts';
import { jcaSettings } from './settings.ts';

export const EVENTS_TOPIC = Topics.methodEvents;
export const NOTIFICATIONS_TOPIC = Topics.jcaNotifications;

export function createJcaIntake(context: HubContext): HubComponent & {
  store: MethodStore;
  procedures: JcaProcedures;
  rejected: RejectedDocuments;
} {
  const settings = loadSettings(jcaSettings, context.env);
  const log = loggerFor('eu-jca');
  const eventsTopic = context.topic(EVENTS_TOPIC);
  const notificationsTopic = context.topic(NOTIFICATIONS_TOPIC);
  // The national methods, as the hub's one fold of the event log has them.
  const methods = context.methodLog;
  const store = methods.store;
  const procedures = new JcaProcedures();
  const rejected = new RejectedDocuments(
    context.producer,
    dlqTopicOf(notificationsTopic),
    settings.JCA_REJECTED_KEPT,
    log,
  );
  const notifications = new TopicFollower<JcaNotification>(context.kafka, context.registry, {
    name: 'eu-jca-notifications',
    topic: notificationsTopic,
    onMessage: (notification) => procedures.offer(notification),
  });
  const ready = () => methods.caughtUp && notifications.caughtUp;
  return {
    store,
    procedures,
    rejected,
    routes: jcaIntakeRoutes({
      settings,
      producer: context.producer,
      store,
      procedures,
      rejected,
      eventsTopic,
      notificationsTopic,
      ready,
      log,
    }),
    async start() {
      await ensureDeadLetterTopics(context.kafka, [notificationsTopic]);
      await methods.start();
      await notifications.start();
      await methods.waitUntilCaughtUp(120_000);
      await notifications.waitUntilCaughtUp(120_000);
      log.info({ methods: store.size, procedures: procedures.size }, 'JCA intake ready');
    },
    async stop() {
      await notifications.stop();
    },
    health() {
      return ready()
        ? {
            ok: true,
            detail: `${procedures.size} JCA procedure(s), ${store.size} national method(s) known, ${rejected.list().length} recent rejection(s)`,
          }
        : { ok: false, detail: 'still reading the method events and the JCA notifications' };
    },
  };
}

export const euJcaAdapter: AdapterDefinition = {
  name: 'eu-jca',
  description:
    'EU HTA Joint Clinical Assessment intake: POST /jca/v1/intake (JSON or XML), links to national methods, timeline',
  settings: jcaSettings,
  flow: {
    consumes: [Topics.methodEvents, Topics.jcaNotifications],
    throughHub: [Topics.methodEvents],
    produces: [Topics.jcaNotifications, Topics.methodEvents],
    partner: 'EU HTA platform',
    direction: 'from-partner',
    carries: [Topics.jcaNotifications],
  },
  create: createJcaIntake,
};

/**
 * The financing adapter: every medicine decision (ATC code, H-prescription flag, dates) for the financing
 * schemes, published to `financing.drug-decisions.v1` and served by period over HTTP.
 */
import { Topics } from '../../contracts/topics.ts';
import type { DrugDecision } from '../../contracts/generated/types.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { loadSettings } from '../../core/config/spec.ts';
import type { AdapterDefinition, HubComponent, HubContext } from '../../core/hub/component.ts';
import { DecisionFeed } from './decisionFeed.ts';
import { DecisionPublisher, EVENTS_TOPIC, FEED_TOPIC } from './outbound.ts';
import { decisionRoutes } from './routes.ts';
import { financingSettings } from './settings.ts';
import { TransientError } from '../../core/bus/errors.ts';

export function createFinancing(context: HubContext): HubComponent & {
  feed: DecisionFeed;
  publisher: DecisionPublisher;
} {
  const settings = loadSettings(financingSettings, context.env);
  const feed = new DecisionFeed();
  const feedTopic = context.topic(FEED_TOPIC);
  const follower = new TopicFollower<DrugDecision>(context.kafka, context.registry, {
    name: 'financing-feed',
    topic: feedTopic,
    onMessage: (record) => feed.offer(record),
  });
  const publisher = new DecisionPublisher({
    kafka: context.kafka,
    registry: context.registry,
    producer: context.producer,
    methodLog: context.methodLog,
    eventsTopic: context.topic(EVENTS_TOPIC),
    feedTopic,
    groupId: context.group('financing'),
    bus: context.bus,
    published: (recordId) => feed.has(recordId),
    startTimeoutMs: settings.FINANCING_START_TIMEOUT_MS,
  });
  let running = false;
  return {
    feed,
    publisher,
    async routes(app) {
      await app.register(decisionRoutes(feed, settings, () => follower.caughtUp));
    },
    async start() {
      // The feed must be read to its end before publishing, so nothing already there is sent again; the
      // event log is folded meanwhile.
      const feedRead = follower
        .start()
        .then(() => follower.waitUntilCaughtUp(settings.FINANCING_START_TIMEOUT_MS));
      const [caughtUp] = await Promise.all([feedRead, publisher.catchUp()]);
      if (!caughtUp) {
        throw new TransientError(
          `financing: could not read ${feedTopic} to its end in ${settings.FINANCING_START_TIMEOUT_MS} ms`,
        );
      }
      await publisher.consume();
      running = true;
    },
    async stop() {
      running = false;
      await publisher.stop();
      await follower.stop();
    },
    health() {
      if (!running) return { ok: false, detail: 'financing: not started' };
      if (!follower.caughtUp) return { ok: false, detail: `financing: still reading ${feedTopic}` };
      const conflicts = feed.hPrescriptionConflicts();
      // A disagreement is the case system's data to correct, not a fault of the feed: flagged, still ok.
      const disagreeing = conflicts.length
        ? `; H-prescription flags disagree for ${conflicts.length} substance(s): ${conflicts
            .slice(0, 3)
            .map(
              (c) =>
                `${c.substance} (${c.methods.map((m) => `${m.methodId} ${m.hPrescription ? 'H' : 'not H'}`).join(', ')})`,
            )
            .join(
              '; ',
            )}${conflicts.length > 3 ? '; ...' : ''}, see GET /financing/v1/h-prescription-conflicts`
        : '';
      return {
        ok: true,
        detail: `financing: ${feed.size} records in the feed, ${publisher.publishedCount} published by this instance, ${publisher.deadLetters.length} dead-lettered${disagreeing}`,
      };
    },
  };
}

export const financingAdapter: AdapterDefinition = {
  name: 'financing',
  description:
    'medicine decisions (ATC, H-prescription) to financing.drug-decisions.v1 and GET /financing/v1/decisions',
  settings: financingSettings,
  flow: {
    consumes: [Topics.methodEvents, Topics.financingDrugDecisions],
    throughHub: [Topics.methodEvents],
    produces: [Topics.financingDrugDecisions],
    partner: 'financing schemes',
    direction: 'to-partner',
    carries: [Topics.financingDrugDecisions],
  },
  create: (context) => createFinancing(context),
};

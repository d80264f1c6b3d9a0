/**
 * The Helsedirektoratet adapter: flags methods relevant to national guidelines and cancer programmes
 * (hdir.guideline-flags.v1), notifies Helsedirektoratet of relevant changes, keeps the implementation
 * runs they report, and raises runs past their deadline. See README.md.
 */
import { loadSettings } from '../../core/config/spec.ts';
import type {
  AdapterDefinition,
  ComponentHealth,
  HubComponent,
  HubContext,
} from '../../core/hub/component.ts';
import { loggerFor } from '../../core/log/logger.ts';
import { HdirClient } from './client.ts';
import { FlagBook } from './flagBook.ts';
import { FLAGS_TOPIC, Flagger } from './flagger.ts';
import { MethodDirectory } from './methodDirectory.ts';
import { MethodHistory } from './methodHistory.ts';
import { OverdueWatch } from './monitoring.ts';
import { Notifier } from './outbound.ts';
import { ReassessmentWatch } from './reassessmentWatch.ts';
import { hdirRoutes } from './routes.ts';
import { loadRules } from './rules.ts';
import { hdirSettings } from './settings.ts';
import { Topics } from '../../contracts/topics.ts';

const log = loggerFor('hdir');

export function createHdirComponent(context: HubContext): HubComponent {
  const settings = loadSettings(hdirSettings, context.env);
  const ruleBook = loadRules(settings.HDIR_RULES_FILE);
  const rules = () => ruleBook;
  context.registry.alias(context.topic(FLAGS_TOPIC), FLAGS_TOPIC);
  const book = new FlagBook(context.kafka, context.registry, context.topic(FLAGS_TOPIC));
  const directory = new MethodDirectory(context.kafka, context.registry, context.topic(Topics.methodState));
  const history = new MethodHistory(context.methodLog);
  const watch = new OverdueWatch(rules, settings.HDIR_DEADLINE_DAYS, log);
  const flagger = new Flagger({ context, book, history, rules });
  const followUp = new ReassessmentWatch({
    context,
    book,
    directory,
    warnDays: context.config.FOLLOW_UP_REASSESS_WARN_DAYS,
    log,
  });
  const checkFollowUp = () =>
    void followUp
      .check()
      .catch((error: Error) =>
        log.warn({ err: error.message }, 'reassessment alerts not written; will look again'),
      );
  const client = settings.HDIR_NOTIFY_URL
    ? new HdirClient({
        url: settings.HDIR_NOTIFY_URL,
        token: settings.HDIR_NOTIFY_TOKEN,
        timeoutMs: settings.HDIR_NOTIFY_TIMEOUT_MS,
        circuitFailures: settings.HDIR_CIRCUIT_FAILURES,
        circuitOpenMs: settings.HDIR_CIRCUIT_OPEN_MS,
      })
    : undefined;
  const notifier = client
    ? new Notifier({
        context,
        client,
        directory,
        rules,
        retryBaseMs: settings.HDIR_RETRY_BASE_MS,
        retryMaxMs: settings.HDIR_RETRY_MAX_MS,
      })
    : undefined;
  let timer: NodeJS.Timeout | undefined;
  let listening = false;

  return {
    async routes(app) {
      await app.register(hdirRoutes({ context, settings, book, directory, rules, watch }));
    },

    async start() {
      await Promise.all([directory.start(), book.start(), history.start()]);
      if (!listening) {
        listening = true; // a start tried again must not add a second listener
        book.onRecord((record) => watch.update(record));
      }
      watch.check(book.all());
      timer = setInterval(() => {
        watch.check(book.all());
        checkFollowUp();
      }, settings.HDIR_ALERT_CHECK_MS);
      timer.unref();
      await flagger.start();
      checkFollowUp();
      if (notifier) await notifier.start();
      else log.warn('HDIR_NOTIFY_URL is not set: notifications wait on the flags topic until it is');
      log.info(
        { flags: book.size, methods: directory.size, rules: ruleBook.rules.length, source: ruleBook.source },
        'hdir adapter started',
      );
    },

    async stop() {
      if (timer) clearInterval(timer);
      await notifier?.stop();
      await flagger.stop();
      await Promise.all([book.stop(), directory.stop(), history.stop()]);
    },

    health(): ComponentHealth {
      if (!client) {
        return { ok: true, detail: `${book.size} flags; notifications held: HDIR_NOTIFY_URL is not set` };
      }
      const waiting = notifier?.waitingOn ? `; waiting to deliver ${notifier.waitingOn}` : '';
      return client.lastError
        ? {
            ok: false,
            detail: `${book.size} flags; Helsedirektoratet unreachable (${client.lastError})${waiting}`,
            circuit: client.circuit,
          }
        : {
            ok: true,
            detail: `${book.size} flags; ${client.delivered} notification(s) delivered${client.lastDeliveredAt ? `, last ${client.lastDeliveredAt}` : ''}`,
            circuit: client.circuit,
          };
    },
  };
}

export const hdirAdapter: AdapterDefinition = {
  name: 'hdir',
  description: 'Helsedirektoratet: guideline flags, notifications, implementation status and overdue alerts',
  settings: hdirSettings,
  flow: {
    consumes: [Topics.methodEvents, Topics.hdirGuidelineFlags, Topics.methodState],
    throughHub: [Topics.methodEvents],
    produces: [Topics.hdirGuidelineFlags],
    partner: 'Helsedirektoratet',
    direction: 'to-partner',
    carries: [Topics.hdirGuidelineFlags],
  },
  create: createHdirComponent,
};

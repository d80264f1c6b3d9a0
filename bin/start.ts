/**
 * `npm start`: everything a new user needs, in one command. Brings up the native stack if it is not
 * running, applies topics and contracts, starts the hub with every adapter and the local dev issuer,
 * replays the demo history, subscribes the demo's subscribers, and prints where to look. Ctrl-C stops the
 * hub; the stack keeps running (`npm run stack:down` stops it).
 */
import { stackOptionsFromEnv, stackUp, topicProfileOf } from '../deploy/local/stack.ts';
import { kafkaFromConfig } from '../core/bus/kafka.ts';
import { ContractRegistry, registryAuthOf } from '../core/bus/registry.ts';
import { applyTopics } from '../core/bus/topics.ts';
import { ConfigError, loadConfig, loadSettings } from '../core/config/spec.ts';
import { cliSettings } from '../core/cli/settings.ts';
import { demoHistory, demoSummary } from '../core/demo/history.ts';
import { DEMO_SUBSCRIPTIONS, nextDemoChange, subscribeDemo } from '../core/demo/subscriptions.ts';
import { createHub } from './hub.ts';
import { guardRejections } from '../core/hub/processGuard.ts';
import { loggerFor } from '../core/log/logger.ts';
import { untilSignal } from './cli.ts';
import { replay } from '../core/cli/simulate.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

interface StandIns {
  lines: string[];
  close: () => Promise<void>;
}

/**
 * For a local run, stand-ins for the partners we cannot reach (SLV's Dynamics 365, Helsedirektoratet's
 * endpoint, an SMTP server for the subscriptions' e-mail), the same ones the tests use, so every adapter has
 * someone to talk to and an operator can switch a partner off and on to watch the dashboard. Skipped for a partner whose URL is set, or for all
 * with METODEHUB_STAND_INS=false.
 */
async function startStandIns(): Promise<StandIns> {
  const lines: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  if (!loadSettings(cliSettings).METODEHUB_STAND_INS) return { lines, close: async () => {} };
  if (!process.env.SLV_URL) {
    const { startDynamicsEmulator } = await import('../deploy/emulators/dynamics/server.ts');
    const slv = await startDynamicsEmulator({
      clients: [{ clientId: 'metodehub-slv', clientSecret: 'local-stand-in' }],
    });
    Object.assign(process.env, {
      SLV_URL: slv.url,
      SLV_TOKEN_URL: slv.tokenUrl,
      SLV_CLIENT_ID: 'metodehub-slv',
      SLV_CLIENT_SECRET: 'local-stand-in',
    });
    closers.push(() => slv.close());
    lines.push(
      `  DMP, formerly SLV (Dynamics 365 stand-in)   ${slv.url}    off for 2 min: curl -X POST ${slv.url}/_emulator/faults -H 'content-type: application/json' -d '{"downForMs":120000}'`,
    );
  }
  if (!process.env.HDIR_NOTIFY_URL) {
    const { startHdirStandIn } = await import('../deploy/emulators/hdir/server.ts');
    const hdir = await startHdirStandIn();
    process.env.HDIR_NOTIFY_URL = hdir.notifyUrl;
    const base = new URL(hdir.notifyUrl).origin;
    closers.push(() => hdir.close());
    lines.push(
      `  Helsedirektoratet stand-in    ${base}    off: curl -X POST ${base}/_standin/down   on: curl -X POST ${base}/_standin/up`,
    );
  }
  if (!process.env.SMTP_HOST) {
    // aiosmtpd is installed into .stack/py on first use; without it, e-mail waits for SMTP_* to be set.
    const { startSmtpSink } = await import('../deploy/emulators/smtp.ts');
    try {
      const smtp = await startSmtpSink();
      Object.assign(process.env, { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_TLS: 'false' });
      closers.push(() => smtp.close());
      lines.push(
        `  SMTP sink (aiosmtpd)          127.0.0.1:${smtp.port}    each e-mail as JSON in ${smtp.folder}`,
      );
    } catch (error) {
      lines.push(
        `  SMTP sink not started (${(error as Error).message.split('\n')[0]}); set SMTP_HOST, SMTP_PORT and SMTP_TLS=false to point at one`,
      );
    }
  }
  return { lines, close: async () => void (await Promise.all(closers.map((c) => c()))) };
}

async function start(): Promise<void> {
  const t0 = Date.now();
  const stack = stackOptionsFromEnv();
  const { started, endpoints } = await stackUp(stack);
  say(started.length > 0 ? `Started ${started.join(' and ')}.` : 'The Kafka stack was already running.');

  const standIns = await startStandIns();
  const config = loadConfig({
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    // A three-broker stack (STACK_BROKERS=3) gets production's replication unless KAFKA_TOPIC_PROFILE says otherwise.
    KAFKA_TOPIC_PROFILE: topicProfileOf(stack),
    AUTH_DEV_ISSUER: 'true',
    ...process.env,
  });
  const kafka = kafkaFromConfig(config);
  const applied = await applyTopics(kafka, undefined, { profile: config.KAFKA_TOPIC_PROFILE });
  const created = applied.filter((a) => a.action !== 'unchanged').length;
  await new ContractRegistry(config.SCHEMA_REGISTRY_URL, registryAuthOf(config)).registerAll();
  say(`Topics and contracts applied (${created} of ${applied.length} topics created or updated).`);

  const hub = createHub({ config, kafka });
  guardRejections(loggerFor('hub'));
  await hub.start();
  await hub.waitUntilReady();
  say(`Hub started (${hub.components.join(', ')}); it had ${hub.store.size} methods in its event log.`);

  const token = await hub.devToken();
  const events = demoHistory();
  const summary = demoSummary(events);
  say(
    `Replaying the demo history: ${summary.methods} methods, ${summary.events} events (${summary.firstOccurredAt.slice(0, 10)} .. ${summary.lastOccurredAt.slice(0, 10)}).`,
  );
  const result = await replay({
    target: { url: hub.url!, token },
    events,
    rate: 0,
    batchSize: 250,
    progress: process.stderr.isTTY === true,
  });
  say(
    `Demo loaded in ${result.seconds.toFixed(1)} s: ${result.applied} events applied, ${result.duplicate} already there.`,
  );
  const subscribed = await subscribeDemo(hub.url!, token).catch((error: Error) => {
    say(`Demo subscriptions not made: ${error.message}`);
    return 0;
  });
  // The first subscriber's next planned change, brought forward to now, so the SMTP sink shows an e-mail at once.
  const next = nextDemoChange(DEMO_SUBSCRIPTIONS[0]!);
  let broughtForward: typeof next;
  if (next) {
    const target = { url: hub.url!, token };
    await replay({ target, events: [next], rate: 0, batchSize: 1, progress: false }).then(
      () => {
        broughtForward = next;
      },
      (error: Error) => say(`The demo's next change was not brought forward: ${error.message}`),
    );
  }
  say(
    `Demo subscriptions: ${DEMO_SUBSCRIPTIONS.map((s) => `${s.email} (${s.topic.kind} ${s.topic.value})`).join(', ')}; ${subscribed} new.` +
      (broughtForward
        ? ` ${broughtForward.methodId} ${broughtForward.type} brought forward to now: watch the e-mail arrive.`
        : ''),
  );
  say(instructions(hub.url!, token, ((Date.now() - t0) / 1000).toFixed(0)));
  if (standIns.lines.length > 0)
    say(
      `Partner stand-ins (switch one off and watch its edge on the dashboard turn red):\n${standIns.lines.join('\n')}\n`,
    );
  await untilSignal(async () => {
    await hub.stop();
    await standIns.close();
  });
}

function instructions(url: string, token: string, seconds: string): string {
  return `
metodehub is up (${seconds} s). Ctrl-C stops the hub; npm run stack:down stops Kafka and the registry.

  dashboard      ${url}/ops/#token=${token}
  API            ${url}/api/v1
  OpenAPI        ${url}/api/v1/openapi.json
  health         ${url}/healthz   ${url}/readyz
  metrics        ${url}/metrics
  logs           ${process.env.LOG_FILE || 'standard output'}

A token (12 h, read, write and operations scopes; \`npx metodehub token\` mints another):
  export METODEHUB_TOKEN=${token}

Try:
  npx metodehub method ID2016_001                       # a method now
  npx metodehub method ID2016_001 --as-of 2017-06-30    # ...and as it stood then
  npx metodehub history ID2016_001                      # every event, with the change log
  npx metodehub stats --by slvTrack                     # days per stage, longest waiting, counts
  npx metodehub stats --as-of 2020-12-31                # counts per stage on a past date
  npx metodehub simulate --rate 20                      # replay again (known events are dropped)
  npx metodehub trace ID2016_001                        # every message about it, on every topic, with latencies
  npx metodehub dlq list --pending                      # dead letters waiting for an operator

  curl -H "Authorization: Bearer $METODEHUB_TOKEN" '${url}/api/v1/methods?status=DECIDED&atc=L01'
  curl -H "Authorization: Bearer $METODEHUB_TOKEN" '${url}/api/v1/methods/ID2016_001/history?asOf=2018-01-01'
  curl -H "Authorization: Bearer $METODEHUB_TOKEN" '${url}/api/v1/stats/stages?by=specialty'

Partners:
  curl -H "Authorization: Bearer $METODEHUB_TOKEN" '${url}/fest/v1/vilkar' | head -c 2000     # FEST conditions (XML)
  curl -H "Authorization: Bearer $METODEHUB_TOKEN" -H 'Accept: text/csv' '${url}/financing/v1/decisions?from=2024-01-01&to=2024-12-31'
  curl -H "Authorization: Bearer $METODEHUB_TOKEN" '${url}/hdir/v1/flags?overdue=true'
  curl -H "Authorization: Bearer $METODEHUB_TOKEN" '${url}/jca/v1/timeline'

Subscriptions (e-mail to the SMTP sink below, or to the server SMTP_HOST, SMTP_PORT and SMTP_TLS name): the demo's
subscribers (core/demo/subscriptions.ts) are told of changes after they subscribed:
  curl -H "Authorization: Bearer $METODEHUB_TOKEN" '${url}/subscriptions/v1/subscriptions'
`;
}

start().catch((error: unknown) => {
  process.stderr.write(
    error instanceof ConfigError
      ? `${error.message}\n`
      : `npm start failed: ${(error as Error).stack ?? error}\n`,
  );
  process.exit(1);
});

/**
 * Benchmark: the Helsedirektoratet adapter on the demo history. Writes the generated Nye metoder history
 * (default 320 methods since 2016) to fresh topics, runs the projection and the hdir adapter against the
 * Helsedirektoratet stand-in, and prints how long it takes until every notification is delivered, with
 * flag records, notifications per second, and what the monitoring then shows (overdue runs, runs per
 * guideline). With --fail-every n the stand-in answers every n-th request with 503, to show the retries.
 *
 *   LOG_LEVEL=warn npx tsx bench/hdir-flags.ts [--methods 320] [--fail-every 0]
 *
 * Needs the stack (npm run stack:up) or KAFKA_BROKERS and SCHEMA_REGISTRY_URL.
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { hdirAdapter } from '../adapters/hdir/adapter.ts';
import { hdirSettings } from '../adapters/hdir/settings.ts';
import { newHeaders } from '../core/bus/headers.ts';
import { createKafka } from '../core/bus/kafka.ts';
import { loadConfig, loadSettings } from '../core/config/spec.ts';
import { demoHistory } from '../core/demo/history.ts';
import { DevIssuer } from '../core/http/devIssuer.ts';
import { createHub } from '../bin/hub.ts';
import { startHdirStandIn } from '../deploy/emulators/hdir/server.ts';
import { Topics } from '../contracts/topics.ts';
import { requireStack } from './support/preflight.ts';

const options = new Command('bench:hdir')
  .description('Flagging and notification throughput of the hdir adapter on the demo history.')
  .option('--methods <n>', 'methods in the demo history', (v) => Number(v), 320)
  .option(
    '--fail-every <n>',
    'answer every n-th notification request with 503 (0: never)',
    (v) => Number(v),
    0,
  )
  .parse()
  .opts<{ methods: number; failEvery: number }>();

const env = {
  ...process.env,
  HUB_PORT: '0',
  AUTH_DEV_ISSUER: 'true',
  HDIR_RETRY_BASE_MS: '50',
  HDIR_RETRY_MAX_MS: '500',
};
const config = loadConfig(env);
await requireStack('bench:hdir', config);
const kafka = createKafka(config.KAFKA_BROKERS, 'metodehub-bench');
const run = randomUUID().slice(0, 8);
const topics = {
  [Topics.methodEvents]: `bench.hdir.${run}.events`,
  [Topics.methodState]: `bench.hdir.${run}.state`,
  [Topics.hdirGuidelineFlags]: `bench.hdir.${run}.flags`,
};

const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
  waitForLeaders: true,
});

const standIn = await startHdirStandIn();
if (options.failEvery > 0) {
  // Every n-th request fails: the stand-in is told before each n-th attempt.
  const timer = setInterval(() => {
    if (standIn.attempts % options.failEvery === 0) standIn.failNext(1);
  }, 5);
  timer.unref();
}
const hub = createHub({
  config,
  components: ['projection', 'hdir'],
  topics,
  groupPrefix: `bench-${run}`,
  devIssuer: await DevIssuer.ephemeral(),
  env: { ...env, HDIR_NOTIFY_URL: standIn.notifyUrl },
  adapters: [hdirAdapter],
});
await hub.start();

const events = demoHistory({ methods: options.methods });
const started = performance.now();
for (let i = 0; i < events.length; i += 500) {
  await hub.producer.send(
    Topics.methodEvents,
    events.slice(i, i + 500).map((event) => ({
      key: event.methodId,
      value: event,
      headers: newHeaders({
        id: event.eventId,
        source: '/bench',
        type: `no.nyemetoder.method.${event.type}`,
      }),
    })),
    { to: topics[Topics.methodEvents] },
  );
}
const written = (performance.now() - started) / 1000;

// Done when the flags topic and the deliveries have stood still for 3 s.
let last = -1;
let stillSince = performance.now();
for (;;) {
  await new Promise((r) => setTimeout(r, 200));
  const offsets = await admin.fetchTopicOffsets(topics[Topics.hdirGuidelineFlags]);
  const now = offsets.reduce((sum, o) => sum + Number(o.high), 0) * 1_000_000 + standIn.received.length;
  if (now !== last) {
    last = now;
    stillSince = performance.now();
  } else if (performance.now() - stillSince > 3000) break;
}
const seconds = (stillSince - started) / 1000;
const records = Math.floor(last / 1_000_000);
const delivered = standIn.received.length;
const token = await hub.devToken(['hdir:flags:read']);
const get = async (path: string) =>
  (await fetch(`${hub.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<
    Record<string, unknown>
  >;
const flags = (await get('/hdir/v1/flags')) as { count: number };
const alerts = (await get('/hdir/v1/alerts')) as { count: number };
const times = (await get('/hdir/v1/implementation-times')) as {
  guidelines: { guidelineId: string; open: number; overdue: number }[];
};
const changes: Record<string, number> = {};
for (const n of standIn.received) changes[String(n.body.change)] = (changes[String(n.body.change)] ?? 0) + 1;

console.log(
  `demo history: ${options.methods} methods, ${events.length} events (written in ${written.toFixed(1)} s)`,
);
console.log(`flag records on hdir.guideline-flags.v1: ${records}; active flags: ${flags.count}`);
console.log(
  `notifications delivered: ${delivered} (${Object.entries(changes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}); attempts ${standIn.attempts}, duplicates ${standIn.duplicates}`,
);
console.log(
  `from first event written to last notification delivered: ${seconds.toFixed(1)} s (${(events.length / seconds).toFixed(0)} events/s, ${(delivered / seconds).toFixed(0)} notifications/s)`,
);
console.log(
  `overdue runs (default deadline ${loadSettings(hdirSettings, env).HDIR_DEADLINE_DAYS} days): ${alerts.count}`,
);
console.log(
  `guidelines with decided runs: ${times.guidelines.length}; largest: ${times.guidelines
    .sort((a, b) => b.open - a.open)
    .slice(0, 3)
    .map((g) => `${g.guidelineId} ${g.open} open / ${g.overdue} overdue`)
    .join(', ')}`,
);

await hub.stop();
await standIn.close();
const all = Object.values(topics);
await admin
  .deleteTopics({ topics: [...all, ...all.map((t) => `${t}.dlq`)].filter(Boolean) })
  .catch(() => undefined);
await admin.disconnect();
process.exit(0);

/**
 * Benchmark: the financing feed over the demo data. Folds the demo history into feed records (pure, in
 * process), then asks period queries through the real HTTP route, as JSON and as CSV, for now and as of
 * past instants. Prints fold throughput and p50/p95/p99/max per query kind.
 *
 *   LOG_LEVEL=warn npx tsx bench/financing-feed.ts [--methods 320] [--requests 1000] [--concurrency 4]
 *   LOG_LEVEL=warn npx tsx bench/financing-feed.ts --end-to-end 50
 *
 * The first needs no Kafka: records are stamped as published when their source event occurred. With
 * --end-to-end N it instead runs a hub (api, projection, financing) against KAFKA_BROKERS and
 * SCHEMA_REGISTRY_URL on fresh topics (deleted afterwards), posts N medicine decisions one at a time and
 * times each from the ingress answer until the record is served by GET /financing/v1/decisions.
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { DecisionFeed } from '../adapters/financing/decisionFeed.ts';
import { DecisionFold } from '../adapters/financing/decisionFold.ts';
import { decisionRoutes } from '../adapters/financing/routes.ts';
import { financingSettings } from '../adapters/financing/settings.ts';
import { dateOf, decisionEvent, untilAwaitingDecision } from '../test/support/financingEvents.ts';
import { createKafka } from '../core/bus/kafka.ts';
import { loadConfig, loadSettings } from '../core/config/spec.ts';
import { demoHistory } from '../core/demo/history.ts';
import { TokenVerifier } from '../core/http/auth.ts';
import { DEV_ISSUER, DevIssuer } from '../core/http/devIssuer.ts';
import { createHubServer } from '../core/http/server.ts';
import { createHub } from '../bin/hub.ts';
import { Topics } from '../contracts/topics.ts';

const options = new Command('financing-feed')
  .description('Fold throughput and period-query latency of the financing feed over the demo data.')
  .option('--methods <n>', 'demo methods', (v) => Number(v), 320)
  .option('--requests <n>', 'requests per query kind', (v) => Number(v), 1000)
  .option('--concurrency <n>', 'requests in flight', (v) => Number(v), 4)
  .option('--seed <n>', 'demo seed', (v) => Number(v), 2016)
  .option('--end-to-end <n>', 'time N decisions through a real hub and Kafka instead', (v) => Number(v))
  .parse()
  .opts<{ methods: number; requests: number; concurrency: number; seed: number; endToEnd?: number }>();

const config = loadConfig({ ...process.env, HUB_PORT: '0', AUTH_DEV_ISSUER: 'true' });
const settings = loadSettings(financingSettings, process.env);

let seed = options.seed;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1)! };
}

async function main() {
  const events = demoHistory({ seed: options.seed, methods: options.methods });
  const fold = new DecisionFold();
  const feed = new DecisionFeed();
  const t0 = performance.now();
  let problems = 0;
  for (const event of events) {
    const outcome = fold.offer(event);
    if (outcome?.problem) problems++;
    for (const record of outcome?.records ?? []) feed.offer({ ...record, publishedAt: event.occurredAt });
  }
  const foldMs = performance.now() - t0;
  console.log(
    `fold: ${events.length} events of ${fold.methods} methods -> ${feed.size} records (${problems} refused) in ` +
      `${foldMs.toFixed(0)} ms = ${Math.round(events.length / (foldMs / 1000))} events/s`,
  );

  const first = Date.parse(events[0]!.occurredAt);
  const last = Date.parse(events.at(-1)!.occurredAt);
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const period = () => {
    const a = first + random() * (last - first);
    return { from: day(a), to: day(a + 365 * 86_400_000) };
  };
  const kinds: Record<string, { path: () => string; accept: string }> = {
    'json now': { path: () => `?${new URLSearchParams({ ...period() })}`, accept: 'application/json' },
    'json asOf': {
      path: () =>
        `?${new URLSearchParams({ ...period(), asOf: new Date(first + random() * (last - first)).toISOString() })}`,
      accept: 'application/json',
    },
    'csv now': { path: () => `?${new URLSearchParams({ ...period(), limit: '1000' })}`, accept: 'text/csv' },
    'json history': {
      path: () => `?${new URLSearchParams({ ...period(), includeSuperseded: 'true', by: 'effective' })}`,
      accept: 'application/json',
    },
  };

  const issuer = await DevIssuer.ephemeral();
  const verifier = new TokenVerifier({
    jwks: issuer.jwks(),
    issuer: DEV_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });
  const server = await createHubServer({ config, verifier, ready: () => true });
  await server.register(decisionRoutes(feed, settings, () => true));
  const base = `${await server.listen({ port: 0, host: '127.0.0.1' })}/financing/v1/decisions`;
  const token = await issuer.mint({
    scopes: [settings.FINANCING_READ_SCOPE],
    audience: config.AUTH_AUDIENCE,
  });

  const run = async (kind: { path: () => string; accept: string }, requests: number) => {
    const samples: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next++ < requests) {
        const started = performance.now();
        const response = await fetch(`${base}${kind.path()}`, {
          headers: { authorization: `Bearer ${token}`, accept: kind.accept },
        });
        await response.arrayBuffer();
        samples.push(performance.now() - started);
        if (response.status !== 200) throw new Error(`${kind.path()}: ${response.status}`);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return samples;
  };
  await run(kinds['json now']!, 200); // warm up
  console.log(
    `\n${options.requests} requests per row, ${options.concurrency} in flight, one-year periods, over HTTP on 127.0.0.1`,
  );
  console.log('query          p50 ms   p95 ms   p99 ms   max ms');
  for (const [name, kind] of Object.entries(kinds)) {
    const p = percentiles(await run(kind, options.requests));
    console.log(
      `${name.padEnd(12)} ${[p.p50, p.p95, p.p99, p.max].map((v) => v.toFixed(2).padStart(8)).join(' ')}`,
    );
  }
  await server.close();
}

async function endToEnd(count: number) {
  const hubConfig = loadConfig({ ...process.env, HUB_PORT: '0', AUTH_DEV_ISSUER: 'true' });
  const kafka = createKafka(hubConfig.KAFKA_BROKERS, 'metodehub-bench');
  const suffix = randomUUID().slice(0, 8);
  const topics = {
    [Topics.methodEvents]: `bench.financing.${suffix}.events`,
    [Topics.methodState]: `bench.financing.${suffix}.state`,
    [Topics.financingDrugDecisions]: `bench.financing.${suffix}.feed`,
  };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
    waitForLeaders: true,
  });
  const hub = createHub({
    config: hubConfig,
    components: ['api', 'projection', 'financing'],
    topics,
    groupPrefix: `bench.${suffix}`,
    devIssuer: await DevIssuer.ephemeral(),
    kafka,
  });
  try {
    await hub.start();
    await hub.waitUntilReady(60_000);
    const writer = await hub.devToken();
    const reader = await hub.devToken([settings.FINANCING_READ_SCOPE]);
    const call = (path: string, token: string, body?: unknown) =>
      fetch(`${hub.url}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = `ID2024_${String(i + 1).padStart(3, '0')}`;
      const life = untilAwaitingDecision(id);
      if ((await call('/api/v1/case-events', writer, life)).status !== 200)
        throw new Error(`${id}: not accepted`);
      const answered = await call('/api/v1/case-events', writer, [decisionEvent(id, 40, 'INTRODUCED')]);
      if (answered.status !== 200) throw new Error(`${id}: decision not accepted`);
      const started = performance.now();
      const day = dateOf(40);
      for (;;) {
        const page = (await (
          await call(`/financing/v1/decisions?from=${day}&to=${day}&limit=1000`, reader)
        ).json()) as {
          decisions: { methodId: string }[];
        };
        if (page.decisions.some((d) => d.methodId === id)) break;
        if (performance.now() - started > 30_000) throw new Error(`${id}: not in the feed after 30 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
      samples.push(performance.now() - started);
    }
    const p = percentiles(samples);
    console.log(
      `end to end, ${count} decisions one at a time: ingress answer -> served by GET /financing/v1/decisions\n` +
        `p50 ${p.p50.toFixed(0)} ms, p95 ${p.p95.toFixed(0)} ms, p99 ${p.p99.toFixed(0)} ms, max ${p.max.toFixed(0)} ms (polled every 5 ms)`,
    );
  } finally {
    await hub.stop();
    const names = Object.values(topics);
    const existing = new Set(await admin.listTopics());
    const ours = [...names, ...names.map((t) => `${t}.dlq`)].filter((t) => existing.has(t));
    await admin.deleteTopics({ topics: ours }).catch(() => undefined);
    await admin.disconnect();
  }
}

(options.endToEnd ? endToEnd(options.endToEnd) : main()).catch((error: unknown) => {
  console.error(`financing-feed bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});

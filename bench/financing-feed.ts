/**
 * Benchmark: the financing feed over the demo data. Folds the demo history into feed records (pure, in
 * process), then asks period queries through the real HTTP route, as JSON and as CSV, for now and as of
 * past instants. Prints fold throughput and p50/p95/p99/max per query kind.
 *
 *   LOG_LEVEL=warn npx tsx bench/financing-feed.ts [--methods 320] [--requests 1000] [--concurrency 4]
 *
 * Needs no Kafka: records are stamped as published when their source event occurred.
 */
import { Command } from 'commander';
import { DecisionFeed } from '../adapters/financing/decisionFeed.ts';
import { DecisionFold } from '../adapters/financing/decisionFold.ts';
import { decisionRoutes } from '../adapters/financing/routes.ts';
import { financingSettings } from '../adapters/financing/settings.ts';
import { loadConfig, loadSettings } from '../core/config/spec.ts';
import { demoHistory } from '../core/demo/history.ts';
import { TokenVerifier } from '../core/http/auth.ts';
import { DEV_ISSUER, DevIssuer } from '../core/http/devIssuer.ts';
import { createHubServer } from '../core/http/server.ts';

const options = new Command('financing-feed')
  .description('Fold throughput and period-query latency of the financing feed over the demo data.')
  .option('--methods <n>', 'demo methods', (v) => Number(v), 320)
  .option('--requests <n>', 'requests per query kind', (v) => Number(v), 1000)
  .option('--concurrency <n>', 'requests in flight', (v) => Number(v), 4)
  .option('--seed <n>', 'demo seed', (v) => Number(v), 2016)
  .parse()
  .opts<{ methods: number; requests: number; concurrency: number; seed: number }>();

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

main().catch((error: unknown) => {
  console.error(`financing-feed bench failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});

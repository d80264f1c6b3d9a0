/**
 * Benchmark: time-travel (`asOf`) queries over the demo data, through the real HTTP API, side by side
 * with the same queries for the current state (the baseline). Prints p50/p95/p99/max per endpoint and
 * the ratio of asOf p99 to current p99. Target: asOf p99 under 50 ms.
 *
 *   npm run bench:as-of -- [--requests 2000] [--concurrency 4]
 *
 * Needs no Kafka: the read model is filled from the generated demo history in this process.
 */
import { Command } from 'commander';
import { demoHistory } from '../core/demo/history.ts';
import { loadConfig } from '../core/config/spec.ts';
import { TokenVerifier } from '../core/http/auth.ts';
import { DEV_ISSUER, DevIssuer } from '../core/http/devIssuer.ts';
import { methodRoutes } from '../core/http/methodRoutes.ts';
import { createHubServer } from '../core/http/server.ts';
import { MethodStore } from '../core/lifecycle/methodStore.ts';

const options = new Command('bench:as-of')
  .description('Latency of asOf queries over the demo data against the same queries for now.')
  .option('--requests <n>', 'requests per endpoint and mode', (v) => Number(v), 2000)
  .option('--concurrency <n>', 'requests in flight', (v) => Number(v), 4)
  .option('--seed <n>', 'demo seed', (v) => Number(v), 2016)
  .parse()
  .opts<{ requests: number; concurrency: number; seed: number }>();

const config = loadConfig({ ...process.env, HUB_PORT: '0', AUTH_DEV_ISSUER: 'true' });
const store = new MethodStore();
const events = demoHistory({ seed: options.seed });
const loadStarted = performance.now();
for (const event of events) store.offer(event);
const loadMs = performance.now() - loadStarted;
const ids = store.states().map((s) => s.methodId);
const first = Date.parse(events[0]!.occurredAt);
const last = Date.parse(events.at(-1)!.occurredAt);

// A fixed pseudo-random sequence, so two runs ask the same questions.
let seed = options.seed;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)]!;
const instant = () => new Date(first + random() * (last - first)).toISOString();

const endpoints: Record<string, (asOf: string | null) => string> = {
  method: (asOf) => `/api/v1/methods/${pick(ids)}${asOf ? `?asOf=${asOf}` : ''}`,
  history: (asOf) => `/api/v1/methods/${pick(ids)}/history${asOf ? `?asOf=${asOf}` : ''}`,
  list: (asOf) => `/api/v1/methods?status=DECIDED,ASSESSMENT_IN_PROGRESS${asOf ? `&asOf=${asOf}` : ''}`,
  stats: (asOf) => `/api/v1/stats/stages?by=specialty${asOf ? `&asOf=${asOf}` : ''}`,
};

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1)! };
}

async function timeRequests(base: string, token: string, path: () => string): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next++ < options.requests) {
      const url = `${base}${path()}`;
      const t0 = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      samples.push(performance.now() - t0);
      if (response.status !== 200 && response.status !== 404) throw new Error(`${url}: ${response.status}`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return samples;
}

async function main() {
  const issuer = await DevIssuer.ephemeral();
  const verifier = new TokenVerifier({
    jwks: issuer.jwks(),
    issuer: DEV_ISSUER,
    audience: config.AUTH_AUDIENCE,
  });
  const server = await createHubServer({ config, verifier, ready: () => true });
  await server.register(methodRoutes(store, config.AUTH_READ_SCOPE));
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  const token = await issuer.mint({ scopes: [config.AUTH_READ_SCOPE], audience: config.AUTH_AUDIENCE });
  await timeRequests(base, token, () => endpoints.method!(null)); // warm up the JIT and connections

  console.log(
    `asOf over the demo data: ${store.size} methods, ${events.length} events (folded in ${loadMs.toFixed(0)} ms)`,
  );
  console.log(
    `${options.requests} requests per row, ${options.concurrency} in flight, over HTTP on 127.0.0.1\n`,
  );
  console.log('endpoint   mode      p50 ms   p95 ms   p99 ms   max ms   p99 asOf / p99 now');
  let worst = 0;
  for (const [name, path] of Object.entries(endpoints)) {
    const now = percentiles(await timeRequests(base, token, () => path(null)));
    const past = percentiles(await timeRequests(base, token, () => path(instant())));
    worst = Math.max(worst, past.p99);
    for (const [mode, p] of [
      ['now', now],
      ['asOf', past],
    ] as const) {
      console.log(
        `${name.padEnd(10)} ${mode.padEnd(6)} ${[p.p50, p.p95, p.p99, p.max].map((v) => v.toFixed(2).padStart(8)).join(' ')}${mode === 'asOf' ? `   ${(past.p99 / now.p99).toFixed(2).padStart(8)}` : ''}`,
      );
    }
  }

  const core: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const id = pick(ids);
    const at = Date.parse(instant());
    const t0 = performance.now();
    store.stateOf(id, at);
    core.push(performance.now() - t0);
  }
  const c = percentiles(core);
  console.log(
    `\nin-process stateOf(id, asOf): p50 ${(c.p50 * 1000).toFixed(1)} µs, p99 ${(c.p99 * 1000).toFixed(1)} µs`,
  );
  console.log(
    `target: asOf p99 under 50 ms -> ${worst < 50 ? 'met' : 'NOT met'} (worst endpoint p99 ${worst.toFixed(2)} ms)`,
  );
  await server.close();
}

main().catch((error: unknown) => {
  console.error(`bench:as-of failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});

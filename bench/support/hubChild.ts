/**
 * A whole hub (the API, the projection and every adapter) in a process of its own, on the physical topics and
 * consumer groups the benchmark gives it in BENCH_HUB (JSON), so the load and the independent reader do not
 * share its event loop. Tells its parent over IPC when it listens and when the read model is ready, and
 * answers `heap` with the peak heap and RSS it sampled.
 */
import { adapterCatalogue } from '../../adapters/catalogue.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import { componentNames, createHub } from '../../bin/hub.ts';

export interface HubChildOptions {
  topics: Record<string, string>;
  groupPrefix: string;
  env: Record<string, string>;
}

export type HubChildMessage =
  | { type: 'listening'; url: string; token: string; vendorToken: string; ms: number }
  | { type: 'ready'; ms: number }
  | { type: 'heap'; peakHeapMb: number; peakRssMb: number }
  /**
   * CPU time of the whole process (every thread) and the main thread's busy and idle time, all since start, ms; and how
   * many decodes of consumed messages were done and how many were shared with another reader of the same message.
   */
  | {
      type: 'usage';
      cpuMs: number;
      busyMs: number;
      idleMs: number;
      decodes: { shared: number; done: number };
    }
  | { type: 'failed'; reason: string };

const send = (message: HubChildMessage) => process.send?.(message);
const began = performance.now();
const since = () => Math.round(performance.now() - began);
let peakHeap = 0;
let peakRss = 0;
const sample = () => {
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakRss = Math.max(peakRss, m.rss);
};
setInterval(sample, 100).unref();

const raw = process.env.BENCH_HUB;
if (!raw) throw new Error('BENCH_HUB is not set: the benchmark starts this process with its options');
const options = JSON.parse(raw) as HubChildOptions;
const env = { ...process.env, ...options.env };
const config = loadConfig(env);
const issuer = await DevIssuer.ephemeral();
const hub = createHub({
  config,
  components: componentNames,
  topics: options.topics,
  groupPrefix: options.groupPrefix,
  devIssuer: issuer,
  env,
  adapters: adapterCatalogue,
});

process.on('message', (message: { type?: string }) => {
  if (message.type === 'usage') {
    const { user, system } = process.cpuUsage();
    const { active, idle } = performance.eventLoopUtilization();
    send({
      type: 'usage',
      cpuMs: (user + system) / 1000,
      busyMs: active,
      idleMs: idle,
      decodes: { ...hub.registry.decodes },
    });
    return;
  }
  if (message.type !== 'heap') return;
  sample();
  send({
    type: 'heap',
    peakHeapMb: Math.round(peakHeap / 2 ** 20),
    peakRssMb: Math.round(peakRss / 2 ** 20),
  });
});
process.once('SIGTERM', () => {
  void hub.stop(5_000).finally(() => process.exit(0));
});

try {
  await hub.start();
  const vendorToken = await issuer.mint({
    scopes: ['fest:vilkar:read'],
    subject: 'bench-vendor',
    audience: config.AUTH_AUDIENCE,
    issuer: config.AUTH_ISSUER,
    expiresIn: '2h',
  });
  const token = await hub.devToken(undefined, '2h');
  send({ type: 'listening', url: hub.url ?? '', token, vendorToken, ms: since() });
  if (!(await hub.waitUntilReady(600_000))) throw new Error('the read model did not catch up in 600 s');
  send({ type: 'ready', ms: since() });
} catch (error) {
  send({ type: 'failed', reason: (error as Error).stack ?? String(error) });
  process.exit(1);
}

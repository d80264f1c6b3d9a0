/**
 * A whole hub for a benchmark on the shared stack: every declared topic under a name of its own run, the partner
 * stand-ins on 127.0.0.1 (port 0), and the hub in a child process (bench/support/hubChild.ts) with every adapter.
 * Also an independent look at it: consumer-group lag of every group the hub runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Kafka } from 'kafkajs';
import { topics as declaredTopics } from '../../contracts/topics.ts';
import { applyTopics } from '../../core/bus/topics.ts';
import { repoRoot } from '../../deploy/local/stack.ts';
import { type Partners, startPartners } from '../../test/faults/partners.ts';
import type { HubChildMessage, HubChildOptions } from './hubChild.ts';

export interface BenchHub {
  url: string;
  token: string;
  topics: Record<string, string>;
  groupPrefix: string;
  partners: Partners;
  /** ms from spawn until the API listened, and until the read model had folded the log. */
  listeningMs: number;
  ready: Promise<number>;
  peakMemory: () => Promise<{ peakHeapMb: number; peakRssMb: number }>;
  /** The hub process's CPU time (every thread) and its main thread's busy and idle time since it started, ms. */
  usage: () => Promise<{
    cpuMs: number;
    busyMs: number;
    idleMs: number;
    decodes: { shared: number; done: number };
  }>;
  stop: () => Promise<void>;
}

/** Physical names of every declared topic for one run. */
export const topicsFor = (run: string): Record<string, string> =>
  Object.fromEntries(declaredTopics.map((t) => [t.name, `bench.${run}.${t.name}`]));

/** Creates the run's topics (and their dead-letter topics) with their declared partitions and configuration. */
export async function createRunTopics(kafka: Kafka, topics: Record<string, string>): Promise<void> {
  await applyTopics(
    kafka,
    declaredTopics.map((t) => ({ ...t, name: topics[t.name]! })),
  );
}

export async function deleteRunTopics(kafka: Kafka, topics: Record<string, string>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const physical = Object.values(topics);
  await admin
    .deleteTopics({ topics: [...physical, ...physical.map((t) => `${t}.dlq`)] })
    .catch(() => undefined);
  await admin.disconnect();
}

export async function startBenchHub(options: {
  run: string;
  topics: Record<string, string>;
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  env?: Record<string, string>;
  /** Extra node flags for the hub process (e.g. --cpu-prof). */
  nodeArgs?: string[];
}): Promise<BenchHub> {
  const partners = await startPartners();
  const groupPrefix = `bench-${options.run}`;
  const child: HubChildOptions = {
    topics: options.topics,
    groupPrefix,
    env: {
      KAFKA_BROKERS: options.kafkaBrokers,
      SCHEMA_REGISTRY_URL: options.schemaRegistryUrl,
      HUB_HOST: '127.0.0.1',
      HUB_PORT: '0',
      AUTH_DEV_ISSUER: 'true',
      INGRESS_TRANSACTIONAL_ID: `bench-ingress-${options.run}`,
      INGRESS_MAX_BODY_BYTES: String(4 * 2 ** 20),
      LOG_LEVEL: process.env.BENCH_HUB_LOG_LEVEL ?? 'error',
      ...partners.env,
      ...options.env,
    },
  };
  const started = performance.now();
  const proc: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', 'bench/support/hubChild.ts'],
    {
      cwd: repoRoot,
      // The logger reads LOG_LEVEL from the process environment, not from the hub's settings.
      env: { ...process.env, LOG_LEVEL: child.env.LOG_LEVEL, BENCH_HUB: JSON.stringify(child) },
      // The hub's log goes to stderr, so the tables on stdout stay readable.
      stdio: ['ignore', process.stderr, process.stderr, 'ipc'],
    },
  );
  const exited = new Promise<number | null>((done) => proc.once('exit', done));
  const next = <T extends HubChildMessage['type']>(type: T, timeoutMs: number) =>
    new Promise<Extract<HubChildMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`HUB_SILENT: the benchmark's hub sent no "${type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onMessage = (message: HubChildMessage) => {
        if (message.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`HUB_FAILED: ${message.reason}`));
        } else if (message.type === type) {
          clearTimeout(timer);
          proc.off('message', onMessage);
          resolve(message as Extract<HubChildMessage, { type: T }>);
        }
      };
      proc.on('message', onMessage);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`HUB_EXITED: the benchmark's hub exited (${code}) before "${type}"`));
      });
    });
  const readyMessage = next('ready', 900_000);
  readyMessage.catch(() => undefined);
  let listening: Extract<HubChildMessage, { type: 'listening' }>;
  try {
    listening = await next('listening', 900_000);
  } catch (error) {
    proc.kill('SIGKILL');
    await partners.close();
    throw error;
  }
  // A hub still reading a long log may not yet lead FEST: it answers 503 with Retry-After, and a vendor resends.
  const registerUntil = Date.now() + 900_000;
  for (;;) {
    const answer = await fetch(`${listening.url}/fest/v1/webhook`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${listening.vendorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: partners.vendor.url, secret: partners.vendor.secret, fromVersion: 0 }),
    });
    if (answer.ok) break;
    const detail = await answer.text();
    if (answer.status !== 503 || Date.now() > registerUntil) {
      proc.kill('SIGKILL');
      await partners.close();
      throw new Error(`WEBHOOK_NOT_REGISTERED: PUT /fest/v1/webhook answered ${answer.status}: ${detail}`);
    }
    const wait = Number(answer.headers.get('retry-after') ?? '1') * 1000;
    await new Promise((done) => setTimeout(done, Math.min(Math.max(wait, 250), 5_000)));
  }
  return {
    url: listening.url,
    token: listening.token,
    topics: options.topics,
    groupPrefix,
    partners,
    listeningMs: Math.round(performance.now() - started),
    ready: readyMessage.then(() => Math.round(performance.now() - started)),
    usage: async () => {
      const reply = next('usage', 10_000);
      proc.send({ type: 'usage' });
      const { cpuMs, busyMs, idleMs, decodes } = await reply;
      return { cpuMs, busyMs, idleMs, decodes };
    },
    peakMemory: async () => {
      const reply = next('heap', 10_000);
      proc.send({ type: 'heap' });
      const { peakHeapMb, peakRssMb } = await reply;
      return { peakHeapMb, peakRssMb };
    },
    stop: async () => {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      await partners.close();
    },
  };
}

/** Waits until /readyz answers 200; resolves with when (performance.now()). */
export async function untilReadyz(url: string, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const r = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
    if (r?.status === 200) return performance.now();
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`NOT_READY: ${url}/readyz did not answer 200 within ${timeoutMs} ms`);
}

/**
 * Whether a group of the hub is DMP's: its writes drain at Dataverse's service-protection pace (6,000 requests per
 * 5 minutes, the stand-in as documented), hours for a bench's worth of cases, so benches report it and do not wait.
 */
export const isDmpGroup = (groupPrefix: string, group: string): boolean =>
  group.startsWith(`${groupPrefix}.slv-`);

/** Messages not yet committed, per consumer group of the hub (prefix), over every topic each group committed on. */
export async function groupLag(kafka: Kafka, groupPrefix: string): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(`${groupPrefix}.`));
    const ends = new Map<string, Map<number, bigint>>();
    const endOf = async (topic: string) => {
      if (!ends.has(topic))
        ends.set(
          topic,
          new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)])),
        );
      return ends.get(topic)!;
    };
    const lag = new Map<string, number>();
    for (const groupId of groups) {
      let behind = 0n;
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
        const high = await endOf(topic);
        for (const p of partitions) {
          const end = high.get(p.partition) ?? 0n;
          const committed = BigInt(p.offset) < 0n ? 0n : BigInt(p.offset);
          if (end > committed) behind += end - committed;
        }
      }
      lag.set(groupId, Number(behind));
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

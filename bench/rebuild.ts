/**
 * Benchmark: rebuilding all method state from the event log. Writes N events (default 1,000,000) of
 * synthetic but lawful method lifecycles to a fresh topic, then times, side by side on the same bytes:
 *   baseline    raw kafkajs reading every message, doing nothing with it
 *   projection  the method-state projection from empty: decode, state machine, write the latest state
 *               per method per batch to a fresh state topic (memory: one state per method)
 *   read model  the API's read model: decode and keep every event with its state (for history and asOf)
 * Prints events/s, seconds, peak heap and RSS for each, and their ratios to the baseline.
 * Target: projection under 60 s for 1,000,000 events with memory bounded by the number of methods.
 *
 *   npm run bench:rebuild -- [--events 1000000] [--events-per-method 25]
 *
 * Needs the stack (npm run stack:up) or KAFKA_BROKERS and SCHEMA_REGISTRY_URL.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import type { MethodEvent } from '../contracts/generated/types.ts';
import { createKafka } from '../core/bus/kafka.ts';
import { ContractProducer } from '../core/bus/producer.ts';
import { ContractRegistry } from '../core/bus/registry.ts';
import { TopicFollower } from '../core/bus/topicFollower.ts';
import { loadConfig } from '../core/config/spec.ts';
import { MethodStore } from '../core/lifecycle/methodStore.ts';
import { MethodStateProjection } from '../core/lifecycle/projection.ts';
import { Topics } from '../contracts/topics.ts';
import {
  createRunTopics,
  groupLag,
  isDmpGroup,
  startBenchHub,
  topicsFor,
  untilReadyz,
} from './support/benchHub.ts';
import { lifecycle } from './support/lifecycle.ts';
import { requireStack } from './support/preflight.ts';

const options = new Command('bench:rebuild')
  .description('Time and memory of rebuilding all method state from the event log, against a raw read of it.')
  .option('--events <n>', 'events to write and rebuild from', (v) => Number(v), 1_000_000)
  .option('--events-per-method <n>', 'lifecycle length per method (≥ 12)', (v) => Number(v), 25)
  .option('--skip-read-model', 'leave out the read model (it keeps every event in memory)')
  .option('--skip-hub', 'leave out the whole hub (every adapter) starting on the log')
  .option('--hub-cpu-prof <dir>', "write the whole hub's CPU profile (node --cpu-prof) to this folder")
  .parse()
  .opts<{
    events: number;
    eventsPerMethod: number;
    skipReadModel?: boolean;
    skipHub?: boolean;
    hubCpuProf?: string;
  }>();

const EVENTS = Topics.methodEvents;
const STATE = Topics.methodState;
const PARTITIONS = 6;
const config = loadConfig();
await requireStack('bench:rebuild', config);
const kafka: Kafka = createKafka(config.KAFKA_BROKERS, 'metodehub-bench');
const registry = new ContractRegistry(config.SCHEMA_REGISTRY_URL);
const run = randomUUID().slice(0, 8);
const eventsTopic = `bench.rebuild.${run}.events`;
const stateTopic = `bench.rebuild.${run}.state`;
registry.alias(eventsTopic, EVENTS).alias(stateTopic, STATE);

interface Figures {
  name: string;
  seconds: number;
  peakHeapMb: number;
  peakRssMb: number;
  extra?: string;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function measure(
  name: string,
  body: (progress: (done: number) => void) => Promise<string | undefined>,
): Promise<Figures> {
  gc();
  const bar = new cliProgress.SingleBar(
    {
      format: `${name.padEnd(11)} |{bar}| {percentage}% {value}/{total} events | {eta_formatted} left`,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.events, 0);
  let peakHeap = 0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 200);
  const started = process.hrtime.bigint();
  const extra = await body((done) => bar.update(done));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  bar.stop();
  return { name, seconds, peakHeapMb: mb(peakHeap), peakRssMb: mb(peakRss), extra };
}

async function writeEvents(): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: eventsTopic, numPartitions: PARTITIONS },
      {
        topic: stateTopic,
        numPartitions: PARTITIONS,
        configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
      },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const methods = Math.ceil(options.events / options.eventsPerMethod);
  let written = 0;
  const bar = new cliProgress.SingleBar(
    { format: 'writing     |{bar}| {percentage}% {value}/{total} events', stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.events, 0);
  const chunk: { key: string; value: Buffer }[] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    await producer.send({ topic: eventsTopic, acks: -1, messages: chunk.splice(0) });
  };
  for (let n = 0; n < methods && written < options.events; n++) {
    for (const event of lifecycle(n, options.eventsPerMethod)) {
      if (written >= options.events) break;
      chunk.push({ key: event.methodId, value: await registry.encode(eventsTopic, event) });
      written++;
      if (chunk.length >= 5000) {
        await flush();
        bar.update(written);
      }
    }
  }
  await flush();
  bar.update(written);
  bar.stop();
  await producer.disconnect();
  return methods;
}

async function baseline(): Promise<Figures> {
  return measure('baseline', async (progress) => {
    let seen = 0;
    const consumer = kafka.consumer({ groupId: `bench-raw-${run}`, maxBytes: 50 * 1024 * 1024 });
    await consumer.connect();
    await consumer.subscribe({ topic: eventsTopic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          progress(seen);
          if (seen >= options.events) resolve();
        },
      });
    });
    await consumer.disconnect();
    return undefined;
  });
}

async function projection(): Promise<Figures> {
  return measure('projection', async (progress) => {
    const producer = new ContractProducer(kafka, registry);
    const projection = new MethodStateProjection(kafka, registry, producer, {
      eventsTopic,
      stateTopic,
      groupId: `bench-projection-${run}`,
    });
    await projection.start();
    const total = () => projection.counts.applied + projection.counts.duplicate + projection.counts.rejected;
    while (total() < options.events) {
      await projection.nextBatch();
      progress(total());
    }
    await projection.stop();
    await producer.disconnect();
    const c = projection.counts;
    return `${c.applied} applied, ${c.rejected} refused, ${c.statesWritten} states written, ${projection.states.size} methods held`;
  });
}

async function readModel(): Promise<Figures> {
  return measure('read model', async (progress) => {
    const store = new MethodStore();
    let seen = 0;
    const follower = new TopicFollower<MethodEvent>(kafka, registry, {
      name: 'bench-read-model',
      topic: eventsTopic,
      onMessage: (event, position) => {
        store.offer(event, position);
        if (++seen % 10_000 === 0) progress(seen);
      },
    });
    await follower.start();
    await follower.waitUntilCaughtUp(600_000);
    progress(seen);
    await follower.stop();
    return `${store.counts.applied} applied, ${store.size} methods with full history`;
  });
}

/** Every declared topic of the hub under this run's name, the events topic being the log written above. */
const hubTopics = { ...topicsFor(run), [EVENTS]: eventsTopic };

/**
 * A whole hub (the API, the projection and every adapter, delivering to the partner stand-ins) in its own process,
 * started on the log: its figure is until /readyz answers 200; also until the read model is ready and until every
 * consumer group but DMP's (throttled by service protection) has caught up.
 */
async function wholeHub(): Promise<Figures> {
  await createRunTopics(kafka, hubTopics);
  const config = loadConfig();
  const hub = await startBenchHub({
    run,
    topics: hubTopics,
    kafkaBrokers: config.KAFKA_BROKERS.join(','),
    schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
    nodeArgs: options.hubCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.hubCpuProf}`] : [],
  });
  const started = performance.now() - hub.listeningMs;
  try {
    const readModelMs = await hub.ready;
    const readyzMs = (await untilReadyz(hub.url, 900_000)) - started;
    let caughtUpMs: number | undefined;
    let behind: [string, number][] = [];
    let slvBehind = 0;
    // DMP's backlog is reported, not waited for.
    const isSlv = (group: string) => isDmpGroup(hub.groupPrefix, group);
    for (let quiet = 0, until = Date.now() + 900_000; Date.now() < until; ) {
      const lags = [...(await groupLag(kafka, hub.groupPrefix))];
      slvBehind = lags.filter(([group]) => isSlv(group)).reduce((a, [, lag]) => a + lag, 0);
      behind = lags.filter(([group, lag]) => lag > 0 && !isSlv(group));
      quiet = behind.length === 0 ? quiet + 1 : 0;
      caughtUpMs ??= quiet > 0 ? performance.now() - started : undefined;
      if (quiet === 0) caughtUpMs = undefined;
      if (quiet >= 2) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const memory = await hub.peakMemory();
    const { decodes } = await hub.usage();
    const read = decodes.shared + decodes.done;
    // Ready is what a client sees: /readyz 200, the read model folded and every part started.
    const seconds = readyzMs / 1000;
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return {
      name: 'whole hub',
      seconds,
      peakHeapMb: memory.peakHeapMb,
      peakRssMb: memory.peakRssMb,
      extra:
        `API listening ${s(hub.listeningMs)}, read model ready ${s(readModelMs)}, /readyz 200 ${s(readyzMs)}, ` +
        (caughtUpMs === undefined
          ? `consumer groups NOT caught up in 900 s: ${behind.map(([g, lag]) => `${g} ${lag} behind`).join(', ')}`
          : `every consumer group but DMP's caught up ${s(caughtUpMs)}`) +
        `; DMP's groups ${slvBehind} behind (service protection)` +
        `; ${hub.partners.slv.records().length} SLV cases at the stand-in, ${hub.partners.vendor.deliveries.length} FEST vendor deliveries` +
        `; its consumers read ${read} messages, ${decodes.shared} (${Math.round((100 * decodes.shared) / Math.max(1, read))}%) on another reader's decode`,
    };
  } finally {
    await hub.stop();
  }
}

async function cleanUp() {
  const admin = kafka.admin();
  await admin.connect();
  const mine = [eventsTopic, stateTopic, ...(options.skipHub ? [] : Object.values(hubTopics))];
  const existing = new Set(await admin.listTopics());
  const present = [...new Set([...mine, ...mine.map((t) => `${t}.dlq`)])].filter((t) => existing.has(t));
  if (present.length > 0) await admin.deleteTopics({ topics: present }).catch(() => undefined);
  await admin.disconnect();
}

async function main() {
  process.stderr.write(
    `writing ${options.events} events (${options.eventsPerMethod} per method) to ${eventsTopic}...\n`,
  );
  const methods = await writeEvents();
  const results = [await baseline(), await projection()];
  if (!options.skipReadModel) results.push(await readModel());
  if (!options.skipHub) {
    process.stderr.write(
      'whole hub: starting it on the log, every adapter delivering to the partner stand-ins...\n',
    );
    // A hub that cannot start is a figure too: the other rows still print.
    results.push(
      await wholeHub().catch((error: Error) => ({
        name: 'whole hub',
        seconds: Number.NaN,
        peakHeapMb: 0,
        peakRssMb: 0,
        extra: `FAILED to start: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  await cleanUp();
  const base = results[0]!;
  console.log(
    `\nRebuild from ${options.events} events of ${methods} methods (${PARTITIONS} partitions, one broker)\n`,
  );
  console.log('path         seconds   events/s   x baseline time   peak heap MB   peak RSS MB');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(11)} ${r.seconds.toFixed(1).padStart(8)} ${Math.round(options.events / r.seconds)
        .toString()
        .padStart(
          10,
        )} ${(r.seconds / base.seconds).toFixed(2).padStart(17)} ${String(r.peakHeapMb).padStart(14)} ${String(r.peakRssMb).padStart(13)}`,
    );
  }
  for (const r of results) if (r.extra) console.log(`  ${r.name}: ${r.extra}`);
  const p = results[1]!;
  console.log(
    `\nprojection target: under 60 s -> ${p.seconds < 60 ? 'met' : 'NOT met'} (${p.seconds.toFixed(1)} s)`,
  );
  const h = results.find((r) => r.name === 'whole hub');
  if (h)
    console.log(
      `whole hub target: ready in under 60 s (${h.seconds.toFixed(1)} s, ${(h.seconds / 60).toFixed(2)} of it), peak heap under 1 GB (${h.peakHeapMb} MB, ${(h.peakHeapMb / 1024).toFixed(2)} of it) -> ${h.seconds < 60 && h.peakHeapMb < 1024 ? 'met' : 'NOT met'}`,
    );
  console.log(
    `machine: ${cpus().length} cores shared with other engineers' work; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

main()
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    console.error(`bench:rebuild failed: ${(error as Error).stack ?? error}`);
    await cleanUp().catch(() => undefined);
    process.exit(1);
  });

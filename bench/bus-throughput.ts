/**
 * Benchmark: the core's consume-decode-validate-produce path against a raw kafkajs consume-produce of the
 * same bytes, in one run on the same broker. Prints both rates and their ratio (target: core >= 0.8 of raw).
 *
 *   npm run bench:bus -- [--messages 20000] [--rounds 3]
 *
 * Needs the stack (npm run stack:up) or KAFKA_BROKERS and SCHEMA_REGISTRY_URL.
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../core/config/spec.ts';
import { newHeaders } from '../core/bus/headers.ts';
import { createKafka } from '../core/bus/kafka.ts';
import { ContractProducer } from '../core/bus/producer.ts';
import { ContractRegistry } from '../core/bus/registry.ts';
import { busPolicyOf, ConsumerRunner } from '../core/bus/runner.ts';
import { methodEvent } from '../core/lifecycle/eventBuilder.ts';
import type { MethodEvent } from '../contracts/generated/types.ts';
import { Topics } from '../contracts/topics.ts';
import { requireStack } from './support/preflight.ts';

const EVENTS = Topics.methodEvents;

const options = new Command('bench:bus')
  .description('Throughput of the core consume-validate-produce path against raw kafkajs on the same bytes.')
  .option('--messages <n>', 'messages per round', (v) => Number(v), 20_000)
  .option('--rounds <n>', 'rounds of each path, alternating', (v) => Number(v), 3)
  .parse()
  .opts<{ messages: number; rounds: number }>();

const config = loadConfig();
await requireStack('bench:bus', config);
const kafka: Kafka = createKafka(config.KAFKA_BROKERS, 'metodehub-bench');
const registry = new ContractRegistry(config.SCHEMA_REGISTRY_URL);
const run = randomUUID().slice(0, 8);
const source = `bench.${run}.in`;
registry.alias(source, EVENTS);

async function prepare(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: source, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = new ContractProducer(kafka, registry);
  const batch = 1000;
  for (let i = 0; i < options.messages; i += batch) {
    const events: MethodEvent[] = [];
    for (let j = i; j < Math.min(i + batch, options.messages); j++) {
      events.push(
        methodEvent('STATUS_CHANGED', `ID2020_${String((j % 999) + 1).padStart(3, '0')}`, {
          from: null,
          to: 'HORIZON_SCANNING',
          reason: 'Metodevarsel skrevet av Statens legemiddelverk (SLV) for vurdering i Bestillerforum',
        }),
      );
    }
    await producer.send(
      EVENTS,
      events.map((value) => ({
        key: value.methodId,
        value,
        headers: newHeaders({
          id: value.eventId,
          source: '/bench',
          type: `no.nyemetoder.method.${value.type}`,
        }),
      })),
      { to: source },
    );
  }
  await producer.disconnect();
}

async function createOut(name: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

/** Raw kafkajs: consume each message and produce its bytes unchanged (idempotent producer, acks=all). */
async function rawRound(out: string): Promise<number> {
  await createOut(out);
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}` });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: source, fromBeginning: true });
  let count = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const message of batch.messages) {
          await producer.send({
            topic: out,
            acks: -1,
            messages: [{ key: message.key, value: message.value, headers: message.headers }],
          });
          resolveOffset(message.offset);
          count++;
        }
        await heartbeat();
        if (count >= options.messages) resolve();
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([consumer.disconnect(), producer.disconnect()]);
  return options.messages / seconds;
}

/** The core path: decode through the registry into the contract, validate, re-encode and produce. */
async function coreRound(out: string): Promise<number> {
  await createOut(out);
  registry.alias(out, EVENTS);
  const producer = new ContractProducer(kafka, registry);
  let count = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const runner = new ConsumerRunner<MethodEvent>(kafka, registry, producer, {
    name: 'bench',
    groupId: `bench-core-${randomUUID()}`,
    topics: [source],
    bus: busPolicyOf(config),
    handle: async ({ value, headers }) => {
      await producer.send(EVENTS, [{ key: value.methodId, value, headers }], { to: out });
      if (++count >= options.messages) done();
    },
  });
  const started = performance.now();
  await runner.start();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await runner.stop();
  await producer.disconnect();
  return options.messages / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

process.stdout.write(`Preparing ${options.messages} method events on ${source}...\n`);
await prepare();
const raw: number[] = [];
const core: number[] = [];
for (let round = 1; round <= options.rounds; round++) {
  raw.push(await rawRound(`bench.${run}.raw.${round}`));
  core.push(await coreRound(`bench.${run}.core.${round}`));
  process.stdout.write(
    `round ${round}: raw ${raw.at(-1)!.toFixed(0)} msg/s, core ${core.at(-1)!.toFixed(0)} msg/s, ratio ${(core.at(-1)! / raw.at(-1)!).toFixed(2)}\n`,
  );
}
const ratios = raw.map((r, i) => core[i]! / r);
process.stdout.write(
  `\nmessages per round: ${options.messages}, rounds: ${options.rounds}\n` +
    `raw kafkajs consume-produce   median ${median(raw).toFixed(0)} msg/s\n` +
    `core consume-validate-produce median ${median(core).toFixed(0)} msg/s\n` +
    `ratio core/raw                median ${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}; target >= 0.80)\n`,
);
const admin = kafka.admin();
await admin.connect();
const mine = (await admin.listTopics()).filter((t) => t.startsWith(`bench.${run}.`));
await admin.deleteTopics({ topics: mine }).catch(() => undefined);
await admin.disconnect();
process.exit(0);

/**
 * A Kafka broker (or a cluster of three) and registry of the fault tests' own, started with the project's stack
 * code on their own ports with data under a temp dir, so they can be SIGKILLed without touching the shared stack.
 * Downloads come from FAULTS_STACK_CACHE (default the repository's `.stack/cache`, filled by `npm run stack:up`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ContractRegistry } from '../../core/bus/registry.ts';
import { applyTopics } from '../../core/bus/topics.ts';
import {
  kafkaNodesOf,
  repoRoot,
  type StackOptions,
  stackDown,
  stackUp,
  topicProfileOf,
} from '../../deploy/local/stack.ts';

export type Part = 'kafka' | 'registry';

export interface FaultStack {
  dir: string;
  /** Comma-separated, one per broker. */
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  brokers: number;
  /** The registry, or every broker. */
  kill: (part: Part) => Promise<void>;
  /** SIGKILLs one broker (from 0, in the order of kafkaBrokers). */
  killBroker: (index: number) => Promise<void>;
  /** Starts that broker again and waits until the cluster has it back. */
  restartBroker: (index: number) => Promise<void>;
  /** Starts again whatever is not running and waits until it answers. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

/** With `brokers`, broker i (from 0) listens on kafka + 2i and its controller on controller + 2i. */
export interface FaultStackPorts {
  kafka: number;
  controller: number;
  registry: number;
  /** 1 by default; 3 for a replicated cluster whose topics get the production profile (replication 3, min.insync 2). */
  brokers?: number;
}

export const defaultFaultPorts: FaultStackPorts = { kafka: 18390, controller: 18391, registry: 18392 };

export async function startFaultStack(ports: FaultStackPorts = defaultFaultPorts): Promise<FaultStack> {
  const cache = resolve(process.env.FAULTS_STACK_CACHE ?? join(repoRoot, '.stack', 'cache'));
  const dir = mkdtempSync(join(tmpdir(), 'metodehub-faults-'));
  if (existsSync(cache)) symlinkSync(cache, join(dir, 'cache'));
  const options: StackOptions = {
    dir,
    host: '127.0.0.1',
    kafkaPort: ports.kafka,
    controllerPort: ports.controller,
    registryPort: ports.registry,
    brokers: ports.brokers ?? 1,
    startTimeoutSeconds: 180,
    say: () => undefined,
    // Fewer partitions to recover: a SIGKILLed broker is back in seconds, not half a minute.
    kafkaSettings: [
      'offsets.topic.num.partitions=3',
      'transaction.state.log.num.partitions=3',
      // The controller waits out the dead broker's session before it lets the restarted one in.
      'broker.session.timeout.ms=2500',
      'broker.heartbeat.interval.ms=500',
    ],
    // Three JVMs share the machine's cores with the hubs: the quick compiler and one GC thread leave them more.
    ...((ports.brokers ?? 1) > 1 ? { kafkaJvmOptions: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] } : {}),
  };
  const { endpoints } = await stackUp(options);
  const kafka = new Kafka({ brokers: endpoints.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  await applyTopics(kafka, undefined, { profile: topicProfileOf(options) });
  await new ContractRegistry(endpoints.schemaRegistryUrl).registerAll();
  const nodes = kafkaNodesOf(options);
  const pidOf = (name: string) => Number(readFileSync(join(dir, 'run', `${name}.pid`), 'utf8').trim());
  const killNamed = async (name: string) => {
    const pid = pidOf(name);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  };
  const nodeAt = (index: number) => {
    const node = nodes[index];
    if (!node)
      throw new Error(`NO_SUCH_BROKER: index ${index}; this stack has brokers 0..${nodes.length - 1}`);
    return node;
  };
  return {
    dir,
    ...endpoints,
    brokers: nodes.length,
    kill: async (part) => {
      for (const name of part === 'kafka' ? nodes.map((n) => n.name) : [part]) await killNamed(name);
    },
    killBroker: (index) => killNamed(nodeAt(index).name),
    restartBroker: async (index) => {
      await stackUp(options, { nodes: [nodeAt(index).id] });
      await everyNodeSees(nodes.length, endpoints.kafkaBrokers.split(','));
    },
    restart: async () => {
      try {
        await stackUp(options);
      } catch (error) {
        // As a supervisor would: a part that died while starting again (the registry's H2 file, under load) gets one more start.
        if (!/exited while starting/.test((error as Error).message)) throw error;
        process.stderr.write(
          `[faults] a part died while restarting; starting it once more: ${(error as Error).message.split('\n')[0]}\n`,
        );
        await stackUp(options);
      }
    },
    stop: async () => {
      await stackDown(options);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits (60 s at most) until every broker's metadata lists `count` brokers: the restarted one answers as soon as
 * it has registered, the others learn of it a moment later, and a client asking them would not see it yet.
 */
async function everyNodeSees(count: number, brokers: string[]): Promise<void> {
  const until = Date.now() + 60_000;
  const seen = new Map<string, number>();
  for (const broker of brokers) {
    for (;;) {
      const admin = new Kafka({
        brokers: [broker],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      }).admin();
      const listed = await admin
        .connect()
        .then(() => admin.describeCluster())
        .then((c) => c.brokers.length)
        .catch(() => 0)
        .finally(() => admin.disconnect().catch(() => undefined));
      seen.set(broker, listed);
      if (listed >= count) break;
      if (Date.now() > until)
        throw new Error(
          `BROKER_NOT_BACK: after 60 s the brokers list ${JSON.stringify(Object.fromEntries(seen))} of ${count}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

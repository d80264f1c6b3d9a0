/**
 * A Kafka broker and registry of the fault tests' own, started with the project's stack code on their own
 * ports with data under a temp dir, so they can be SIGKILLed without touching the shared stack. Downloads
 * come from FAULTS_STACK_CACHE (default the repository's `.stack/cache`, filled by `npm run stack:up`).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ContractRegistry } from '../../core/bus/registry.ts';
import { applyTopics } from '../../core/bus/topics.ts';
import { repoRoot, type StackOptions, stackDown, stackUp } from '../../deploy/local/stack.ts';

export type Part = 'kafka' | 'registry';

export interface FaultStack {
  dir: string;
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  kill: (part: Part) => Promise<void>;
  /** Starts again whatever is not running and waits until it answers. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

export interface FaultStackPorts {
  kafka: number;
  controller: number;
  registry: number;
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
  };
  const { endpoints } = await stackUp(options);
  const kafka = new Kafka({ brokers: [endpoints.kafkaBrokers], logLevel: logLevel.NOTHING });
  await applyTopics(kafka);
  await new ContractRegistry(endpoints.schemaRegistryUrl).registerAll();
  const pidOf = (part: Part) => Number(readFileSync(join(dir, 'run', `${part}.pid`), 'utf8').trim());
  return {
    dir,
    ...endpoints,
    kill: async (part) => {
      const pid = pidOf(part);
      process.kill(pid, 'SIGKILL');
      while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

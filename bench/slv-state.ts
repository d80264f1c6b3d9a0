/**
 * Benchmark: what one write to DMP (formerly SLV) costs the SLV adapter's saved state as the number of known
 * cases grows. Each write to DMP saves the state twice (the intended write before it, the answer after it),
 * and the hub's main thread does that work. Side by side, on the same state topic of the real Kafka:
 *   baseline  `InboundStateStore.save(state)`: the records of the whole state rebuilt and compared;
 *   now       `InboundStateStore.apply(state, delta)`: only the records the write touches.
 * Prints wall time and CPU per write, and their ratio.
 *
 *   npm run bench:slv-state -- [--cases 1000,10000,40000] [--writes 200]
 */
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { emptyDelta, type InboundState, InboundStateStore, sameEntry } from '../adapters/slv/inboundState.ts';
import type { CaseSnapshot } from '../adapters/slv/mapping.ts';
import { Topics } from '../contracts/topics.ts';
import { createKafka } from '../core/bus/kafka.ts';
import { ContractProducer } from '../core/bus/producer.ts';
import { ContractRegistry } from '../core/bus/registry.ts';
import { StateStore } from '../core/bus/stateStore.ts';
import { table } from '../core/cli/tables.ts';
import { loadConfig } from '../core/config/spec.ts';
import { requireStack } from './support/preflight.ts';

const options = new Command('bench:slv-state')
  .description(
    "CPU and time per write to DMP spent saving the SLV adapter's state, by number of known cases.",
  )
  .option('--cases <list>', 'known cases, one run each', '1000,10000,40000')
  .option('--writes <n>', 'writes to DMP timed per run and per way', (v) => Number(v), 200)
  .parse()
  .opts<{ cases: string; writes: number }>();

const config = loadConfig({ ...process.env, HUB_PORT: '0' });
await requireStack('bench:slv-state', config);
const kafka = createKafka(config.KAFKA_BROKERS, 'bench-slv-state');
const registry = new ContractRegistry(config.SCHEMA_REGISTRY_URL);
const producer = new ContractProducer(kafka, registry);
const run = randomUUID().slice(0, 8);

const snapshot = (i: number, version: number, ownEventId: string | null = null): CaseSnapshot => ({
  methodId: `ID2026_${String(i).padStart(5, '0')}`,
  status: 'Under vurdering',
  statusReason: null,
  name: `Metode ${i}`,
  reportUrl: null,
  absoluteDeadline: null,
  version,
  ownEventId,
});
const caseId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

interface Figures {
  wallMs: number;
  cpuMs: number;
}

/** Times `writes` writes to DMP, each saved the way `save` does, on a state of `n` known cases. */
async function timeWrites(
  n: number,
  writes: number,
  save: (
    store: InboundStateStore,
    state: InboundState,
    i: number,
    step: 'intend' | 'record',
  ) => Promise<void>,
  label: string,
): Promise<Figures> {
  const topic = `bench.slv-state.${run}.${label}.${n}`;
  registry.alias(topic, Topics.slvInboundState);
  const store = new InboundStateStore(
    new StateStore(kafka, registry, producer, { declared: Topics.slvInboundState, topic, same: sameEntry }),
  );
  await store.load();
  const state: InboundState = {
    deltaLink: 'delta!01/01/2026 00:00:00',
    cases: {},
    intendedWrites: {},
    savedAt: null,
  };
  for (let i = 0; i < n; i++) state.cases[caseId(i)] = snapshot(i, 1000 + i);
  await store.save(state);
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let w = 0; w < writes; w++) {
    await save(store, state, w % n, 'intend');
    await save(store, state, w % n, 'record');
    if ((w + 1) % 50 === 0) process.stderr.write(`  ${label} ${n} cases: ${w + 1}/${writes} writes\r`);
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  process.stderr.write('\n');
  return { wallMs: wallMs / writes, cpuMs: (used.user + used.system) / 1000 / writes };
}

let version = 1_000_000;
/** As the adapter did before: a new state object for every save, the whole of it compared with the records. */
const whole = async (store: InboundStateStore, state: InboundState, i: number, step: 'intend' | 'record') => {
  const methodId = snapshot(i, 0).methodId;
  let next: InboundState;
  if (step === 'intend') {
    next = {
      ...state,
      intendedWrites: {
        ...state.intendedWrites,
        [methodId]: { eventId: `evt-${version}`, expected: snapshot(i, 0) },
      },
    };
  } else {
    const intendedWrites = { ...state.intendedWrites };
    delete intendedWrites[methodId];
    next = {
      ...state,
      intendedWrites,
      cases: { ...state.cases, [caseId(i)]: snapshot(i, ++version, `evt-${version}`) },
    };
  }
  await store.save(next);
  Object.assign(state, next);
};
/** As the adapter does now: the records the write touches. */
const delta = async (store: InboundStateStore, state: InboundState, i: number, step: 'intend' | 'record') => {
  const methodId = snapshot(i, 0).methodId;
  const d = emptyDelta();
  if (step === 'intend')
    d.intendedWrites.set(methodId, { eventId: `evt-${version}`, expected: snapshot(i, 0) });
  else {
    d.intendedWrites.set(methodId, undefined);
    d.cases.set(caseId(i), snapshot(i, ++version, `evt-${version}`));
  }
  await store.apply(state, d);
};

const rows: string[][] = [];
try {
  for (const n of options.cases.split(',').map(Number)) {
    const base = await timeWrites(n, options.writes, whole, 'baseline');
    const now = await timeWrites(n, options.writes, delta, 'now');
    rows.push([
      String(n),
      base.wallMs.toFixed(2),
      now.wallMs.toFixed(2),
      (base.wallMs / now.wallMs).toFixed(1),
      base.cpuMs.toFixed(2),
      now.cpuMs.toFixed(2),
      (base.cpuMs / now.cpuMs).toFixed(1),
    ]);
  }
} finally {
  await producer.disconnect();
}
console.log(
  `\nSLV adapter state saved per write to DMP (two saves each), ${options.writes} writes per run, Kafka ${config.KAFKA_BROKERS}`,
);
console.log(
  table(
    [
      'known cases',
      'baseline ms/write',
      'now ms/write',
      'x',
      'baseline CPU ms/write',
      'now CPU ms/write',
      'x',
    ],
    rows,
  ),
);
console.log(
  'baseline: the whole state rebuilt and compared (before); now: only the records the write touches',
);

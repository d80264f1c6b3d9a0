/**
 * Benchmark: a medicine decision from the case system's POST to the partner topics, end to end. A whole hub
 * (the API, the projection and every adapter, delivering to the partner stand-ins) runs as its own process on
 * topics of this run on the shared stack. Every method's history up to AWAITING_DECISION is posted and settled
 * first; then one decision per request is posted open-loop at each rate, and an independent kafkajs consumer
 * notes when each decision's record reaches fest.vilkar.v1, financing.drug-decisions.v1 and
 * hdir.guideline-flags.v1. Prints p50/p99/max per output and the ingress answer's own, beside the targets.
 * Target: p99 < 100 ms for every output at 100/s; no output's p99 above 250 ms at 500/s.
 *
 *   npm run bench:e2e -- [--rates 100,500] [--seconds 10] [--hub-cpu-prof dir]
 *
 * Needs the stack (npm run stack:up) or KAFKA_BROKERS and SCHEMA_REGISTRY_URL.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import type {
  DrugDecision,
  FestVilkar,
  GuidelineFlag,
  MethodEvent,
  MethodState,
} from '../contracts/generated/types.ts';
import { Topics } from '../contracts/topics.ts';
import { createKafka } from '../core/bus/kafka.ts';
import { ContractRegistry } from '../core/bus/registry.ts';
import { loadConfig } from '../core/config/spec.ts';
import {
  type BenchHub,
  createRunTopics,
  deleteRunTopics,
  groupLag,
  isDmpGroup,
  startBenchHub,
  topicsFor,
  untilReadyz,
} from './support/benchHub.ts';
import { DECISION_INDEX, FLAGGED_INDICATION, lifecycle } from './support/lifecycle.ts';
import { requireStack } from './support/preflight.ts';

const options = new Command('bench:e2e')
  .description('Latency of a medicine decision from POST to every partner topic, at steady rates.')
  .option('--rates <list>', 'decisions per second, one run each', '100,500')
  .option('--seconds <n>', 'length of each timed run', (v) => Number(v), 10)
  .option('--hub-cpu-prof <dir>', "write the hub process's CPU profile (node --cpu-prof) to this folder")
  .parse()
  .opts<{ rates: string; seconds: number; hubCpuProf?: string }>();
const rates = options.rates.split(',').map((r) => Number(r.trim()));
const targets: Record<number, number> = { 100: 100, 500: 250 };
const OUTPUTS = [Topics.festVilkar, Topics.financingDrugDecisions, Topics.hdirGuidelineFlags] as const;
/** Read too, to show where the time goes: the event log the door writes and the state the projection writes. */
const STEPS = [Topics.methodEvents, Topics.methodState] as const;

const config = loadConfig();
await requireStack('bench:e2e', config);
const kafka: Kafka = createKafka(config.KAFKA_BROKERS, 'metodehub-bench-e2e');
const registry = new ContractRegistry(config.SCHEMA_REGISTRY_URL);
const run = randomUUID().slice(0, 8);
const topics = topicsFor(run);
for (const output of [...OUTPUTS, ...STEPS]) registry.alias(topics[output]!, output);
const say = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When (performance.now()) the independent reader saw each record: FEST by method, the others by cause. */
const seen = {
  fest: new Map<string, number[]>(),
  financing: new Map<string, number>(),
  flags: new Map<string, number>(),
  flaggedMethods: new Set<string>(),
  events: new Map<string, number>(),
  states: new Map<string, number>(),
};
let recordsRead = 0;

async function startReader() {
  const consumer = kafka.consumer({ groupId: `bench-e2e-reader-${run}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [...OUTPUTS, ...STEPS].map((o) => topics[o]!), fromBeginning: true });
  const declared = new Map([...OUTPUTS, ...STEPS].map((o) => [topics[o]!, o]));
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const at = performance.now();
      const output = declared.get(topic)!;
      if (output === Topics.methodEvents) {
        const e = (await registry.decode<MethodEvent>(topic, message.value)).value;
        if (!seen.events.has(e.eventId)) seen.events.set(e.eventId, at);
        return;
      }
      if (output === Topics.methodState) {
        const st = (await registry.decode<MethodState>(topic, message.value)).value;
        if (!seen.states.has(st.lastEventId)) seen.states.set(st.lastEventId, at);
        return;
      }
      recordsRead++;
      if (output === Topics.festVilkar) {
        const v = (await registry.decode<FestVilkar>(topic, message.value)).value;
        seen.fest.set(v.methodId, [...(seen.fest.get(v.methodId) ?? []), at]);
      } else if (output === Topics.financingDrugDecisions) {
        const d = (await registry.decode<DrugDecision>(topic, message.value)).value;
        if (d.sourceEventId && !seen.financing.has(d.sourceEventId)) seen.financing.set(d.sourceEventId, at);
      } else {
        const f = (await registry.decode<GuidelineFlag>(topic, message.value)).value;
        seen.flaggedMethods.add(f.methodId);
        if (f.causeEventId && !seen.flags.has(f.causeEventId)) seen.flags.set(f.causeEventId, at);
      }
    },
  });
  return consumer;
}

async function post(hub: BenchHub, body: MethodEvent | MethodEvent[]): Promise<number> {
  try {
    const r = await fetch(`${hub.url}/api/v1/case-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

/** Posts every history, 500 events a request, and waits until every consumer group of the hub has caught up. */
async function preload(hub: BenchHub, histories: MethodEvent[]) {
  const t0 = performance.now();
  for (let i = 0; i < histories.length; i += 500) {
    const batch = histories.slice(i, i + 500);
    for (let attempt = 0; ; attempt++) {
      const status = await post(hub, batch);
      if (status === 200 || status === 202) break;
      if (attempt > 20 || (status !== 0 && status !== 503))
        throw new Error(`PRELOAD_REFUSED: a history batch at event ${i} was answered ${status}`);
      await sleep(1_000);
    }
  }
  say(
    `  posted ${histories.length} history events in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting for every adapter to settle...`,
  );
  // Some adapters follow topics without a consumer group: every method's FEST and flag record must be read too.
  const methods = new Set(histories.map((e) => e.methodId));
  const outputsIn = () => [...methods].every((m) => seen.fest.has(m) && seen.flaggedMethods.has(m));
  let quiet = 0;
  let last = -1;
  let slvBehind = 0;
  for (const until = Date.now() + 1_800_000; Date.now() < until; ) {
    const lag = await groupLag(kafka, hub.groupPrefix);
    // DMP's writes are no part of the path to the three outputs measured here.
    const measured = [...lag].filter(([group]) => !isDmpGroup(hub.groupPrefix, group));
    slvBehind = [...lag]
      .filter(([group]) => isDmpGroup(hub.groupPrefix, group))
      .reduce((a, [, l]) => a + l, 0);
    const behind = measured.reduce((a, [, l]) => a + l, 0);
    quiet = behind === 0 && recordsRead === last && outputsIn() ? quiet + 1 : 0;
    last = recordsRead;
    if (quiet >= 3) break;
    await sleep(1_000);
  }
  say(
    `  settled ${((performance.now() - t0) / 1000).toFixed(1)} s after the first history POST (DMP's writes not waited for: ${slvBehind} events behind, throttled by service protection)`,
  );
}

interface Sample {
  methodId: string;
  eventId: string;
  postedAt: number;
  answeredAt?: number;
  status?: number;
  attempts?: number;
}

async function timedRun(hub: BenchHub, rate: number, decisions: MethodEvent[]): Promise<Sample[]> {
  const samples: Sample[] = decisions.map((d) => ({ methodId: d.methodId, eventId: d.eventId, postedAt: 0 }));
  const answers: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < decisions.length; ) {
    const due = t0 + (i * 1000) / rate;
    const now = performance.now();
    if (due > now) {
      await sleep(due - now);
      continue;
    }
    // Open loop: a request is sent when due, whatever the earlier ones are waiting for.
    for (; i < decisions.length && t0 + (i * 1000) / rate <= performance.now(); i++) {
      const sample = samples[i]!;
      // Its own: the loop's `i` has moved on by the time a resend goes out.
      const decision = decisions[i]!;
      sample.postedAt = performance.now();
      answers.push(
        (async () => {
          // As the case system does: what is answered 503 (or not at all) is sent again after Retry-After.
          for (sample.attempts = 1; ; sample.attempts++) {
            sample.status = await post(hub, decision);
            if ((sample.status !== 503 && sample.status !== 0) || sample.attempts >= 10) break;
            await sleep(2_000);
          }
          sample.answeredAt = performance.now();
        })(),
      );
    }
  }
  const sent = performance.now() - t0;
  await Promise.all(answers);
  say(
    `  ${decisions.length} decisions sent in ${(sent / 1000).toFixed(1)} s (${Math.round((decisions.length * 1000) / sent)}/s); waiting for the outputs...`,
  );
  const complete = () =>
    samples.every(
      (s) =>
        seen.financing.has(s.eventId) &&
        seen.flags.has(s.eventId) &&
        (seen.fest.get(s.methodId) ?? []).some((at) => at >= s.postedAt),
    );
  for (const until = Date.now() + 120_000; Date.now() < until && !complete(); ) await sleep(500);
  return samples;
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

interface Row {
  rate: number;
  what: string;
  n: number;
  missing: number;
  p50: number;
  p99: number;
  max: number;
  target?: number;
}

function rowsOf(rate: number, samples: Sample[]): Row[] {
  const row = (what: string, latencies: (number | undefined)[], target?: number): Row => {
    const got = latencies.filter((l): l is number => l !== undefined).sort((a, b) => a - b);
    return {
      rate,
      what,
      n: got.length,
      missing: latencies.length - got.length,
      p50: quantile(got, 0.5),
      p99: quantile(got, 0.99),
      max: got.at(-1) ?? Number.NaN,
      target,
    };
  };
  const target = targets[rate];
  const festAt = (s: Sample) => (seen.fest.get(s.methodId) ?? []).find((at) => at >= s.postedAt);
  const since = (s: Sample, at: number | undefined) => (at === undefined ? undefined : at - s.postedAt);
  const ok = samples.filter((s) => s.status === 200 || s.status === 202);
  const resent = samples.filter((s) => (s.attempts ?? 1) > 1).length;
  return [
    row(
      `ingress answer (${ok.length} x 2xx, ${samples.length - ok.length} other, ${resent} resent after 503)`,
      samples.map((s) => since(s, s.answeredAt)),
    ),
    row(
      `  (step) ${Topics.methodEvents}`,
      samples.map((s) => since(s, seen.events.get(s.eventId))),
    ),
    row(
      `  (step) ${Topics.methodState}`,
      samples.map((s) => since(s, seen.states.get(s.eventId))),
    ),
    row(
      Topics.festVilkar,
      samples.map((s) => since(s, festAt(s))),
      target,
    ),
    row(
      Topics.financingDrugDecisions,
      samples.map((s) => since(s, seen.financing.get(s.eventId))),
      target,
    ),
    row(
      Topics.hdirGuidelineFlags,
      samples.map((s) => since(s, seen.flags.get(s.eventId))),
      target,
    ),
  ];
}

function table(rows: Row[]): string {
  const header = [
    'rate/s',
    'from POST to',
    'n',
    'missing',
    'p50 ms',
    'p99 ms',
    'max ms',
    'target p99',
    'p99/target',
    '',
  ];
  const ms = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(1));
  const cells = rows.map((r) => [
    String(r.rate),
    r.what,
    String(r.n),
    String(r.missing),
    ms(r.p50),
    ms(r.p99),
    ms(r.max),
    r.target ? `< ${r.target} ms` : '',
    r.target ? (r.p99 / r.target).toFixed(2) : '',
    r.target ? (r.p99 < r.target && r.missing === 0 ? 'met' : 'NOT met') : '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main() {
  const loadBefore = loadavg();
  say(`run ${run}: creating every topic under bench.${run}.* and starting a hub with every adapter...`);
  await createRunTopics(kafka, topics);
  const hub = await startBenchHub({
    run,
    topics,
    kafkaBrokers: config.KAFKA_BROKERS.join(','),
    schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
    nodeArgs: options.hubCpuProf ? ['--cpu-prof', `--cpu-prof-dir=${options.hubCpuProf}`] : [],
  });
  let reader: Awaited<ReturnType<typeof startReader>> | undefined;
  try {
    await untilReadyz(hub.url, 120_000);
    reader = await startReader();
    const plan = rates.map((rate) => ({ rate, count: Math.round(rate * options.seconds) }));
    const lives: { rate: number; history: MethodEvent[]; decisions: MethodEvent[] }[] = [];
    let n = 0;
    for (const { rate, count } of plan) {
      const history: MethodEvent[] = [];
      const decisions: MethodEvent[] = [];
      for (let k = 0; k < count; k++, n++) {
        const life = lifecycle(n, DECISION_INDEX + 1, FLAGGED_INDICATION);
        history.push(...life.slice(0, DECISION_INDEX));
        decisions.push(life[DECISION_INDEX]!);
      }
      lives.push({ rate, history, decisions });
    }
    say(`pre-loading ${n} methods' histories (${n * DECISION_INDEX} events)...`);
    await preload(
      hub,
      lives.flatMap((l) => l.history),
    );
    const rows: Row[] = [];
    const loads: string[] = [];
    const cpu: string[] = [];
    for (const { rate, decisions } of lives) {
      say(`${rate} decisions/s for ${options.seconds} s...`);
      const before = await hub.usage();
      const samples = await timedRun(hub, rate, decisions);
      const after = await hub.usage();
      const busy = after.busyMs - before.busyMs;
      const shared = after.decodes.shared - before.decodes.shared;
      const decoded = shared + after.decodes.done - before.decodes.done;
      cpu.push(
        `${rate}/s: ${((after.cpuMs - before.cpuMs) / decisions.length).toFixed(1)} ms CPU per decision (every thread), main thread busy ${Math.round((100 * busy) / (busy + after.idleMs - before.idleMs))}% from the first POST until every output was read, ${decoded} messages read by its consumers of which ${shared} (${Math.round((100 * shared) / Math.max(1, decoded))}%) shared another reader's decode`,
      );
      loads.push(
        `${rate}/s: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      );
      rows.push(...rowsOf(rate, samples));
      await sleep(2_000);
    }
    const memory = await hub.peakMemory();
    console.log(
      `\nEnd to end: one medicine decision per POST, open loop; hub with every adapter in its own process on the shared stack (${config.KAFKA_BROKERS.join(',')}, one broker)`,
    );
    console.log(
      `machine: ${cpus().length} cores shared with other engineers' work; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after each run ${loads.join('; ')}`,
    );
    console.log(`hub peak heap ${memory.peakHeapMb} MB, peak RSS ${memory.peakRssMb} MB`);
    console.log(`hub ${cpu.join('; ')}\n`);
    console.log(table(rows));
    const judged = rows.filter((r) => r.target);
    const met = judged.every((r) => r.p99 < r.target! && r.missing === 0);
    console.log(
      `\ntargets: p99 < 100 ms for every output at 100/s, no output's p99 above 250 ms at 500/s -> ${judged.length === 0 ? 'no target for these rates' : met ? 'met' : 'NOT met'}`,
    );
    console.log(
      'latency: from the first POST of a decision (resends included) to the independent read of its record',
    );
  } finally {
    await reader?.disconnect().catch(() => undefined);
    await hub.stop();
    await deleteRunTopics(kafka, topics);
  }
}

main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    console.error(`bench:e2e failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  });

/**
 * The fault-injection run: a legal stream of case events for many methods, sent at a steady rate by a client
 * that resends what got no answer (as the case system does), while one part is SIGKILLed and restarted. After
 * it, every acknowledged event is resent once (each must be a duplicate), and an independent read of the
 * events and state topics counts, per output, what is lost, doubled and out of order per method.
 * Used by test/faults/stream.test.ts (short) and bench/faults.ts (full).
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type {
  FestVilkar,
  DrugDecision,
  GuidelineFlag,
  MethodEvent,
  MethodState,
} from '../../contracts/generated/types.ts';
import { ContractRegistry } from '../../core/bus/registry.ts';
import { demoHistory } from '../../core/demo/history.ts';
import type { FaultStack } from './faultStack.ts';
import type { HubProcess } from './hubProcess.ts';
import { judgePartnerOutputs, type OutputCount } from './outputs.ts';
import type { Partner, Partners } from './partners.ts';

export type { OutputCount } from './outputs.ts';

export interface Scenario {
  name: string;
  /** Breaks something and mends it; resolves when the broken part is running again. */
  inject: (parts: {
    stack: FaultStack;
    hub: HubProcess;
    hubs: HubProcess[];
    partners?: Partners;
  }) => Promise<void>;
}

export interface ScenarioResult {
  scenario: string;
  sent: number;
  acknowledged: number;
  /** Requests sent again after an answer that was not 2xx (or none). */
  resends: number;
  /** Times the client turned to another hub after one gave no answer (with `standby` hubs). */
  failovers: number;
  /** Answers a person would have to act on (4xx other than a duplicate): must be none. */
  refused: string[];
  /** Acknowledged events that a resend after the run did not answer as a duplicate. */
  resendsNotDuplicate: number;
  outputs: OutputCount[];
  /** From the fault until the door acknowledged again, ms. */
  recoveryMs: number | null;
  /** What the door answered instead of 2xx, by status and code ('0' for no answer), with when (ms after the fault). */
  unanswered: Record<string, { count: number; firstMs: number; lastMs: number }>;
}

export interface StreamOptions {
  stack: FaultStack;
  hub: HubProcess;
  /**
   * More instances of the hub on the same cluster: after a request got no answer at all, the client sends its
   * next attempt to the next instance and stays there, as a load balancer in front of them would.
   */
  standby?: HubProcess[];
  /** The partner stand-ins the hub delivers to (its adapters running): their outputs are counted too. */
  partners?: Partners;
  scenario: Scenario;
  /** Events per second. */
  rate: number;
  /** How long the stream runs, ms. */
  durationMs: number;
  /** When the fault starts, ms after the stream. */
  faultAtMs: number;
  /** Different per scenario on one stack, so each run has methods of its own. */
  run: number;
  batchSize?: number;
  /**
   * How long the door may go without acknowledging anything before the run fails with what it answered, what
   * /readyz says and the hub's last log lines (default 240 s), instead of resending until the test times out.
   */
  stallMs?: number;
  /**
   * How long the partner outputs may take to be complete after the stream (default 60 s). A hub SIGKILLed with a
   * standby leaves its consumer groups' partitions to the survivor only after their session (30 s) and a rejoin.
   */
  settleMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The demo history as new methods: every method id moved to year 2040+run, every event id new. */
export function streamFor(run: number, count: number): MethodEvent[] {
  const ids = new Map<string, string>();
  const events = demoHistory({ methods: Math.max(20, Math.ceil(count / 10)), seed: 16 }).slice(0, count);
  return events.map((event) => {
    const moved = JSON.stringify(event).replace(/ID\d{4}_\d{3}/g, (id) => {
      if (!ids.has(id)) ids.set(id, `ID${2040 + run}_${String(ids.size + 1).padStart(3, '0')}`);
      return ids.get(id)!;
    });
    return { ...(JSON.parse(moved) as MethodEvent), eventId: randomUUID() };
  });
}

interface Answer {
  status: number;
  retryAfter: number;
  body: { code?: string; results?: { eventId: string; outcome: string }[] };
}

async function post(hub: HubProcess, events: MethodEvent[]): Promise<Answer> {
  try {
    const r = await fetch(`${hub.url}/api/v1/case-events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
      signal: AbortSignal.timeout(15_000),
    });
    return {
      status: r.status,
      retryAfter: Number(r.headers.get('retry-after') ?? 0),
      body: (await r.json()) as Answer['body'],
    };
  } catch {
    return { status: 0, retryAfter: 0, body: {} };
  }
}

export async function runStream(options: StreamOptions): Promise<ScenarioResult> {
  const { hub, stack, scenario, partners } = options;
  const hubs = [hub, ...(options.standby ?? [])];
  let door = 0;
  let failovers = 0;
  const size = options.batchSize ?? 5;
  const events = streamFor(options.run, Math.round((options.rate * options.durationMs) / 1000));
  const acknowledged = new Set<string>();
  const refused: string[] = [];
  let resends = 0;
  let faultAt = 0;
  let recoveryMs: number | null = null;
  const unanswered: ScenarioResult['unanswered'] = {};
  const started = Date.now();
  const stallMs = options.stallMs ?? 240_000;
  let progressAt = started;
  const fault = sleep(options.faultAtMs).then(async () => {
    faultAt = Date.now();
    await scenario.inject({ stack, hub, hubs, ...(partners ? { partners } : {}) });
  });
  // A part that does not come back ends the stream at once (the door may answer 503 for ever), and fails the run.
  let faultFailed: Error | undefined;
  fault.catch((error: unknown) => {
    faultFailed = new Error(
      `PART_DID_NOT_COME_BACK: ${scenario.name}: ${(error as Error)?.message ?? String(error)}`,
    );
  });
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    for (let attempt = 1; ; attempt++) {
      if (faultFailed) throw faultFailed;
      if (Date.now() - progressAt > stallMs)
        throw await doorStalled(hubs, stallMs, acknowledged.size, events.length, unanswered);
      if (attempt > 1) resends++;
      const answer = await post(hubs[door]!, batch);
      if (answer.status === 200 || answer.status === 202) {
        for (const e of batch) acknowledged.add(e.eventId);
        progressAt = Date.now();
        if (faultAt > 0 && recoveryMs === null && attempt > 1) recoveryMs = Date.now() - faultAt;
        break;
      }
      const kind = `${answer.status}${answer.body.code ? ` ${answer.body.code}` : ''}`;
      const at = faultAt > 0 ? Date.now() - faultAt : 0;
      unanswered[kind] ??= { count: 0, firstMs: at, lastMs: at };
      const seen = unanswered[kind];
      seen.count++;
      seen.lastMs = at;
      if (answer.status !== 0 && answer.status !== 503) {
        refused.push(`${answer.status} ${answer.body.code ?? ''} at event ${i}`);
        break;
      }
      if (answer.status === 0 && hubs.length > 1) {
        door = (door + 1) % hubs.length;
        failovers++;
      }
      await sleep(Math.min(1_000, Math.max(100, answer.retryAfter * 1000)));
    }
    const due = started + ((i + size) / options.rate) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await fault.catch(() => undefined);
  if (faultFailed) throw faultFailed;
  if (recoveryMs === null && faultAt > 0) recoveryMs = 0;

  let resendsNotDuplicate = 0;
  const known = events.filter((e) => acknowledged.has(e.eventId));
  for (let i = 0; i < known.length; i += 100) {
    const batch = known.slice(i, i + 100);
    let answer = await post(hubs[door]!, batch);
    for (let tries = 0; answer.status === 503 && tries < 60; tries++) {
      await sleep(500);
      answer = await post(hubs[door]!, batch);
    }
    const duplicates = (answer.body.results ?? []).filter((r) => r.outcome === 'duplicate').length;
    resendsNotDuplicate += batch.length - duplicates;
  }

  const outputs = await countOutputs(stack, events, acknowledged, partners, options.settleMs ?? 60_000);
  // What is still missing after the settle window is judged lost: the hubs' last lines say what they were doing.
  if (outputs.some((o) => o.lost > 0))
    for (const h of hubs) {
      const readiness = h.running
        ? await fetch(`${h.url}/readyz`, { signal: AbortSignal.timeout(5_000) })
            .then(async (answer) => `${answer.status} ${await answer.text()}`)
            .catch((error: Error) => `no answer: ${error.message}`)
        : 'not running';
      process.stderr.write(
        `[faults] outputs incomplete; the hub on ${h.url}: /readyz ${readiness}\nits last lines but kafkajs connection errors:\n${h.recentLog().slice(-40).join('\n')}\n`,
      );
    }
  return {
    scenario: scenario.name,
    sent: events.length,
    acknowledged: acknowledged.size,
    resends,
    failovers,
    refused,
    resendsNotDuplicate,
    outputs,
    recoveryMs,
    unanswered,
  };
}

/** The error a stalled door fails the run with: what every hub answered, says of itself and last logged. */
async function doorStalled(
  hubs: HubProcess[],
  stallMs: number,
  acknowledged: number,
  sent: number,
  unanswered: ScenarioResult['unanswered'],
): Promise<Error> {
  const lines = [
    `DOOR_STALLED: nothing acknowledged for ${stallMs / 1000} s (${acknowledged} of ${sent} so far)`,
    `answered instead: ${JSON.stringify(unanswered)}`,
  ];
  for (const hub of hubs) {
    const ready = await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(5_000) })
      .then(async (r) => `${r.status} ${await r.text()}`)
      .catch((error: unknown) => `no answer (${(error as Error).message})`);
    lines.push(
      `the hub on ${hub.url}: ${hub.running ? 'running' : 'not running'}`,
      `  /readyz: ${ready.slice(0, 4_000)}`,
      '  its last log lines:',
      ...hub.recentLog().slice(-60),
    );
  }
  return new Error(lines.join('\n'));
}

/**
 * Reads the events and state topics to their ends with a plain kafkajs consumer and counts per output; with
 * partners, also the partner topics and what each stand-in received, read again until nothing is missing or
 * a minute has passed (a partner back drains its backlog).
 */
async function countOutputs(
  stack: FaultStack,
  events: MethodEvent[],
  acknowledged: Set<string>,
  partners: Partners | undefined,
  settleMs: number,
): Promise<OutputCount[]> {
  const kafka = new Kafka({ brokers: stack.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const registry = new ContractRegistry(stack.schemaRegistryUrl);
  const methods = new Set(events.map((e) => e.methodId));
  const sentOrder = new Map<string, string[]>();
  for (const e of events.filter((x) => acknowledged.has(x.eventId)))
    sentOrder.set(e.methodId, [...(sentOrder.get(e.methodId) ?? []), e.eventId]);

  const logged = new Map<string, string[]>();
  const loggedEvents = new Map<string, MethodEvent[]>();
  for (const value of await readDecoded<MethodEvent>(kafka, registry, 'nyemetoder.method-events.v1')) {
    if (!methods.has(value.methodId)) continue;
    const ids = logged.get(value.methodId) ?? [];
    if (!ids.includes(value.eventId))
      loggedEvents.set(value.methodId, [...(loggedEvents.get(value.methodId) ?? []), value]);
    logged.set(value.methodId, [...ids, value.eventId]);
  }
  const eventCount: OutputCount = {
    output: 'nyemetoder.method-events.v1',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
  };
  for (const [methodId, expected] of sentOrder) {
    const inLog = logged.get(methodId) ?? [];
    const copies = new Map<string, number>();
    for (const id of inLog) copies.set(id, (copies.get(id) ?? 0) + 1);
    for (const id of expected) {
      const n = copies.get(id) ?? 0;
      if (n === 0) eventCount.lost++;
      if (n > 1) eventCount.doubled += n - 1;
    }
    const firsts = [...new Set(inLog)].filter((id) => expected.includes(id));
    const rank = new Map(expected.map((id, i) => [id, i]));
    for (let i = 1; i < firsts.length; i++)
      if (rank.get(firsts[i]!)! < rank.get(firsts[i - 1]!)!) eventCount.outOfOrder++;
  }

  // The projection writes each method's latest state per batch: versions may be skipped, never go back.
  const stateCount: OutputCount = {
    output: 'nyemetoder.method-state.v1',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
  };
  // Consumer groups of a SIGKILLed hub pass on after their session (30 s) and, when the kill came in the
  // middle of a rebalance, the rebalance timeout (60 s): the projection gets as long as the partners do.
  const waitFrom = Date.now();
  const deadline = waitFrom + settleMs;
  let versions = new Map<string, number[]>();
  for (;;) {
    versions = new Map();
    for (const state of await readDecoded<MethodState>(kafka, registry, 'nyemetoder.method-state.v1')) {
      if (methods.has(state.methodId))
        versions.set(state.methodId, [...(versions.get(state.methodId) ?? []), state.version]);
    }
    const behind = [...sentOrder].filter(([m, ids]) => Math.max(0, ...(versions.get(m) ?? [])) < ids.length);
    if (behind.length === 0 || Date.now() > deadline) {
      process.stderr.write(
        `[faults] method-state ${behind.length === 0 ? 'caught up' : `still behind for ${behind.length} method(s)`} ${Date.now() - waitFrom} ms after the stream\n`,
      );
      break;
    }
    await sleep(1_000);
  }
  for (const [methodId, ids] of sentOrder) {
    const seen = versions.get(methodId) ?? [];
    stateCount.lost += Math.max(0, ids.length - Math.max(0, ...seen));
    stateCount.doubled += seen.length - new Set(seen).size;
    for (let i = 1; i < seen.length; i++) if (seen[i]! < seen[i - 1]!) stateCount.outOfOrder++;
  }
  eventCount.rule = 'every acknowledged event id once, in the order sent per method';
  stateCount.rule =
    "each method's latest version reaches its event count; versions may skip, never repeat or go back";
  if (!partners) return [eventCount, stateCount];
  const settleBy = Date.now() + settleMs;
  for (;;) {
    const topics = {
      fest: await readDecoded<FestVilkar>(kafka, registry, 'fest.vilkar.v1'),
      financing: await readDecoded<DrugDecision>(kafka, registry, 'financing.drug-decisions.v1'),
      flags: await readDecoded<GuidelineFlag>(kafka, registry, 'hdir.guideline-flags.v1'),
    };
    const counted = judgePartnerOutputs(loggedEvents, topics, partners);
    if (counted.every((c) => c.lost === 0) || Date.now() > settleBy)
      return [eventCount, stateCount, ...counted];
    await sleep(2_000);
  }
}

export async function readDecoded<T>(kafka: Kafka, registry: ContractRegistry, topic: string): Promise<T[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((e) => e.high !== e.low).map((e) => [e.partition, BigInt(e.high)]));
  const values: { partition: number; value: T }[] = [];
  if (remaining.size === 0) return [];
  const consumer = kafka.consumer({ groupId: `faults-reader-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not read ${topic} to its end in 60 s`)), 60_000);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = remaining.get(payload.partition);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) remaining.delete(payload.partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          values.push({ partition, value: (await registry.decode<T>(topic, message.value)).value });
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return values.map((v) => v.value);
}

export const scenarios: Record<string, Scenario> = {
  'broker SIGKILL': {
    name: 'broker SIGKILL, 5 s down',
    inject: async ({ stack }) => {
      await stack.kill('kafka');
      await sleep(5_000);
      await stack.restart();
    },
  },
  'broker SIGKILL 20 s': {
    name: 'broker SIGKILL, 20 s down',
    inject: async ({ stack }) => {
      await stack.kill('kafka');
      await sleep(20_000);
      await stack.restart();
    },
  },
  'registry SIGKILL': {
    name: 'registry SIGKILL, 10 s down',
    inject: async ({ stack }) => {
      await stack.kill('registry');
      await sleep(10_000);
      await stack.restart();
    },
  },
  'hub SIGKILL': {
    name: 'hub SIGKILL, restarted at once',
    inject: async ({ hub }) => {
      await hub.kill();
      await hub.start();
    },
  },
  'broker and hub SIGKILL': {
    name: 'broker and hub SIGKILL, 5 s down',
    inject: async ({ stack, hub }) => {
      await stack.kill('kafka');
      await hub.kill();
      await sleep(5_000);
      await stack.restart();
      await hub.start();
    },
  },
};

/** A partner stand-in down (connections refused; Helsedirektoratet answers 503) for `ms`, then back. */
export function partnerOutage(partner: Partner | 'all', ms: number): Scenario {
  const which: Partner[] = partner === 'all' ? ['slv', 'fest-vendor', 'hdir'] : [partner];
  return {
    name: `${partner === 'all' ? 'every partner' : partner} down ${ms / 1000} s`,
    inject: async ({ partners }) => {
      if (!partners)
        throw new Error(`NO_PARTNERS: the scenario "${partner} down" needs the partner stand-ins`);
      for (const p of which) await partners.down(p);
      await sleep(ms);
      for (const p of which) await partners.up(p);
    },
  };
}

export const partnerScenarios: Record<string, Scenario> = {
  'slv down': partnerOutage('slv', 90_000),
  'fest vendor down': partnerOutage('fest-vendor', 60_000),
  'hdir down': partnerOutage('hdir', 20_000),
};

/** How each output is judged, one line per output, for under the table. */
export function judgedBy(results: ScenarioResult[]): string {
  const rules = new Map<string, string>();
  for (const r of results) for (const o of r.outputs) if (o.rule) rules.set(o.output, o.rule);
  return [...rules].map(([output, rule]) => `- ${output}: ${rule}`).join('\n');
}

export function resultTable(results: ScenarioResult[]): string {
  const header = [
    'scenario',
    'sent',
    'acknowledged',
    'resends',
    'output',
    'lost',
    'doubled',
    'out of order',
    'recovery',
  ];
  const rows = results.flatMap((r) =>
    r.outputs.map((o, i) => [
      i === 0 ? r.scenario : '',
      i === 0 ? String(r.sent) : '',
      i === 0 ? String(r.acknowledged) : '',
      i === 0 ? String(r.resends) : '',
      o.output,
      String(o.lost),
      String(o.doubled),
      String(o.outOfOrder),
      i === 0 ? (r.recoveryMs === null ? '-' : `${(r.recoveryMs / 1000).toFixed(1)} s`) : '',
    ]),
  );
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

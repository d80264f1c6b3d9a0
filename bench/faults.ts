/**
 * `npm run bench:faults`: the fault-injection suite in full. On a broker and registry of its own (ports
 * 18396-18398, data in a temp dir) and the hub as its own process with every adapter, delivering to the
 * partner stand-ins, one scenario per run: the broker (20 s), the registry (10 s), the hub, and broker and
 * hub together are SIGKILLed and restarted, and SLV (90 s), the FEST vendor (60 s) and Helsedirektoratet
 * (20 s) go down, under a steady stream of case events. Prints per scenario: sent, acknowledged, resends, and
 * per output (topics and stand-ins) lost, doubled, out of order, the recovery time (fault until the door
 * acknowledges again), and how each output is judged.
 */
import { Command } from 'commander';
import { type FaultStack, startFaultStack } from '../test/faults/faultStack.ts';
import { type HubProcess, hubProcess } from '../test/faults/hubProcess.ts';
import { adapterComponents, type Partners, startPartners } from '../test/faults/partners.ts';
import {
  judgedBy,
  partnerScenarios,
  resultTable,
  runStream,
  type ScenarioResult,
  scenarios as killScenarios,
} from '../test/faults/stream.ts';

const scenarios = { ...killScenarios, ...partnerScenarios };

const options = new Command('bench:faults')
  .description(
    'Fault injection: SIGKILL the broker, the registry and the hub, and take each partner down, under a steady stream of case events.',
  )
  .option('--rate <n>', 'events per second', (v) => Number(v), 40)
  .option('--seconds <n>', 'length of each stream', (v) => Number(v), 30)
  .option('--only <keys>', `comma-separated scenarios: ${Object.keys(scenarios).join(', ')}`)
  .parse()
  .opts<{ rate: number; seconds: number; only?: string }>();
const rate = options.rate;
const durationMs = options.seconds * 1000;
const keys = options.only
  ? options.only.split(',').map((k) => k.trim())
  : [
      'broker SIGKILL 20 s',
      'registry SIGKILL',
      'hub SIGKILL',
      'broker and hub SIGKILL',
      'slv down',
      'fest vendor down',
      'hdir down',
    ];
for (const key of keys)
  if (!scenarios[key])
    throw new Error(`--only: no scenario "${key}"; choose from ${Object.keys(scenarios).join(', ')}`);

const say = (line: string) => process.stdout.write(`${line}\n`);

interface Parts {
  stack: FaultStack;
  partners: Partners;
  hub: HubProcess;
}

/** A broker, registry, partner stand-ins and hub of the bench's own, all fresh. */
async function bringUp(): Promise<Parts> {
  say(`Starting a broker and registry of the benchmark's own (ports 18396-18398)...`);
  const [stack, partners] = await Promise.all([
    startFaultStack({ kafka: 18396, controller: 18397, registry: 18398 }),
    startPartners(),
  ]);
  const hub = await hubProcess({
    ...stack,
    components: adapterComponents,
    env: { INGRESS_TRANSACTIONAL_ID: 'bench-faults-hub', ...partners.env },
  });
  try {
    await hub.start();
    await partners.registerVendor(hub);
  } catch (error) {
    await tearDown({ stack, partners, hub }); // the ports must be free for the next try
    throw error;
  }
  return { stack, partners, hub };
}

/** Stops everything, whatever state a failed scenario left it in. */
async function tearDown(parts: Parts): Promise<void> {
  if (parts.hub.running) await parts.hub.kill().catch(() => undefined);
  await Promise.all([
    parts.stack.stop().catch((error: Error) => say(`  could not stop the stack: ${error.message}`)),
    parts.partners.close().catch(() => undefined),
  ]);
}

const results: ScenarioResult[] = [];
const failures: { scenario: string; reason: string }[] = [];
let failed = false;
let parts: Parts | undefined;
try {
  for (const [run, key] of keys.entries()) {
    try {
      parts ??= await bringUp();
    } catch (error) {
      failures.push({ scenario: key, reason: `the stack did not start: ${(error as Error).message}` });
      say(`${key}: FAILED, the stack did not start: ${(error as Error).message}`);
      failed = true;
      continue;
    }
    say(`${key}: ${rate} events/s for ${durationMs / 1000} s, the fault after 5 s...`);
    let result: ScenarioResult;
    try {
      result = await runStream({
        ...parts,
        scenario: scenarios[key]!,
        rate,
        durationMs,
        faultAtMs: 5_000,
        run: run + 10,
      });
    } catch (error) {
      // A part that did not come back: this scenario failed; the next one gets a fresh stack.
      const reason = (error as Error).message.split('\n')[0]!;
      failures.push({ scenario: key, reason });
      say(`  FAILED: ${reason}\n  stopping this stack; the next scenario starts on a fresh one`);
      failed = true;
      await tearDown(parts);
      parts = undefined;
      continue;
    }
    results.push(result);
    const unanswered = Object.entries(result.unanswered)
      .map(([kind, u]) => `${u.count} x ${kind}`)
      .join(', ');
    say(
      `  answered other than 2xx: ${unanswered || 'none'}; refused: ${result.refused.length}; resends not answered as duplicate: ${result.resendsNotDuplicate}`,
    );
    for (const o of result.outputs) if (o.examples) say(`  ${o.output}: missing ${o.examples.join('; ')}`);
    say(`\n${resultTable([result])}\n`);
    const clean =
      result.refused.length === 0 &&
      result.resendsNotDuplicate === 0 &&
      result.acknowledged === result.sent &&
      result.outputs.every(
        (o) =>
          o.lost === 0 && o.outOfOrder === 0 && (o.doubled === 0 || o.output.endsWith('method-state.v1')),
      );
    failed ||= !clean;
  }
} finally {
  if (parts) await tearDown(parts);
}
say(`\nAll scenarios:\n${resultTable(results)}\n\nHow each output is judged:\n${judgedBy(results)}\n`);
for (const f of failures) say(`FAILED ${f.scenario}: ${f.reason}`);
say(
  failed
    ? 'Something was lost, doubled, reordered or refused, or a scenario failed: see above.'
    : 'Every acknowledged event once in the log, in order; every resend a duplicate; every output once and in order.',
);
process.exit(failed ? 1 : 0);

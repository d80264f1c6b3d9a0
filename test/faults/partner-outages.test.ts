/**
 * The fault-injection suite in its short form (`npm run bench:faults` runs it in full): a steady stream of
 * case events into a hub running every adapter, as its own process, on a broker and registry of the test's
 * own, while the hub is SIGKILLed, then while every partner stand-in is down for a few seconds. Every
 * acknowledged event is once in the log and in order per method, every resend a duplicate, and each topic
 * and each stand-in holds what the log asks for, once and in order (see outputs.ts for how each is judged).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FaultStack, startFaultStack } from './faultStack.ts';
import { type HubProcess, hubProcess } from './hubProcess.ts';
import { adapterComponents, type Partners, startPartners } from './partners.ts';
import { judgedBy, partnerOutage, resultTable, runStream, type ScenarioResult, scenarios } from './stream.ts';

let stack: FaultStack;
let hub: HubProcess;
let partners: Partners;
const results: ScenarioResult[] = [];

beforeAll(async () => {
  [stack, partners] = await Promise.all([
    startFaultStack({ kafka: 18393, controller: 18394, registry: 18395 }),
    startPartners(),
  ]);
  hub = await hubProcess({
    ...stack,
    components: adapterComponents,
    env: { INGRESS_TRANSACTIONAL_ID: 'faults-partners-hub', ...partners.env },
  });
  await hub.start();
  await partners.registerVendor(hub);
}, 240_000);

afterAll(async () => {
  if (results.length > 0) process.stderr.write(`\n${resultTable(results)}\n${judgedBy(results)}\n`);
  if (hub?.running) await hub.kill();
  await Promise.all([stack?.stop(), partners?.close()]);
}, 120_000);

const expectClean = (result: ScenarioResult) => {
  results.push(result);
  process.stderr.write(`[faults] ${result.scenario}: ${JSON.stringify(result.unanswered)}\n`);
  for (const o of result.outputs)
    if (o.examples) process.stderr.write(`[faults]   ${o.output}: missing ${o.examples.join('; ')}\n`);
  expect(result.refused).toEqual([]);
  expect(result.acknowledged).toBe(result.sent);
  expect(result.resendsNotDuplicate).toBe(0);
  const counts = Object.fromEntries(
    result.outputs.map((o) => [o.output, { lost: o.lost, doubled: o.doubled, outOfOrder: o.outOfOrder }]),
  );
  const clean = Object.fromEntries(
    result.outputs.map((o) => [o.output, { lost: 0, doubled: 0, outOfOrder: 0 }]),
  );
  // The state topic may carry a version twice (a batch written again after a kill): only lost or back counts.
  clean['nyemetoder.method-state.v1']!.doubled = counts['nyemetoder.method-state.v1']!.doubled;
  expect(counts).toEqual(clean);
};
const stream = { rate: 40, durationMs: 6_000, faultAtMs: 1_500, partners: undefined as Partners | undefined };

it('loses, doubles and reorders nothing, at the door and at every partner, when the hub is SIGKILLed mid-stream', async () => {
  expectClean(
    await runStream({ stack, hub, scenario: scenarios['hub SIGKILL']!, ...stream, partners, run: 2 }),
  );
}, 180_000);

it('loses, doubles and reorders nothing when every partner stand-in is down for 4 s mid-stream', async () => {
  expectClean(
    await runStream({ stack, hub, scenario: partnerOutage('all', 4_000), ...stream, partners, run: 3 }),
  );
}, 180_000);

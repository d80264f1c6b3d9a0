/**
 * Issue 16, the open loss: after a broker or registry SIGKILL with no hub restart, the FEST publisher stopped
 * publishing conditions until the hub restarted. A stream of case events into a hub with api, projection and fest
 * while the broker, then the registry, is down; afterwards every method's latest condition is on fest.vilkar.v1.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { festVilkarFor } from '../../adapters/fest/mapping.ts';
import type { FestVilkar, MethodState } from '../../contracts/generated/types.ts';
import { ContractRegistry } from '../../core/bus/registry.ts';
import { type FaultStack, type Part, startFaultStack } from './faultStack.ts';
import { type HubProcess, hubProcess } from './hubProcess.ts';
import { adapterComponents, type Partners, startPartners } from './partners.ts';
import { readDecoded, runStream, type Scenario } from './stream.ts';

let stack: FaultStack;
let hub: HubProcess;
let partners: Partners;

beforeAll(async () => {
  [stack, partners] = await Promise.all([
    startFaultStack({ kafka: 18490, controller: 18491, registry: 18492 }),
    startPartners(),
  ]);
  hub = await hubProcess({
    ...stack,
    components: adapterComponents,
    env: {
      INGRESS_TRANSACTIONAL_ID: 'faults-fest-hub',
      ...partners.env,
    },
  });
  await hub.start();
  await partners.registerVendor(hub);
}, 420_000);

afterAll(async () => {
  if (hub?.running) await hub.kill();
  await Promise.all([stack?.stop(), partners?.close()]);
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const down = (part: Part, ms: number): Scenario => ({
  name: `${part} SIGKILL, ${ms / 1000} s down`,
  inject: async ({ stack }) => {
    await stack.kill(part);
    await sleep(ms);
    await stack.restart();
  },
});

/** Methods of this run whose latest condition on fest.vilkar.v1 is not what their latest state maps to. */
async function festMissing(run: number): Promise<string[]> {
  const kafka = new Kafka({ brokers: [stack.kafkaBrokers], logLevel: logLevel.NOTHING });
  const registry = new ContractRegistry(stack.schemaRegistryUrl);
  const ours = (methodId: string) => methodId.startsWith(`ID${2040 + run}_`);
  const finals = new Map<string, MethodState>();
  for (const s of await readDecoded<MethodState>(kafka, registry, 'nyemetoder.method-state.v1'))
    if (ours(s.methodId) && (finals.get(s.methodId)?.version ?? 0) < s.version) finals.set(s.methodId, s);
  const latest = new Map<string, FestVilkar>();
  for (const v of await readDecoded<FestVilkar>(kafka, registry, 'fest.vilkar.v1'))
    if (ours(v.methodId) && (latest.get(v.methodId)?.catalogueVersion ?? 0) < v.catalogueVersion)
      latest.set(v.methodId, v);
  const missing: string[] = [];
  for (const [methodId, state] of finals) {
    const want = festVilkarFor(state, { linkBase: 'https://www.nyemetoder.no/metoder/' });
    const last = latest.get(methodId);
    if (want && (!last || last.withdrawn || last.statusCode !== want.statusCode))
      missing.push(
        `${methodId} v${state.version}: want ${want.statusCode}, last ${last?.statusCode ?? 'none'}`,
      );
  }
  return missing;
}

async function expectEveryConditionPublished(run: number): Promise<void> {
  const settleBy = Date.now() + 45_000;
  let missing = await festMissing(run);
  while (missing.length > 0 && Date.now() < settleBy) {
    await sleep(2_000);
    missing = await festMissing(run);
  }
  expect({ missing: missing.length, examples: missing.slice(0, 3) }).toEqual({ missing: 0, examples: [] });
}

const stream = { rate: 40, durationMs: 20_000, faultAtMs: 3_000 };

it('publishes every method latest condition after the broker was SIGKILLed for 20 s while the hub was starting its adapters, with no hub restart', async () => {
  const result = await runStream({
    stack,
    hub,
    scenario: down('kafka', 20_000),
    ...stream,
    partners,
    run: 21,
  });
  process.stderr.write(`[faults] ${JSON.stringify(result.outputs.map((o) => [o.output, o.lost]))}\n`);
  expect(result.acknowledged).toBe(result.sent);
  await expectEveryConditionPublished(21);
}, 420_000);

it('publishes every method latest condition after the registry was SIGKILLed for 10 s, with no hub restart', async () => {
  const result = await runStream({ stack, hub, scenario: down('registry', 10_000), ...stream, run: 22 });
  expect(result.acknowledged).toBe(result.sent);
  await expectEveryConditionPublished(22);
}, 420_000);

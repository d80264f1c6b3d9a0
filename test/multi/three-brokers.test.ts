/**
 * Two hubs with every adapter, as their own processes, on a three-broker cluster of the test's own whose topics
 * have production's replication (3 copies, min.insync.replicas 2). A stream of case events goes to the first hub;
 * mid-stream one broker is SIGKILLed, then the first hub, and the client resends to the second. Afterwards every
 * acknowledged event is in the log once and in order per method, every resend is a duplicate, and every partner
 * output is there once and in order per method (test/faults/outputs.ts says how each is judged).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FaultStack, startFaultStack } from '../faults/faultStack.ts';
import { type HubProcess, hubProcess } from '../faults/hubProcess.ts';
import { adapterComponents, type Partners, startPartners } from '../faults/partners.ts';
import { judgedBy, resultTable, runStream, type Scenario, type ScenarioResult } from '../faults/stream.ts';

// Brokers on 19540, 19542, 19544 (controllers one above each), the registry on 19546.
const PORTS = { kafka: 19540, controller: 19541, registry: 19546, brokers: 3 };
const KILLED_BROKER = 0;

let stack: FaultStack;
let partners: Partners;
const hubs: HubProcess[] = [];
const results: ScenarioResult[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  [stack, partners] = await Promise.all([startFaultStack(PORTS), startPartners()]);
  for (const name of ['a', 'b'])
    hubs.push(
      await hubProcess({
        ...stack,
        components: adapterComponents,
        env: {
          // Each instance its own stable transactional id, as each pod would have.
          INGRESS_TRANSACTIONAL_ID: `three-brokers-hub-${name}`,
          KAFKA_TOPIC_PROFILE: 'production',
          ...partners.env,
        },
      }),
    );
  await Promise.all(hubs.map((h) => h.start()));
  await partners.registerVendor(hubs[0]!);
}, 420_000);

afterAll(async () => {
  if (results.length > 0) process.stderr.write(`\n${resultTable(results)}\n${judgedBy(results)}\n`);
  for (const h of hubs) if (h.running) await h.kill();
  await Promise.all([stack?.stop(), partners?.close()]);
}, 120_000);

const brokerThenHub: Scenario = {
  name: `broker ${KILLED_BROKER} of 3 SIGKILLed, then hub a; the client turns to hub b`,
  inject: async ({ stack, hub }) => {
    await stack.killBroker(KILLED_BROKER);
    await sleep(2_500);
    await hub.kill();
  },
};

it('loses, doubles and reorders nothing, in the log and at every partner, when a broker and then a hub are SIGKILLed mid-stream', async () => {
  const result = await runStream({
    stack,
    hub: hubs[0]!,
    standby: [hubs[1]!],
    scenario: brokerThenHub,
    partners,
    rate: 40,
    durationMs: 10_000,
    faultAtMs: 2_000,
    run: 21,
    // Hub a's consumer groups pass to hub b after their 30 s session, with a broker of three away.
    settleMs: 120_000,
  });
  results.push(result);
  process.stderr.write(
    `[three-brokers] ${result.acknowledged}/${result.sent} acknowledged, ${result.resends} resends, ${result.failovers} failover(s), recovery ${result.recoveryMs} ms: ${JSON.stringify(result.unanswered)}\n`,
  );
  for (const o of result.outputs)
    if (o.examples) process.stderr.write(`[three-brokers]   ${o.output}: missing ${o.examples.join('; ')}\n`);
  expect(result.failovers).toBeGreaterThan(0);
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
}, 300_000);

it('takes the SIGKILLed broker back into the cluster', async () => {
  await stack.restartBroker(KILLED_BROKER);
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ brokers: stack.kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    expect((await admin.describeCluster()).brokers).toHaveLength(3);
    // Replicated as production is: every partition of the event log has three copies.
    const { topics } = await admin.fetchTopicMetadata({ topics: ['nyemetoder.method-events.v1'] });
    expect(topics[0]!.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3, 3, 3, 3]);
  } finally {
    await admin.disconnect();
  }
}, 300_000);

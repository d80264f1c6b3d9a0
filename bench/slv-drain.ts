/**
 * Benchmark: the SLV adapter against the Dynamics 365 emulator and the real Kafka and registry.
 * 1. Backlog drain: SLV is down while N medicines are ordered from SLV; then it returns. Prints how long the
 *    backlog took to reach SLV (writes/s) and how many Web API requests that took.
 * 2. Inbound: SLV starts the assessment of all N at once. Prints how long until every method is
 *    ASSESSMENT_IN_PROGRESS in the hub (change tracking, case updates, method events, fold).
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 SCHEMA_REGISTRY_URL=http://127.0.0.1:8081/apis/ccompat/v7 \
 *     LOG_LEVEL=warn npx tsx bench/slv-drain.ts [--methods 200] [--poll-ms 250]
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { type SlvAdapter, slvAdapter } from '../adapters/slv/adapter.ts';
import { createKafka } from '../core/bus/kafka.ts';
import { loadConfig } from '../core/config/spec.ts';
import { DevIssuer } from '../core/http/devIssuer.ts';
import { createHub } from '../bin/hub.ts';
import { startDynamicsEmulator } from '../deploy/emulators/dynamics/server.ts';
import { Topics } from '../contracts/topics.ts';
import { requireStack } from './support/preflight.ts';

const options = new Command('bench:slv')
  .description('Backlog drain to SLV and SLV changes back, against the Dynamics 365 emulator.')
  .option('--methods <n>', 'medicines ordered from SLV', (v) => Number(v), 200)
  .option('--poll-ms <n>', 'SLV_POLL_INTERVAL_MS', (v) => Number(v), 250)
  .parse()
  .opts<{ methods: number; pollMs: number }>();

const config = loadConfig({ ...process.env, HUB_PORT: '0', AUTH_DEV_ISSUER: 'true' });
await requireStack('bench:slv', config);
const kafka = createKafka(config.KAFKA_BROKERS, 'bench-slv');
const run = randomUUID().slice(0, 8);
const topics: Record<string, string> = {
  [Topics.methodEvents]: `bench.slv.events.${run}`,
  [Topics.methodState]: `bench.slv.state.${run}`,
  [Topics.slvCaseUpdates]: `bench.slv.case-updates.${run}`,
};
const admin = kafka.admin();
await admin.connect();
await admin.createTopics({
  topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 6 })),
  waitForLeaders: true,
});

const slv = await startDynamicsEmulator({ clients: [{ clientId: 'metodehub-slv', clientSecret: 'bench' }] });
const stateDir = await mkdtemp(join(tmpdir(), 'bench-slv-'));
const env = {
  ...process.env,
  SLV_URL: slv.url,
  SLV_TOKEN_URL: slv.tokenUrl,
  SLV_CLIENT_SECRET: 'bench',
  SLV_POLL_INTERVAL_MS: String(options.pollMs),
  SLV_RETRY_BASE_MS: '100',
  SLV_RETRY_MAX_MS: '1000',
  SLV_CIRCUIT_OPEN_MS: '1000',
};
const hub = createHub({
  config,
  components: ['api', 'projection', 'slv'],
  topics,
  groupPrefix: `bench.slv.${run}`,
  devIssuer: await DevIssuer.ephemeral(),
  env,
  adapters: [slvAdapter],
  kafka,
});
await hub.start();
await hub.waitUntilReady();
const adapter = hub.adapters.get('slv') as SlvAdapter;
const token = await hub.devToken();
const until = async (done: () => boolean, what: string, timeoutMs = 600_000) => {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
await until(() => adapter.poller.lastPoll?.ok === true, 'first read of SLV');

const ids = Array.from({ length: options.methods }, (_, i) => `ID2030_${String(i + 1).padStart(3, '0')}`);
const day = (n: number) => new Date(Date.UTC(2030, 0, 7) + n * 86_400_000).toISOString();
const eventsFor = (methodId: string) => [
  {
    eventId: randomUUID(),
    methodId,
    type: 'METHOD_REGISTERED',
    occurredAt: day(0),
    registered: {
      details: { name: `Legemiddel ${methodId}`, methodType: 'MEDICINE', atcCodes: ['L01FF02'] },
    },
  },
  {
    eventId: randomUUID(),
    methodId,
    type: 'STATUS_CHANGED',
    occurredAt: day(1),
    statusChanged: { to: 'AWAITING_ORDERING' },
  },
  {
    eventId: randomUUID(),
    methodId,
    type: 'ASSIGNMENT_ORDERED',
    occurredAt: day(2),
    assignment: { assignee: 'SLV', slvTrack: 'B', orderedOn: day(2).slice(0, 10) },
  },
];

await slv.setFaults({ down: true });
for (let i = 0; i < ids.length; i += 50) {
  const response = await fetch(`${hub.url}/api/v1/case-events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(ids.slice(i, i + 50).flatMap(eventsFor)),
  });
  if (response.status !== 200)
    throw new Error(`case events refused: ${response.status} ${await response.text()}`);
}
await until(() => adapter.exchanges.pending === ids.length, 'backlog recorded');
const requestsBefore = slv.counters().requests;
const drainStarted = performance.now();
await slv.setFaults({ down: false });
await until(() => slv.records().length === ids.length && adapter.exchanges.pending === 0, 'backlog drained');
const drainMs = performance.now() - drainStarted;
const requests = slv.counters().requests - requestsBefore;

const inboundStarted = performance.now();
for (const id of ids) slv.editAsSlv(id, { nm_status: 'Under vurdering' });
await until(
  () => ids.every((id) => hub.store.ledger(id)?.current?.status === 'ASSESSMENT_IN_PROGRESS'),
  'assessments started in the hub',
);
const inboundMs = performance.now() - inboundStarted;

console.log(`SLV adapter, ${ids.length} medicines, 6 partitions, poll every ${options.pollMs} ms`);
console.log(
  `backlog drain after SLV returned: ${drainMs.toFixed(0)} ms, ${((ids.length * 1000) / drainMs).toFixed(1)} cases written/s, ${requests} Web API requests (${(requests / ids.length).toFixed(2)} per case)`,
);
console.log(
  `SLV changes to method state: ${inboundMs.toFixed(0)} ms for ${ids.length} changes, ${((ids.length * 1000) / inboundMs).toFixed(1)} changes/s end to end`,
);

await hub.stop();
await slv.close();
await rm(stateDir, { recursive: true, force: true });
const physical = Object.values(topics);
const existing = new Set(await admin.listTopics());
await admin
  .deleteTopics({ topics: [...physical, ...physical.map((t) => `${t}.dlq`)].filter((t) => existing.has(t)) })
  .catch(() => undefined);
await admin.disconnect();
process.exit(0);

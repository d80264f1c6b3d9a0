/**
 * The flow is declared once, in each component's `flow`: contracts/topics.ts, the AsyncAPI document and the
 * dashboard's partner edges must agree with it, no code outside contracts/ names a topic by a string literal, and a
 * hub running every adapter joins exactly the consumer groups and topics the declarations say (Kafka's describeGroups).
 * The same hub runs with BUS_* settings of its own, and every consumer runner must be running with them.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adapterCatalogue } from '../../adapters/catalogue.ts';
import { topics as declaredTopics, Topics } from '../../contracts/topics.ts';
import { runningRunners } from '../../core/bus/runner.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import type { Hub } from '../../core/hub/hub.ts';
import { createHub } from '../../bin/hub.ts';
import { coreFlows, type FlowComponent, groupAliases } from '../../core/ops/flow.ts';
import { type DynamicsEmulator, startDynamicsEmulator } from '../../deploy/emulators/dynamics/server.ts';
import { type HdirStandIn, startHdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { createTopics, deleteTopics, testKafka, uniqueName } from '../support/kafka.ts';

const { AssignerProtocol } = kafkajs;
const repoRoot = join(import.meta.dirname, '..', '..');
const asyncapi = JSON.parse(readFileSync(join(repoRoot, 'contracts/generated/asyncapi.json'), 'utf8')) as {
  operations: Record<string, { action: string; title: string; channel: { $ref: string } }>;
};

const components: FlowComponent[] = [
  ...coreFlows,
  ...adapterCatalogue.map((a) => ({ name: a.name, flow: a.flow! })),
];
const declaredNames = Object.values(Topics) as string[];
/** The follower of core/lifecycle/methodLog.ts: the one fold of the event log every part shares. */
const METHOD_LOG = 'method-log';
/** Components that read a topic they share through the hub in a consumer group of their own too (their effects). */
const OWN_GROUP_READS: Record<string, string[]> = {
  slv: [Topics.methodEvents],
  hdir: [Topics.methodEvents],
  financing: [Topics.methodEvents],
};
const ownGroupReads = (component: string, topic: string) =>
  OWN_GROUP_READS[component]?.includes(topic) ?? false;

/** The components whose flow says they read (or write) a topic. */
const whoFlows = (topic: string, side: 'consumes' | 'produces') =>
  components
    .filter((c) => c.flow[side].includes(topic as never))
    .map((c) => c.name)
    .sort();

describe('the declared flow', () => {
  it('is given by every adapter', () => {
    for (const adapter of adapterCatalogue) expect(adapter.flow, adapter.name).toBeDefined();
  });

  it('is what contracts/topics.ts says produces and consumes each topic, and it names every declared topic', () => {
    expect(declaredTopics.map((t) => t.name).sort()).toEqual([...declaredNames].sort());
    for (const topic of declaredTopics) {
      expect([...topic.producers].sort(), `producers of ${topic.name}`).toEqual(
        whoFlows(topic.name, 'produces'),
      );
      expect([...topic.consumers].sort(), `consumers of ${topic.name}`).toEqual(
        whoFlows(topic.name, 'consumes'),
      );
    }
  });

  it('is what the AsyncAPI document says: one send per producer, one receive per consumer inside the hub', () => {
    const operations = Object.values(asyncapi.operations);
    for (const topic of declaredTopics) {
      const on = operations.filter((o) => o.channel.$ref === `#/channels/${topic.name}`);
      const parties = (action: string) =>
        on
          .filter((o) => o.action === action && !o.title.includes('(outside the hub)'))
          .map((o) => o.title.split(' ')[0]!)
          .sort();
      expect(parties('send'), `send operations on ${topic.name}`).toEqual(whoFlows(topic.name, 'produces'));
      expect(parties('receive'), `receive operations on ${topic.name}`).toEqual(
        whoFlows(topic.name, 'consumes'),
      );
    }
  });

  it('names, for each partner edge of the dashboard, topics the component itself reads or writes', () => {
    for (const { name, flow } of components) {
      for (const topic of flow.restores ?? [])
        expect(flow.consumes, `${name} restores ${topic}`).toContain(topic);
      if (!flow.partner) continue;
      expect(flow.carries?.length, `${name}'s partner edge carries nothing`).toBeGreaterThan(0);
      for (const topic of flow.carries ?? [])
        expect([...flow.consumes, ...flow.produces], `${name} carries ${topic}`).toContain(topic);
    }
  });

  it('is the only place topic names are written: no string literal names one in code outside contracts/', () => {
    const sources = ['adapters', 'core', 'bench', 'bin', 'deploy'].flatMap((dir) =>
      filesUnder(join(repoRoot, dir)),
    );
    const literal = new RegExp(`(['"])(${declaredNames.map((n) => n.replaceAll('.', '\\.')).join('|')})\\1`);
    const found = sources.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          literal.test(line) ? [`${relative(repoRoot, file)}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(found).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return /\.(ts|mjs)$/.test(entry) && !entry.endsWith('.test.ts') ? [path] : [];
  });
}

describe('a hub running every adapter', () => {
  const kafka = testKafka();
  const physical = Object.fromEntries(declaredNames.map((n) => [n, uniqueName(`test.${n}`)]));
  const groupPrefix = uniqueName('test-flow');
  const bus = {
    BUS_IDEMPOTENCY_WINDOW: '5',
    BUS_RETRY_BASE_MS: '77',
    BUS_RETRY_MAX_MS: '777',
    BUS_TRANSIENT_BUDGET_MS: '7777',
    BUS_PARTITIONS_CONCURRENTLY: '2',
  };
  let hub: Hub;
  let slv: DynamicsEmulator;
  let hdir: HdirStandIn;

  beforeAll(async () => {
    await createTopics(kafka, Object.values(physical), 3);
    slv = await startDynamicsEmulator({ clients: [{ clientId: 'metodehub-slv', clientSecret: 's3cret' }] });
    hdir = await startHdirStandIn();
    const env = {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
      HUB_PORT: '0',
      AUTH_DEV_ISSUER: 'true',
      SLV_URL: slv.url,
      SLV_TOKEN_URL: slv.tokenUrl,
      SLV_CLIENT_ID: 'metodehub-slv',
      SLV_CLIENT_SECRET: 's3cret',
      SLV_POLL_INTERVAL_MS: '500',
      HDIR_NOTIFY_URL: hdir.notifyUrl,
      FEST_SECRET_KEY: randomBytes(32).toString('base64'),
      ...bus,
    };
    hub = createHub({
      config: loadConfig(env),
      components: ['api', 'projection', ...adapterCatalogue.map((a) => a.name)],
      topics: physical,
      groupPrefix,
      devIssuer: await DevIssuer.ephemeral(),
      env: { ...process.env, ...env },
      adapters: adapterCatalogue,
    });
    await hub.start();
    await hub.waitUntilReady(60_000);
  });

  afterAll(async () => {
    await hub?.stop();
    await slv?.close();
    await hdir?.close();
    const names = Object.values(physical);
    await deleteTopics(kafka, [...names, ...names.map((t) => `${t}.dlq`)]);
  });

  /** The component a consumer group belongs to: runner groups are `<prefix>.<role>`, followers' `metodehub.follow.<role>.<host>.<pid>.`. */
  const componentOf = (role: string) =>
    // A leadership group is `<prefix>.<role>.leadership`, the role one the component's flow says it leads.
    components.find(
      (c) => role.endsWith('.leadership') && c.flow.leads?.includes(role.slice(0, -'.leadership'.length)),
    )?.name ??
    components.find(
      (c) =>
        role === (groupAliases[c.name] ?? c.name) || role.startsWith(`${groupAliases[c.name] ?? c.name}-`),
    )?.name;

  const running = () => components.filter((c) => c.name === 'ops' || hub.components.includes(c.name));

  async function joined(): Promise<{
    byComponent: Record<string, string[]>;
    /** Declared topic -> the followers (roles) that read it whole. */
    followersOf: Record<string, string[]>;
    unknown: string[];
  }> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const follower = `.${hostname()}.${process.pid}.`;
      const { groups } = await admin.listGroups();
      const ours = groups
        .map((g) => g.groupId)
        .filter(
          (id) =>
            id.startsWith(`${groupPrefix}.`) || (id.startsWith('metodehub.follow.') && id.includes(follower)),
        );
      const declaredOf = new Map(Object.entries(physical).map(([d, p]) => [p, d]));
      const byComponent: Record<string, Set<string>> = {};
      const followersOf: Record<string, string[]> = {};
      const unknown: string[] = [];
      for (const group of (await admin.describeGroups(ours)).groups) {
        if (group.members.length === 0) continue;
        const role = group.groupId.startsWith(`${groupPrefix}.`)
          ? group.groupId.slice(groupPrefix.length + 1)
          : group.groupId.slice('metodehub.follow.'.length, group.groupId.indexOf(follower));
        const isFollower = !group.groupId.startsWith(`${groupPrefix}.`);
        const component = role === METHOD_LOG ? METHOD_LOG : componentOf(role);
        if (!component) {
          unknown.push(group.groupId);
          continue;
        }
        for (const member of group.members) {
          const { topics } = AssignerProtocol.MemberMetadata.decode(member.memberMetadata)!;
          const read = byComponent[component] ?? new Set<string>();
          for (const topic of topics) {
            const declared = declaredOf.get(topic) ?? topic;
            read.add(declared);
            if (isFollower) followersOf[declared] = [...new Set([...(followersOf[declared] ?? []), role])];
          }
          byComponent[component] = read;
        }
      }
      return {
        byComponent: Object.fromEntries(Object.entries(byComponent).map(([c, t]) => [c, [...t].sort()])),
        followersOf,
        unknown,
      };
    } finally {
      await admin.disconnect();
    }
  }

  it('joins the groups and subscribes to the topics the declarations say, and no others', async () => {
    // What each component reads in groups and followers of its own: what it reads, less what it only reads whole
    // (its own state at start) and what it reads through the hub's one fold of the event log, the method log's.
    const declared: Record<string, string[]> = Object.fromEntries(
      running()
        .map(
          (c) =>
            [
              c.name,
              c.flow.consumes
                .filter((t) => !c.flow.restores?.includes(t))
                .filter((t) => !c.flow.throughHub?.includes(t) || ownGroupReads(c.name, t))
                .sort(),
            ] as const,
        )
        .filter(([, t]) => t.length > 0),
    );
    declared[METHOD_LOG] = [Topics.methodEvents];
    await expect
      .poll(async () => (await joined()).byComponent, { timeout: 60_000, interval: 1_000 })
      .toEqual(declared);
    expect((await joined()).unknown).toEqual([]);
  });

  it('folds the event log once: the method log is the one follower of method events in the hub', async () => {
    const { followersOf } = await joined();
    expect(followersOf[Topics.methodEvents]).toEqual([METHOD_LOG]);
    const sharing = running()
      .filter((c) => c.flow.throughHub?.includes(Topics.methodEvents))
      .map((c) => c.name);
    expect(sharing.sort()).toEqual(['api', 'eu-jca', 'financing', 'hdir', 'slv']);
  });

  it('runs every consumer runner with the BUS_* settings, partners their own retry waits', async () => {
    const runners = runningRunners().filter((r) => r.groupId.startsWith(`${groupPrefix}.`));
    expect(runners.map((r) => r.runner).sort()).toEqual([
      'financing',
      'hdir-flagger',
      'hdir-notifier',
      'slv-case-updates',
      'slv-outbound',
      'subscriptions-notifier',
    ]);
    // The partner adapters' own waits (SLV_RETRY_*, HDIR_RETRY_*, SUBSCRIPTIONS_RETRY_*) at their defaults.
    const partnerWaits: Record<string, [number, number]> = {
      'slv-outbound': [500, 30_000],
      'slv-case-updates': [500, 30_000],
      'hdir-notifier': [1_000, 300_000],
      'subscriptions-notifier': [1_000, 60_000],
    };
    for (const r of runners) {
      expect({
        runner: r.runner,
        window: r.idempotencyWindow,
        budget: r.transientBudgetMs,
        partitions: r.partitionsConcurrently,
      }).toEqual({ runner: r.runner, window: 5, budget: 7777, partitions: 2 });
      expect({ runner: r.runner, waits: [r.retryBaseMs, r.retryMaxMs] }).toEqual({
        runner: r.runner,
        waits: partnerWaits[r.runner] ?? [77, 777],
      });
    }
  });
});

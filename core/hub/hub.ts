/**
 * The hub: one process running the components asked for. Each component that consumes does so in its own
 * consumer group, so several instances share the work and components can be deployed apart.
 *   api         HTTP API: case-event ingress, method reads, time travel, statistics (reads the whole event log)
 *   projection  keeps nyemetoder.method-state.v1 current and dead-letters refused events
 * and the partner adapters it is given. It knows no adapter itself: bin/hub.ts, the composition root, gives it
 * the catalogue (adapters/catalogue.ts) and the case system's door. The HTTP server runs when `api` or an adapter
 * with routes does.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import {
  adapterPrincipal,
  createKafka,
  kafkaAccessRefusal,
  kafkaFromConfig,
  kafkaSecurity,
} from '../bus/kafka.ts';
import { transientCause } from '../bus/errors.ts';
import { instanceName, Leadership } from '../bus/leadership.ts';
import { ContractProducer } from '../bus/producer.ts';
import { ContractRegistry, registryAuthOf } from '../bus/registry.ts';
import { busPolicyOf, runnersInTrouble } from '../bus/runner.ts';
import { withheldRecords } from '../bus/withheld.ts';
import { type Config, ConfigError, loadSettings } from '../config/spec.ts';
import { TokenVerifier } from '../http/auth.ts';
import { DevIssuer } from '../http/devIssuer.ts';
import { methodRoutes } from '../http/methodRoutes.ts';
import { createHubServer } from '../http/server.ts';
import type { MethodStore } from '../lifecycle/methodStore.ts';
import { MethodLog } from '../lifecycle/methodLog.ts';
import { MethodStateProjection } from '../lifecycle/projection.ts';
import { type Logger, loggerFor } from '../log/logger.ts';
import { countFollowUpFrom, FollowUp } from '../followup/followUp.ts';
import { followUpRoutes } from '../http/followUpRoutes.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import { DeadLetterTools } from '../ops/deadLetters.ts';
import { coreFlows, FlowMonitor } from '../ops/flow.ts';
import { opsRoutes } from '../ops/routes.ts';
import { traceMethod } from '../ops/trace.ts';
import type {
  AdapterDefinition,
  CaseEventDoor,
  ComponentHealth,
  HubComponent,
  HubContext,
} from './component.ts';
import { reasonOf, startPatiently } from './patientStart.ts';
import { Topics } from '../../contracts/topics.ts';

export const coreComponents = ['api', 'projection'] as const;
export type ComponentName = string;

/** The parts a hub with these adapters can run: the core's, then the adapters' in start order. */
export const componentNamesOf = (adapters: readonly AdapterDefinition[]): readonly string[] => [
  ...coreComponents,
  ...adapters.map((a) => a.name),
];

/** A line on each part, for `metodehub run --help`. */
export const componentDescriptionsOf = (adapters: readonly AdapterDefinition[]): Record<string, string> => ({
  api: 'HTTP API: case-event ingress, method state, history, time travel, statistics',
  projection: 'keeps nyemetoder.method-state.v1 current; refused events go to the dead-letter topic',
  ...Object.fromEntries(adapters.map((a) => [a.name, a.description])),
});

export interface HubOptions {
  config: Config;
  components?: readonly ComponentName[];
  /** Physical topic names by declared name, when not the declared ones (tests, prefixed deployments). */
  topics?: Record<string, string>;
  /** The environment adapters read their settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** The adapters that may run (bin/hub.ts gives the catalogue; default none); tests pass their own. */
  adapters?: readonly AdapterDefinition[];
  /** The routes case events come in by, mounted with `api` (bin/hub.ts gives the case system's). */
  caseEvents?: CaseEventDoor;
  /** Consumer group prefix (tests run hubs side by side). */
  groupPrefix?: string;
  /** A dev issuer to use instead of the one in DEV_ISSUER_KEY_FILE (tests). */
  devIssuer?: DevIssuer;
  kafka?: Kafka;
  /** What "now" is for alerts and deadlines (default the system clock); tests set it. */
  clock?: Clock;
}

export class UnknownComponentError extends Error {
  override name = 'UnknownComponentError';
}

/** The parts named in `--adapters a,b` (all of `names` when none is given); an unknown name is refused with the choice. */
export function parseComponents(list: string | undefined, names: readonly string[]): ComponentName[] {
  if (!list) return [...names];
  const asked = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = asked.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new UnknownComponentError(
      `unknown adapter(s): ${unknown.join(', ')}; choose from ${names.join(', ')}`,
    );
  }
  return asked;
}

/**
 * The scopes a local dev token carries: the core's and every adapter's `*_SCOPE` setting, except those
 * for confidential material, which a token must be given on purpose.
 */
export function devScopes(
  config: Config,
  adapters: readonly AdapterDefinition[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const scopes = new Set([config.AUTH_READ_SCOPE, config.AUTH_WRITE_SCOPE, config.AUTH_OPS_SCOPE]);
  for (const adapter of adapters) {
    const values = loadSettings(adapter.settings, env) as Record<string, unknown>;
    for (const [name, value] of Object.entries(values))
      if (name.endsWith('_SCOPE') && !name.includes('CONFIDENTIAL') && typeof value === 'string' && value)
        scopes.add(value);
  }
  return [...scopes];
}

export class Hub {
  readonly kafka: Kafka;
  readonly registry: ContractRegistry;
  readonly producer: ContractProducer;
  /** The event log, folded once for every part of this process (read model, door, adapters). */
  readonly methodLog: MethodLog;
  readonly components: readonly ComponentName[];
  readonly eventsTopic: string;
  readonly stateTopic: string;
  /** The API's read model: the method log, when the `api` part runs. */
  follower: MethodLog | undefined;
  projection: MethodStateProjection | undefined;
  server: FastifyInstance | undefined;
  devIssuer: DevIssuer | undefined;
  url: string | undefined;
  flowMonitor: FlowMonitor | undefined;
  /** The running partner adapters, by name. */
  readonly adapters = new Map<string, HubComponent>();
  /** Adapters the broker refused (ACLs): they stay down and say why in health; the rest run. */
  private readonly refused = new Map<string, string>();
  /** Parts whose start failed with Kafka or the registry away and is being tried again, with why. */
  private readonly notStarted = new Map<string, string>();
  private stopping = false;
  private readonly ownProducers = new Map<string, ContractProducer>();
  private readonly principals = new Map<string, string>();
  private readonly log: Logger = loggerFor('hub');
  /** The roles this instance may lead, by role. */
  readonly leaderships = new Map<string, Leadership>();
  /** This hub's name among the instances that share the roles. */
  readonly instance = instanceName();
  readonly clock: Clock;
  followUp: FollowUp | undefined;

  constructor(private readonly options: HubOptions) {
    const { config } = options;
    this.components = options.components ?? componentNamesOf(options.adapters ?? []);
    this.clock = options.clock ?? systemClock;
    this.kafka = options.kafka ?? kafkaFromConfig(config);
    this.registry = new ContractRegistry(config.SCHEMA_REGISTRY_URL, registryAuthOf(config));
    this.producer = new ContractProducer(this.kafka, this.registry, {
      transactionalId: config.INGRESS_TRANSACTIONAL_ID,
    });
    for (const [declared, physical] of Object.entries(options.topics ?? {}))
      if (physical !== declared) this.registry.alias(physical, declared);
    this.eventsTopic = this.topic(Topics.methodEvents);
    this.stateTopic = this.topic(Topics.methodState);
    this.methodLog = new MethodLog(this.kafka, this.registry, this.eventsTopic);
  }

  /** Every method's ledger, as the method log folded it. */
  get store(): MethodStore {
    return this.methodLog.store;
  }

  /** The physical name of a declared topic. */
  topic(declared: string): string {
    return this.options.topics?.[declared] ?? declared;
  }

  /**
   * What every adapter is given. An adapter with its own principal (<ADAPTER>_KAFKA_SASL_USERNAME) gets its own
   * Kafka client and producer, so the broker's ACLs for that principal are what bind it.
   */
  context(adapter?: string): HubContext {
    const env = this.options.env ?? process.env;
    const principal = adapter === undefined ? undefined : adapterPrincipal(adapter, env);
    let kafka = this.kafka;
    let producer = this.producer;
    if (adapter !== undefined && principal !== undefined) {
      const { config } = this.options;
      kafka = createKafka(
        config.KAFKA_BROKERS,
        `${config.KAFKA_CLIENT_ID}-${adapter}`,
        kafkaSecurity(config, principal),
      );
      producer = new ContractProducer(kafka, this.registry, {
        transactionalId: `${this.group(adapter)}.${hostname()}-${process.pid}`,
      });
      this.ownProducers.set(adapter, producer);
      this.principals.set(adapter, principal.username);
    }
    return {
      config: this.options.config,
      env,
      kafka,
      registry: this.registry,
      bus: busPolicyOf(this.options.config),
      producer,
      topic: (declared) => this.topic(declared),
      group: (name) => this.group(name),
      clock: this.clock,
      leadership: (role) => this.leadership(role, kafka, producer),
      methodLog: this.methodLog,
    };
  }

  /** The one Leadership of `role` in this instance: its group is `<prefix>.<role>.leadership`. */
  leadership(role: string, kafka = this.kafka, producer = this.producer): Leadership {
    let known = this.leaderships.get(role);
    if (!known) {
      const { config } = this.options;
      known = new Leadership({
        kafka,
        role,
        groupId: `${this.group(role)}.leadership`,
        instance: this.instance,
        topic: this.topic(Topics.leadership),
        url: () => config.HUB_ADVERTISED_URL || this.url,
        sessionTimeoutMs: config.LEADERSHIP_SESSION_TIMEOUT_MS,
        producer,
      });
      this.leaderships.set(role, known);
    }
    return known;
  }

  private get groupPrefix(): string {
    return this.options.groupPrefix ?? 'metodehub';
  }

  private group(name: string): string {
    return `${this.groupPrefix}.${name}`;
  }

  /** The adapters this hub may run: the catalogue bin/hub.ts gives, or the ones a test gave. */
  private get catalogue(): readonly AdapterDefinition[] {
    return this.options.adapters ?? [];
  }

  async start(): Promise<void> {
    const { config } = this.options;
    // A second hub on a taken port must say so before it joins any consumer group (and takes partitions from the first).
    if (this.components.includes('api') || this.catalogue.some((a) => this.components.includes(a.name)))
      await assertPortFree(config.HUB_HOST, config.HUB_PORT);
    let projectionStarted: Promise<void> = Promise.resolve();
    if (this.components.includes('projection')) {
      this.projection = new MethodStateProjection(this.kafka, this.registry, this.producer, {
        eventsTopic: this.eventsTopic,
        stateTopic: this.stateTopic,
        groupId: this.group('method-state'),
        partitionsConcurrently: config.BUS_PARTITIONS_CONCURRENTLY,
        commitDelayMs: config.BUS_COMMIT_DELAY_MS,
      });
      // Joining its group can wait out a killed predecessor's session (30 s); the door need not wait with it.
      projectionStarted = startPatiently(this.projection, {
        cancelled: () => this.stopping,
        onRetry: this.retrying('projection'),
      }).then((outcome) => {
        this.notStarted.delete('projection');
        if (outcome === 'started') this.log.info('projection started');
      });
      projectionStarted.catch(() => undefined);
    }
    for (const definition of this.catalogue.filter((a) => this.components.includes(a.name))) {
      const adapter = await definition.create(this.context(definition.name));
      this.adapters.set(definition.name, adapter);
    }
    const withRoutes = [...this.adapters.values()].filter((a) => a.routes);
    if (this.components.includes('api') || withRoutes.length > 0) await this.startServer(config, withRoutes);
    for (const [name, adapter] of this.adapters) {
      try {
        await adapter.start();
      } catch (error) {
        if (await this.refuse(name, adapter, error)) continue;
        if (transientCause(error) === null) throw error;
        // Kafka or the registry away: this adapter starts when they are back; the others need not wait for it.
        await adapter.stop().catch(() => undefined);
        this.retrying(name)(1, reasonOf(error), 1_000);
        void this.startLater(name, adapter);
        continue;
      }
      this.log.info({ adapter: name }, 'adapter started');
    }
    await projectionStarted;
  }

  /** Records a failed start that is tried again, for health and the log. */
  private retrying(name: string) {
    return (attempt: number, reason: string, waitMs: number) => {
      this.notStarted.set(
        name,
        `NOT_STARTED: start attempt ${attempt} failed (${reason}); trying again in ${Math.ceil(waitMs / 1000)} s`,
      );
      this.log.warn({ part: name, attempt, err: reason, retryInMs: waitMs }, 'could not start; trying again');
    };
  }

  private refusalOf(name: string, error: unknown): string | undefined {
    return kafkaAccessRefusal(error, this.principals.get(name) ?? this.options.config.KAFKA_SASL_USERNAME);
  }

  /** An adapter refused by the broker (ACLs) stays down and says so; true if that is why its start failed. */
  private async refuse(name: string, adapter: HubComponent, error: unknown): Promise<boolean> {
    const refusal = this.refusalOf(name, error);
    if (refusal === undefined) return false;
    // One adapter without its grants must not keep the others (or the API) from running.
    this.notStarted.delete(name);
    this.refused.set(name, refusal);
    this.log.error({ adapter: name, err: refusal }, 'adapter refused by Kafka; it stays down');
    await adapter.stop().catch(() => undefined);
    return true;
  }

  /** Tries an adapter's start again until Kafka and the registry let it, or the hub stops. */
  private async startLater(name: string, adapter: HubComponent): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
    let attempts = 1;
    try {
      const outcome = await startPatiently(adapter, {
        cancelled: () => this.stopping,
        final: (error) => (this.refusalOf(name, error) === undefined ? undefined : error),
        // It started failing with Kafka or the registry away: whatever it meets now is waited out too, and shown in health.
        retryAll: true,
        onRetry: (attempt, reason, waitMs) => {
          attempts = attempt + 1;
          this.retrying(name)(attempts, reason, waitMs);
        },
        baseMs: 1_000,
      });
      this.notStarted.delete(name);
      if (outcome === 'started') this.log.info({ adapter: name, attempts: attempts + 1 }, 'adapter started');
    } catch (error) {
      await this.refuse(name, adapter, error);
    }
  }

  /** Health of every running adapter, by name. */
  async health(): Promise<Record<string, ComponentHealth>> {
    const answers: Record<string, ComponentHealth> = {};
    if (this.follower) {
      answers.api = this.follower.caughtUp
        ? { ok: true, detail: `taking case events; ${this.store.size} methods in the read model` }
        : { ok: false, detail: 'still reading the event log' };
    }
    const projectionWaiting = this.notStarted.get('projection');
    if (projectionWaiting) answers.projection = { ok: false, detail: projectionWaiting };
    else if (this.projection) answers.projection = this.projection.health();
    const trouble = runnersInTrouble();
    for (const [name, adapter] of this.adapters) {
      const refusal = this.refused.get(name) ?? this.notStarted.get(name);
      if (refusal !== undefined) {
        answers[name] = { ok: false, detail: refusal };
        continue;
      }
      const own = adapter.health ? await adapter.health() : { ok: true, detail: 'running' };
      // A consumer stuck retrying one message is never "ok", whatever the partner check says.
      const stuck = trouble.filter((t) => t.runner === name || t.runner.startsWith(`${name}-`));
      answers[name] =
        stuck.length === 0
          ? own
          : {
              ...own,
              ok: false,
              detail: [
                own.detail,
                ...stuck.map(
                  (t) =>
                    `${t.runner} retrying ${t.topic} partition ${t.partition} offset ${t.offset} since ${t.since} (attempt ${t.attempt}): ${t.reason}`,
                ),
              ].join('; '),
            };
    }
    if (this.leaderships.size > 0) {
      const roles = await Promise.all(
        [...this.leaderships.values()].map(async (l) => ({ role: l.role, ...(await l.health()) })),
      );
      answers.leadership = {
        ok: true, // a takeover under way is not this instance's fault; the forwarded requests say so
        detail: roles.map((r) => `${r.role}: ${r.detail}`).join('; '),
        leaders: Object.fromEntries(roles.map((r) => [r.role, r.leader])),
      };
    }
    const withheld = withheldRecords();
    if (withheld.length > 0 || this.adapters.size > 0) {
      answers.outputs = {
        ok: true, // one record left out never makes the hub unready for everyone else
        detail:
          withheld.length === 0
            ? 'every record rendered'
            : `${withheld.length} record(s) left out: ${withheld
                .slice(0, 5)
                .map((w) => `${w.output} ${w.record} (${w.reason})`)
                .join('; ')}`,
      };
    }
    return answers;
  }

  private async startServer(config: Config, adapters: HubComponent[]): Promise<void> {
    if (this.components.includes('api')) {
      // A predecessor's open transaction would hold every reader at it; fencing ends it before the log is read.
      if (config.INGRESS_TRANSACTIONAL_ID)
        await this.producer
          .reconcile(config.INGRESS_WRITE_TIMEOUT_MS, { force: true })
          .catch((error: Error) =>
            this.log.warn({ err: error.message }, 'could not fence an earlier ingress'),
          );
      this.follower = this.methodLog;
      await startPatiently(this.follower, {
        cancelled: () => this.stopping,
        onRetry: (attempt, reason, waitMs) =>
          this.log.warn(
            { attempt, err: reason, retryInMs: waitMs },
            'could not read the event log; trying again',
          ),
      });
    }
    if (config.AUTH_DEV_ISSUER) {
      this.devIssuer =
        this.options.devIssuer ?? (await DevIssuer.fromFile(resolve(config.DEV_ISSUER_KEY_FILE)));
    }
    const jwks = config.AUTH_JWKS_URL ? new URL(config.AUTH_JWKS_URL) : this.devIssuer?.jwks();
    if (!jwks) {
      throw new Error(
        "AUTH_JWKS_URL is not set: name the issuer's JWKS URL, or set AUTH_DEV_ISSUER=true for a local run",
      );
    }
    const verifier = new TokenVerifier({ jwks, issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE });
    const follower = this.follower;
    const server = await createHubServer({
      config,
      verifier,
      devIssuer: this.devIssuer,
      ready: () => follower?.caughtUp ?? true,
    });
    if (follower) {
      this.followUp = new FollowUp(this.store, this.clock, config);
      countFollowUpFrom(this.followUp);
      await server.register(
        methodRoutes(this.store, config.AUTH_READ_SCOPE, {
          clock: this.clock,
          clockLimitDays: config.ASSESSMENT_CLOCK_DAYS,
        }),
      );
      await server.register(followUpRoutes(this.followUp, config.AUTH_READ_SCOPE));
      if (this.options.caseEvents)
        await server.register(
          this.options.caseEvents({
            store: this.store,
            producer: this.producer,
            log: follower,
            config,
            eventsTopic: this.eventsTopic,
            leadership: this.leadership('case-events'),
          }),
        );
    }
    for (const adapter of adapters) await adapter.routes?.(server);
    this.flowMonitor = new FlowMonitor({
      kafka: this.kafka,
      components: [
        ...coreFlows.filter((c) => this.components.includes(c.name)),
        ...this.catalogue.flatMap((a) =>
          a.flow && this.components.includes(a.name) ? [{ name: a.name, flow: a.flow }] : [],
        ),
      ],
      topic: (declared) => this.topic(declared),
      groupPrefix: this.groupPrefix,
      health: () => this.health(),
      sampleMs: config.OPS_SAMPLE_MS,
    });
    await server.register(
      opsRoutes({
        tools: new DeadLetterTools({
          kafka: this.kafka,
          registry: this.registry,
          producer: this.producer,
          topic: (declared) => this.topic(declared),
        }),
        flow: () => this.flowMonitor!.now(),
        trace: (methodId, view) =>
          traceMethod(methodId, {
            kafka: this.kafka,
            registry: this.registry,
            topic: (declared) => this.topic(declared),
            ...view,
          }),
        kafka: this.kafka,
        registryUrl: config.SCHEMA_REGISTRY_URL,
        registryAuthorization: this.registry.authorization,
        opsScope: config.AUTH_OPS_SCOPE,
        confidentialScope: config.AUTH_CONFIDENTIAL_SCOPE,
        adapters: () => this.health(),
        caughtUp: () => follower?.caughtUp ?? true,
        followUp: this.followUp ? () => this.followUp!.alerts() : undefined,
      }),
    );
    await server.ready();
    this.url = await server.listen({ port: config.HUB_PORT, host: config.HUB_HOST });
    this.server = server;
    // After listening: the group learns this instance's URL when it joins.
    await this.leaderships.get('case-events')?.start();
    this.flowMonitor.start();
    this.log.info({ url: this.url }, 'API listening');
  }

  /** Waits until the read model has folded the whole event log as it was at start and every role has a leader. */
  async waitUntilReady(timeoutMs = 120_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    if (this.follower && !(await this.follower.waitUntilCaughtUp(timeoutMs))) return false;
    // Just after a start the roles' groups are still forming: until each has a leader, its requests get 503 NO_LEADER.
    // Only the roles this instance has joined: an adapter may declare a role it does not run (nothing to lead here).
    const joined = new Set(Leadership.running());
    for (const leadership of [...this.leaderships.values()].filter((l) => joined.has(l))) {
      while (!(await leadership.leader().catch(() => undefined))) {
        if (Date.now() >= until) return false;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    return true;
  }

  /** A token from the dev issuer with the hub's read and write scopes (for local runs and tests). */
  async devToken(scopes?: string[], expiresIn?: string | number): Promise<string> {
    if (!this.devIssuer) throw new Error('the dev issuer is off (AUTH_DEV_ISSUER=false)');
    const { config } = this.options;
    return this.devIssuer.mint({
      scopes: scopes ?? devScopes(config, this.catalogue, this.options.env ?? process.env),
      audience: config.AUTH_AUDIENCE,
      issuer: config.AUTH_ISSUER,
      expiresIn,
    });
  }

  /**
   * Stops every part, each given a bounded time, so a hub whose broker is gone still stops within
   * `budgetMs`; a part that does not stop in time is left to die with the process.
   */
  async stop(budgetMs = 8_000): Promise<void> {
    this.stopping = true;
    const until = Date.now() + budgetMs;
    const step = async (what: string, work: () => Promise<unknown> | undefined) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), Math.max(100, (until - Date.now()) / 2));
      });
      try {
        const outcome = await Promise.race([Promise.resolve(work()), late]);
        if (outcome === 'late') this.log.warn({ part: what }, 'did not stop in time; left behind');
      } catch (error) {
        this.log.error({ part: what, err: error as Error }, 'stop failed');
      } finally {
        clearTimeout(timer);
      }
    };
    await step('flow monitor', () => this.flowMonitor?.stop());
    // Open connections (a client waiting on a hung request) would keep close() waiting.
    await step('http server', () => {
      const server = this.server;
      if (!server) return undefined;
      const closing = server.close();
      server.server.closeIdleConnections?.();
      setTimeout(() => server.server.closeAllConnections?.(), 1_000).unref();
      return closing;
    });
    // Roles first: leaving their groups hands them to another instance (or this one's successor) at once, not a session later.
    await step('leadership', () => Promise.all([...this.leaderships.values()].map((l) => l.stop())));
    for (const [name, adapter] of [...this.adapters].reverse())
      if (!this.refused.has(name)) await step(`adapter ${name}`, () => adapter.stop());
    for (const [name, producer] of this.ownProducers)
      await step(`producer of ${name}`, () => producer.disconnect());
    await step('method log', () => this.methodLog.close());
    await step('projection', () => this.projection?.stop());
    await step('producer', () => this.producer.disconnect());
  }
}

/** Refuses a port another process listens on, in one line a person can act on. */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const { createServer } = await import('node:net');
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              `HUB_PORT_TAKEN: ${host}:${port} is already in use (another hub? \`ss -ltnp 'sport = :${port}'\` shows it); stop it or set HUB_PORT.`,
            )
          : error,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

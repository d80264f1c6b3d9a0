/**
 * The hub: one process running the components asked for. Each component that consumes does so in its own
 * consumer group, so several instances share the work and components can be deployed apart.
 *   api         HTTP API: case-event ingress, method reads, time travel, statistics (reads the whole event log)
 *   projection  keeps nyemetoder.method-state.v1 current and dead-letters refused events
 * Partner adapters join this list as they are built.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { caseEventIngress } from '../../adapters/case-system/inbound.ts';
import { createKafka } from '../bus/kafka.ts';
import { ContractProducer } from '../bus/producer.ts';
import { ContractRegistry } from '../bus/registry.ts';
import { TopicFollower } from '../bus/topicFollower.ts';
import type { Config } from '../config/spec.ts';
import { TokenVerifier } from '../http/auth.ts';
import { DevIssuer } from '../http/devIssuer.ts';
import { methodRoutes } from '../http/methodRoutes.ts';
import { createHubServer } from '../http/server.ts';
import { MethodStore } from '../lifecycle/methodStore.ts';
import { MethodStateProjection } from '../lifecycle/projection.ts';
import { type Logger, loggerFor } from '../log/logger.ts';

export const componentNames = ['api', 'projection'] as const;
export type ComponentName = (typeof componentNames)[number];

export const componentDescriptions: Record<ComponentName, string> = {
  api: 'HTTP API: case-event ingress, method state, history, time travel, statistics',
  projection: 'keeps nyemetoder.method-state.v1 current; refused events go to the dead-letter topic',
};

export interface HubOptions {
  config: Config;
  components?: readonly ComponentName[];
  /** Physical topic names, when not the declared ones (tests, prefixed deployments). */
  topics?: { events?: string; state?: string };
  /** Consumer group prefix (tests run hubs side by side). */
  groupPrefix?: string;
  /** A dev issuer to use instead of the one in DEV_ISSUER_KEY_FILE (tests). */
  devIssuer?: DevIssuer;
  kafka?: Kafka;
}

export class UnknownComponentError extends Error {
  override name = 'UnknownComponentError';
}

export function parseComponents(list: string | undefined): ComponentName[] {
  if (!list) return [...componentNames];
  const asked = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = asked.filter((name) => !componentNames.includes(name as ComponentName));
  if (unknown.length > 0) {
    throw new UnknownComponentError(
      `unknown adapter(s): ${unknown.join(', ')}; choose from ${componentNames.join(', ')}`,
    );
  }
  return asked as ComponentName[];
}

export class Hub {
  readonly kafka: Kafka;
  readonly registry: ContractRegistry;
  readonly producer: ContractProducer;
  readonly store = new MethodStore();
  readonly components: readonly ComponentName[];
  readonly eventsTopic: string;
  readonly stateTopic: string;
  follower: TopicFollower<MethodEvent> | undefined;
  projection: MethodStateProjection | undefined;
  server: FastifyInstance | undefined;
  devIssuer: DevIssuer | undefined;
  url: string | undefined;
  private readonly log: Logger = loggerFor('hub');

  constructor(private readonly options: HubOptions) {
    const { config } = options;
    this.components = options.components ?? componentNames;
    this.kafka = options.kafka ?? createKafka(config.KAFKA_BROKERS, config.KAFKA_CLIENT_ID);
    this.registry = new ContractRegistry(config.SCHEMA_REGISTRY_URL);
    this.producer = new ContractProducer(this.kafka, this.registry);
    this.eventsTopic = options.topics?.events ?? 'nyemetoder.method-events.v1';
    this.stateTopic = options.topics?.state ?? 'nyemetoder.method-state.v1';
    if (this.eventsTopic !== 'nyemetoder.method-events.v1')
      this.registry.alias(this.eventsTopic, 'nyemetoder.method-events.v1');
    if (this.stateTopic !== 'nyemetoder.method-state.v1')
      this.registry.alias(this.stateTopic, 'nyemetoder.method-state.v1');
  }

  private group(name: string): string {
    return `${this.options.groupPrefix ?? 'metodehub'}.${name}`;
  }

  async start(): Promise<void> {
    const { config } = this.options;
    if (this.components.includes('projection')) {
      this.projection = new MethodStateProjection(this.kafka, this.registry, this.producer, {
        eventsTopic: this.eventsTopic,
        stateTopic: this.stateTopic,
        groupId: this.group('method-state'),
      });
      await this.projection.start();
      this.log.info('projection started');
    }
    if (this.components.includes('api')) await this.startApi(config);
  }

  private async startApi(config: Config): Promise<void> {
    this.follower = new TopicFollower<MethodEvent>(this.kafka, this.registry, {
      name: 'read-model',
      topic: this.eventsTopic,
      onMessage: (event, position) => this.store.offer(event, position),
    });
    await this.follower.start();
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
      ready: () => follower.caughtUp,
    });
    await server.register(methodRoutes(this.store, config.AUTH_READ_SCOPE));
    await server.register(
      caseEventIngress({ store: this.store, producer: this.producer, config, eventsTopic: this.eventsTopic }),
    );
    await server.ready();
    this.url = await server.listen({ port: config.HUB_PORT, host: config.HUB_HOST });
    this.server = server;
    this.log.info({ url: this.url }, 'API listening');
  }

  /** Waits until the read model has folded the whole event log as it was at start. */
  async waitUntilReady(timeoutMs = 120_000): Promise<boolean> {
    return this.follower ? this.follower.waitUntilCaughtUp(timeoutMs) : true;
  }

  /** A token from the dev issuer with the hub's read and write scopes (for local runs and tests). */
  async devToken(scopes?: string[], expiresIn?: string | number): Promise<string> {
    if (!this.devIssuer) throw new Error('the dev issuer is off (AUTH_DEV_ISSUER=false)');
    const { config } = this.options;
    return this.devIssuer.mint({
      scopes: scopes ?? [config.AUTH_READ_SCOPE, config.AUTH_WRITE_SCOPE],
      audience: config.AUTH_AUDIENCE,
      issuer: config.AUTH_ISSUER,
      expiresIn,
    });
  }

  async stop(): Promise<void> {
    await this.server?.close();
    await this.follower?.stop();
    await this.projection?.stop();
    await this.producer.disconnect();
  }
}

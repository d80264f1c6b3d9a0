/**
 * What a partner adapter gives the hub, and what the hub gives it. Each adapter folder exports one
 * `AdapterDefinition` (name, description, settings, factory); `adapters/catalogue.ts` lists them, and
 * `metodehub run --adapters a,b` starts the chosen ones. An adapter depends on this and on `core/`, never
 * on another adapter.
 */
import type { FastifyInstance } from 'fastify';
import type { DeclaredTopic } from '../../contracts/topics.ts';
import type { Kafka } from 'kafkajs';
import type { Leadership } from '../bus/leadership.ts';
import type { ContractProducer } from '../bus/producer.ts';
import type { BusPolicy } from '../bus/runner.ts';
import type { ContractRegistry } from '../bus/registry.ts';
import type { Config, Setting } from '../config/spec.ts';
import type { MethodLog } from '../lifecycle/methodLog.ts';
import type { MethodStore } from '../lifecycle/methodStore.ts';
import type { Clock } from '../time/clock.ts';

export interface HubContext {
  /** The core settings (Kafka, registry, HTTP, auth). */
  config: Config;
  /** The environment, for the adapter to read its own settings with `loadSettings`. */
  env: NodeJS.ProcessEnv;
  kafka: Kafka;
  registry: ContractRegistry;
  /** The BUS_* settings every consumer runner is given (`bus` in its options). */
  bus: BusPolicy;
  /** The hub's shared contract producer (idempotent, acks=all). */
  producer: ContractProducer;
  /** The physical name of a declared topic: tests and prefixed deployments rename topics. */
  topic(declared: DeclaredTopic): string;
  /** This hub's consumer group id for a named consumer: one group per adapter role. */
  group(name: string): string;
  /** The hub's clock: what "now" is for alerts and deadlines (tests set it). */
  clock: Clock;
  /** Who of the hub instances runs `role`, work that must run once at a time (core/bus/leadership.ts); started by the caller. */
  leadership(role: string): Leadership;
  /**
   * The event log folded once for the whole process (core/lifecycle/methodLog.ts): its store for method state, and
   * `subscribe` for each event as it is folded. An adapter reads method events through it, never by a follower of its own.
   */
  methodLog: MethodLog;
}

export interface ComponentHealth {
  /** Whether the component and the partner it talks to work now. */
  ok: boolean;
  /** One line a person can act on: what is reachable, what is not, backlog. */
  detail: string;
  /** The partner client's circuit breaker, where it has one. */
  circuit?: 'closed' | 'open' | 'half-open';
  /** Which instance leads each role that runs once at a time (null: none now), on the `leadership` entry. */
  leaders?: Record<string, string | null>;
}

export interface HubComponent {
  /** Registers the component's HTTP routes on the hub's server, before it listens. */
  routes?(app: FastifyInstance): Promise<void> | void;
  /**
   * Starts consuming, polling, pushing; resolves once running. If it throws with Kafka or the registry away, the hub calls `stop` and
   * then `start` again, so a start must leave nothing behind that a second start would duplicate.
   */
  start(): Promise<void>;
  /** Stops cleanly: commits what it handled, closes clients. */
  stop(): Promise<void>;
  /** For /ready and the operations view. */
  health?(): Promise<ComponentHealth> | ComponentHealth;
}

/**
 * Where a component sits in the message flow, declared once: contracts/topics.ts, the AsyncAPI document, the Kafka
 * ACLs and the operations dashboard follow it, and a test compares it with the groups a running hub joins.
 */
export interface AdapterFlow {
  /** Declared topics it reads: followed or consumed, and those it only reads whole when it needs them (`restores`). */
  consumes: DeclaredTopic[];
  /** Of `consumes`, the compacted topics it reads whole (at start, on demand) and does not follow. */
  restores?: DeclaredTopic[];
  /** Of `consumes`, what it reads through the hub's one fold of the event log (`HubContext.methodLog`), not by a reader of its own. */
  throughHub?: DeclaredTopic[];
  /** Declared topics it writes. */
  produces: DeclaredTopic[];
  /** The partner it talks to, as operators call it (SLV, Helsedirektoratet, ...). */
  partner: string;
  /** What crosses the partner edge: the topics whose messages it sends to or brings from the partner. */
  carries?: DeclaredTopic[];
  /** Which way data goes between adapter and partner. */
  direction: 'to-partner' | 'from-partner' | 'both';
  /** Roles it runs once at a time across instances (core/bus/leadership.ts): its groups on metodehub.leadership.v1. */
  leads?: string[];
}

export interface AdapterDefinition {
  /** The name used with `--adapters`: slv, fest, hdir, financing, eu-jca. */
  name: string;
  /** One line for `metodehub run --help`. */
  description: string;
  /** The adapter's own settings, declared once; read with `loadSettings(settings, context.env)`. */
  settings: Record<string, Setting<unknown>>;
  /** Its place in the flow; consumer groups whose name starts with `<name>` count as its lag. */
  flow?: AdapterFlow;
  create(context: HubContext): HubComponent | Promise<HubComponent>;
}

/** How far the read model has read the event log (the hub's TopicFollower). */
export interface EventLogReader {
  /** Whether everything in the log when the hub started is folded. */
  readonly caughtUp: boolean;
  /** Reads on to the log's end now; false if Kafka does not answer or the read does not get there in time. */
  reachEnd(timeoutMs: number): Promise<boolean>;
}

/** What the hub's `api` part gives the door case events come in by. */
export interface CaseEventDoorOptions {
  store: MethodStore;
  producer: ContractProducer;
  log: EventLogReader;
  config: Config;
  /** Physical topic to write to (the declared one unless a test or a prefixed deployment says otherwise). */
  eventsTopic?: string;
  /** The `case-events` role: when given, only its leader judges and the other instances forward to it. */
  leadership?: Leadership;
}

/** The case system's inbound adapter (adapters/case-system): the routes that take case events, as a fastify plugin. */
export type CaseEventDoor = (options: CaseEventDoorOptions) => (app: FastifyInstance) => Promise<void>;

/**
 * The SLV adapter: SLV (Statens legemiddelverk, the Norwegian Medicines Agency) and its case platform on
 * Dynamics 365, both ways. Outbound writes assignments, status changes and notes to SLV; inbound reads
 * SLV's changes into `slv.case-updates.v1` and from there into method events; `GET
 * /slv/v1/methods/{id}/exchanges` shows what was exchanged, with its change log.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { SlvCaseUpdate } from '../../contracts/generated/types.ts';
import type { Leadership } from '../../core/bus/leadership.ts';
import { StateStore } from '../../core/bus/stateStore.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { ConfigError, loadSettings } from '../../core/config/spec.ts';
import type {
  AdapterDefinition,
  ComponentHealth,
  HubComponent,
  HubContext,
} from '../../core/hub/component.ts';
import { problemSchema, sendProblem } from '../../core/http/problem.ts';
import { arrayOf, json, nullable, object, text } from '../../core/http/responses.ts';
import { methodIdError } from '../../core/lifecycle/identifiers.ts';
import { loggerFor } from '../../core/log/logger.ts';
import type { MethodLogReader } from '../../core/lifecycle/methodLog.ts';
import type { MethodStore } from '../../core/lifecycle/methodStore.ts';
import { SlvClient } from './client.ts';
import { ExchangeLog } from './exchanges.ts';
import { SlvCaseUpdateMapper, SlvChangePoller } from './inbound.ts';
import { InboundStateStore, sameEntry } from './inboundState.ts';
import { slvWorkFor } from './mapping.ts';
import { SlvOutbound } from './outbound.ts';
import { type SlvSettings, slvSettings } from './settings.ts';
import { Topics } from '../../contracts/topics.ts';

const exchangesAnswer = object({
  methodId: text,
  status: nullable(text),
  slvTrack: nullable(text),
  exchanges: arrayOf(
    object(
      {
        direction: { type: 'string', enum: ['to-slv', 'from-slv'] },
        at: text,
        id: text,
        what: { ...text, description: "The method event type, or DMP's change kind" },
        values: {
          type: 'object',
          additionalProperties: nullable(text),
          description: 'The values sent or read',
        },
        changes: arrayOf(object({ field: text, from: nullable(text), to: nullable(text) })),
        delivery: { type: 'string', enum: ['pending', 'delivered', 'confirmed', 'dead-lettered'] },
        deliveredAt: text,
        outcome: { ...text, description: 'From DMP: the method event it became, or why none' },
      },
      { required: ['direction', 'at', 'id', 'what', 'values', 'changes'] },
    ),
  ),
});

export class SlvAdapter implements HubComponent {
  readonly settings: SlvSettings;
  readonly client: SlvClient;
  /** Method state as the fold feeding `events` has it. */
  readonly store: MethodStore;
  readonly exchanges = new ExchangeLog();
  /** The method log, read through the hub's one fold: each applied event that concerns DMP becomes an exchange. */
  readonly events: MethodLogReader;
  readonly updates: TopicFollower<SlvCaseUpdate>;
  readonly outbound: SlvOutbound;
  readonly poller: SlvChangePoller;
  /** The poller's delta link, case snapshots and writes in flight, on `slv.inbound-state.v1`. */
  readonly inboundState: InboundStateStore;
  readonly mapper: SlvCaseUpdateMapper;
  /** Everything that talks to DMP runs on one instance at a time: the poller and the writer share what they read and wrote. */
  readonly leadership: Leadership;
  private readonly readScope: string;
  private readonly eventsTopic: string;
  private readonly outboundGroup: string;

  constructor(private readonly context: HubContext) {
    this.settings = loadSettings(slvSettings, context.env);
    const missing = (['SLV_URL', 'SLV_TOKEN_URL', 'SLV_CLIENT_SECRET'] as const).filter(
      (name) => !this.settings[name],
    );
    if (missing.length > 0) {
      throw new ConfigError(
        `the slv adapter needs ${missing.join(', ')}: SLV's organisation URL, its token endpoint and the hub's client secret there`,
      );
    }
    this.readScope = context.config.AUTH_READ_SCOPE;
    const eventsTopic = context.topic(Topics.methodEvents);
    this.eventsTopic = eventsTopic;
    this.outboundGroup = context.group('slv-outbound');
    const caseUpdatesTopic = context.topic(Topics.slvCaseUpdates);
    this.client = new SlvClient(this.settings);
    this.events = context.methodLog.subscribe('slv-read-model', ({ event, position, before, verdict }) => {
      if (verdict.outcome !== 'applied') return;
      const work = slvWorkFor(event, before, verdict.state);
      if (work) this.exchanges.recordOutbound(event, work, position);
    });
    this.store = this.events.store;
    this.updates = new TopicFollower<SlvCaseUpdate>(context.kafka, context.registry, {
      name: 'slv-exchanges',
      topic: caseUpdatesTopic,
      onMessage: (update) => this.exchanges.recordInbound(update),
    });
    const retry = {
      retryBaseMs: this.settings.SLV_RETRY_BASE_MS,
      retryMaxMs: this.settings.SLV_RETRY_MAX_MS,
    };
    this.inboundState = new InboundStateStore(
      new StateStore(context.kafka, context.registry, context.producer, {
        declared: Topics.slvInboundState,
        topic: context.topic(Topics.slvInboundState),
        same: sameEntry,
      }),
      this.settings.SLV_STATE_IMPORT_DIR ? resolve(this.settings.SLV_STATE_IMPORT_DIR) : undefined,
    );
    this.poller = new SlvChangePoller(this.client, context.producer, this.inboundState, {
      caseUpdatesTopic,
      intervalMs: this.settings.SLV_POLL_INTERVAL_MS,
    });
    this.outbound = new SlvOutbound(
      context.kafka,
      context.registry,
      context.producer,
      this.client,
      this.store,
      this.exchanges,
      this.poller,
      {
        eventsTopic,
        groupId: this.outboundGroup,
        bus: context.bus,
        ...retry,
      },
    );
    // A write the runner gives up on leaves the backlog and says why, so health and history agree with what was sent.
    this.outbound.runner.onDeadLetter(({ partition, offset, errorClass, reason }) =>
      this.exchanges.markDeadLetteredAt({ partition, offset }, `${errorClass}: ${reason}`),
    );
    this.mapper = new SlvCaseUpdateMapper(
      context.kafka,
      context.registry,
      context.producer,
      this.store,
      this.exchanges,
      {
        caseUpdatesTopic,
        eventsTopic,
        groupId: context.group('slv-inbound'),
        bus: context.bus,
        ...retry,
      },
    );
    this.leadership = context
      .leadership('slv')
      .onGain(async () => {
        // The state the last leader saved (delta link, own writes) is read again from Kafka before the first poll;
        // the writer's group may wait out the dead leader's session, so the poller does not wait for it.
        await this.poller.start();
        await this.outbound.start();
      })
      .onLose(async () => {
        await this.poller.stop();
        await this.outbound.stop();
      });
  }

  routes(app: FastifyInstance): void {
    app.get<{ Params: { methodId: string } }>(
      '/slv/v1/methods/:methodId/exchanges',
      {
        onRequest: app.requireScope(this.readScope),
        schema: {
          operationId: 'listSlvExchanges',
          summary:
            'What was exchanged with DMP (formerly SLV) for one method, with the change log of texts and statuses',
          tags: ['DMP (formerly SLV)'],
          security: [{ bearer: [this.readScope] }],
          params: { type: 'object', properties: { methodId: { type: 'string' } }, required: ['methodId'] },
          response: {
            200: json('Every exchange, oldest first', exchangesAnswer),
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { methodId } = request.params;
        const invalid = methodIdError(methodId);
        if (invalid) return sendProblem(reply, 400, invalid.code, invalid.reason);
        const exchanges = this.exchanges.exchangesOf(methodId);
        if (exchanges.length === 0 && !this.store.ledger(methodId)) {
          return sendProblem(reply, 404, 'UNKNOWN_METHOD', `no method ${methodId} is known to the hub`);
        }
        const state = this.store.ledger(methodId)?.current;
        return reply.send({
          methodId,
          status: state?.status ?? null,
          slvTrack: state?.assignment?.slvTrack ?? null,
          exchanges,
        });
      },
    );
  }

  async start(): Promise<void> {
    await this.events.start();
    await this.updates.start();
    await this.events.waitUntilCaughtUp(120_000);
    await this.updates.waitUntilCaughtUp(120_000);
    this.exchanges.markDeliveredBefore(await this.committedOutboundOffsets());
    await this.mapper.start();
    await this.leadership.start();
    await this.leadership.settled();
  }

  /** Where the outbound consumer group stands in the events topic: everything before was written to SLV. */
  private async committedOutboundOffsets(): Promise<Map<number, bigint>> {
    const admin = this.context.kafka.admin();
    await admin.connect();
    try {
      const [topic] = await admin.fetchOffsets({ groupId: this.outboundGroup, topics: [this.eventsTopic] });
      return new Map(
        (topic?.partitions ?? [])
          .filter((p) => Number(p.offset) >= 0)
          .map((p) => [p.partition, BigInt(p.offset)]),
      );
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.leadership.stop();
    await this.mapper.stop();
    await this.updates.stop();
    await this.events.stop();
  }

  health(): ComponentHealth {
    const circuit = this.client.circuit;
    const backlog = this.exchanges.pending;
    const poll = this.poller.lastPoll;
    const ok = circuit === 'closed' && (poll?.ok ?? true);
    const parts = [
      this.leadership.describe(),
      `circuit ${circuit}`,
      `${backlog} write(s) to SLV waiting`,
      poll
        ? `last read of SLV changes ${poll.at}: ${poll.ok ? 'ok' : 'failed'} (${poll.detail})`
        : 'SLV changes not read yet',
    ];
    if (this.client.lastProblem) parts.push(`last problem: ${this.client.lastProblem}`);
    return { ok, detail: parts.join('; '), circuit };
  }
}

/** What is missing for the adapter to reach SLV, as one line a person can act on; undefined when nothing. */
function missingSettings(settings: SlvSettings): string | undefined {
  const missing = (['SLV_URL', 'SLV_TOKEN_URL', 'SLV_CLIENT_SECRET'] as const).filter(
    (name) => !settings[name],
  );
  return missing.length > 0
    ? `the slv adapter needs ${missing.join(', ')}: SLV's organisation URL, its token endpoint and the hub's client secret there`
    : undefined;
}

/**
 * Without SLV's address and credentials the adapter idles and says why in its health, so a hub started
 * with every adapter (`npm start`) runs; nothing is consumed, so nothing is lost until it is configured.
 */
function unconfigured(reason: string): HubComponent {
  const log = loggerFor('slv');
  return {
    start: async () => {
      log.warn({ reason }, 'DMP (formerly SLV) adapter idle: not configured');
    },
    stop: async () => undefined,
    health: () => ({ ok: false, detail: `not configured: ${reason}` }),
  };
}

export const slvAdapter: AdapterDefinition = {
  name: 'slv',
  description:
    "DMP's (formerly SLV's) case platform (Dynamics 365), both ways: assignments and notes out, DMP's changes in",
  settings: slvSettings,
  flow: {
    consumes: [Topics.methodEvents, Topics.slvCaseUpdates, Topics.slvInboundState, Topics.leadership],
    throughHub: [Topics.methodEvents],
    restores: [Topics.slvInboundState],
    produces: [Topics.slvCaseUpdates, Topics.methodEvents, Topics.slvInboundState, Topics.leadership],
    partner: 'DMP, formerly SLV (Dynamics 365)',
    direction: 'both',
    carries: [Topics.methodEvents, Topics.slvCaseUpdates],
    leads: ['slv'],
  },
  create: (context) => {
    const unset = missingSettings(loadSettings(slvSettings, context.env));
    return unset ? unconfigured(unset) : new SlvAdapter(context);
  },
};

/**
 * fest: Nye metoder status as FEST conditions for prescribing-support vendors. Derives a condition per
 * medicine method from method state, publishes it to `fest.vilkar.v1`, serves full and incremental FEST
 * XML extracts and pushes deltas to vendors' webhooks.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Leadership } from '../../core/bus/leadership.ts';
import { StateStore } from '../../core/bus/stateStore.ts';
import { loadSettings } from '../../core/config/spec.ts';
import { forwardToLeader } from '../../core/http/leaderForward.ts';
import { UrlGuard } from '../../core/http/urlGuard.ts';
import type { AdapterDefinition, HubComponent, HubContext } from '../../core/hub/component.ts';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { VilkarCatalogue } from './catalogue.ts';
import { type ConditionLinks, linkConditions } from './links.ts';
import { VilkarPublisher } from './publisher.ts';
import { WebhookPusher } from './push.ts';
import { festRoutes } from './routes.ts';
import { type FestSettings, festSettings } from './settings.ts';
import { FestSourceExtract, type LoadedSource } from './source.ts';
import { VendorWebhooks } from './vendors.ts';
import { Topics } from '../../contracts/topics.ts';

export class FestAdapter implements HubComponent {
  readonly catalogue = new VilkarCatalogue();
  readonly publisher: VilkarPublisher;
  readonly webhooks: VendorWebhooks;
  readonly pusher: WebhookPusher;
  /** Vendors' webhook URLs: checked at registration and before every POST. */
  readonly urlGuard: UrlGuard;
  /** The FEST full extract our conditions are linked to and merged into. */
  readonly source: FestSourceExtract;
  /** The publisher's writes and the push loops run on one instance at a time; webhook routes are answered by it. */
  readonly leadership: Leadership;
  private readonly settings: FestSettings;
  private readonly opsScope: string;
  private readonly retryAfterSeconds: number;
  private readonly forwardBudgetMs: number;
  private linkCache:
    | { version: number; generation: number; conditions: FestVilkar[]; links: ConditionLinks }
    | undefined;

  constructor(context: HubContext) {
    this.settings = loadSettings(festSettings, context.env);
    this.opsScope = context.config.AUTH_OPS_SCOPE;
    this.urlGuard = new UrlGuard({
      allowHttp: context.config.OUTBOUND_ALLOW_HTTP,
      allowedHosts: context.config.OUTBOUND_ALLOWED_HOSTS,
    });
    const render = { codeSetOid: this.settings.FEST_CODE_SET_OID };
    this.publisher = new VilkarPublisher(context, this.catalogue, {
      linkBase: this.settings.FEST_METHOD_LINK_BASE,
    });
    this.source = new FestSourceExtract({
      location: this.settings.FEST_SOURCE_EXTRACT,
      dir: this.settings.FEST_SOURCE_DIR,
      reloadMs: this.settings.FEST_SOURCE_RELOAD_MS,
      urlGuard: this.urlGuard,
    });
    this.webhooks = new VendorWebhooks(
      new StateStore(context.kafka, context.registry, context.producer, {
        declared: Topics.festVendorWebhooks,
        topic: context.topic(Topics.festVendorWebhooks),
      }),
      this.settings.FEST_SECRET_KEY,
      this.settings.FEST_STATE_IMPORT_FILE ? resolve(this.settings.FEST_STATE_IMPORT_FILE) : undefined,
    );
    this.pusher = new WebhookPusher(
      this.webhooks,
      this.catalogue,
      {
        ...render,
        batchSize: this.settings.FEST_PUSH_BATCH,
        retryBaseMs: this.settings.FEST_PUSH_RETRY_BASE_MS,
        retryMaxMs: this.settings.FEST_PUSH_RETRY_MAX_MS,
        timeoutMs: this.settings.FEST_PUSH_TIMEOUT_MS,
      },
      this.urlGuard,
    );
    this.retryAfterSeconds = context.config.INGRESS_RETRY_AFTER_SECONDS;
    this.forwardBudgetMs = context.config.INGRESS_WRITE_TIMEOUT_MS;
    this.leadership = context
      .leadership('fest')
      .onGain(
        async () => {
          // Cursors and registrations as the last leader left them, and every version it published, before going on.
          // Each step may run again after a failure (Kafka away): the gain is tried until it succeeds or is lost.
          await this.webhooks.load();
          await this.publisher.lead();
          this.pusher.start();
        },
        { retry: true },
      )
      .onLose(async () => {
        await this.pusher.stop();
        await this.publisher.standBy();
      });
  }

  async routes(app: FastifyInstance): Promise<void> {
    await app.register(
      festRoutes({
        catalogue: this.catalogue,
        webhooks: this.webhooks,
        pusher: this.pusher,
        urlGuard: this.urlGuard,
        vendorScope: this.settings.FEST_VENDOR_SCOPE,
        codeSetOid: this.settings.FEST_CODE_SET_OID,
        ready: () => this.publisher.caughtUp,
        source: this.source,
        linked: () => this.linked(),
        opsScope: this.opsScope,
        leader: forwardToLeader(this.leadership, {
          budgetMs: this.forwardBudgetMs,
          retryAfterSeconds: this.retryAfterSeconds,
        }),
      }),
    );
  }

  /** Conditions in force linked to the loaded source's products, computed again only when either changed. */
  linked(): { conditions: FestVilkar[]; links: ConditionLinks; source: LoadedSource } | undefined {
    const source = this.source.current;
    if (!source) return undefined;
    const { version } = this.catalogue;
    const generation = this.source.generation;
    if (this.linkCache?.version !== version || this.linkCache.generation !== generation) {
      const conditions = this.catalogue.active();
      this.linkCache = {
        version,
        generation,
        conditions,
        links: linkConditions(source.index.products, conditions),
      };
    }
    return { conditions: this.linkCache.conditions, links: this.linkCache.links, source };
  }

  async start(): Promise<void> {
    this.source.start();
    await this.webhooks.load();
    this.publisher.hold();
    await this.publisher.start();
    await this.leadership.start();
    await this.leadership.settled();
    if (!this.leadership.isLeader) await this.publisher.standBy();
  }

  async stop(): Promise<void> {
    this.source.stop();
    const leading = this.leadership.isLeader;
    await this.leadership.stop();
    await this.publisher.stop();
    // Only the leader's cursors are current; a stand-by's copy would move them back.
    if (leading) await this.webhooks.save();
  }

  health() {
    const failing = this.webhooks.all().filter((w) => w.failures > 0);
    const ok = this.publisher.caughtUp && !this.publisher.lastError && this.publisher.refused === 0;
    return {
      ok,
      detail:
        `${this.leadership.describe()}, catalogue version ${this.catalogue.version}, ${this.catalogue.size} conditions` +
        `${this.publisher.caughtUp ? '' : ', still restoring'}` +
        `${this.publisher.lastError ? `, publishing fails: ${this.publisher.lastError}` : ''}` +
        `${this.publisher.refused > 0 ? `, ${this.publisher.refused} condition(s) refused by the trust-boundary guard (see the log)` : ''}` +
        `, ${this.webhooks.all().length} webhook(s)` +
        `, ${this.source.describe()}` +
        `${failing.length > 0 ? `, failing: ${failing.map((w) => `${w.vendor} (${w.lastError})`).join('; ')}` : ''}`,
    };
  }
}

export const festAdapter: AdapterDefinition = {
  name: 'fest',
  description: 'Nye metoder status as FEST conditions: fest.vilkar.v1, XML extracts and vendor webhooks',
  settings: festSettings,
  flow: {
    consumes: [Topics.methodState, Topics.festVilkar, Topics.festVendorWebhooks, Topics.leadership],
    restores: [Topics.festVendorWebhooks],
    produces: [Topics.festVilkar, Topics.festVendorWebhooks, Topics.leadership],
    partner: 'prescribing-support vendors',
    direction: 'to-partner',
    carries: [Topics.festVilkar],
    leads: ['fest'],
  },
  create: (context) => new FestAdapter(context),
};

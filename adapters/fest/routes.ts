/**
 * The vendors' HTTP face on the hub server: the full and incremental extracts (ETag, gzip, streamed),
 * which substances and ATC codes each condition applies to, and each vendor's own webhook.
 */
import { createGzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { problemSchema, sendProblem } from '../../core/http/problem.ts';
import { empty, integer, json, media, nullable, object, text } from '../../core/http/responses.ts';
import type { UrlGuard } from '../../core/http/urlGuard.ts';
import type { VilkarCatalogue } from './catalogue.ts';
import type { ConditionLinks } from './links.ts';
import { mergedFestStream } from './merge.ts';
import type { FestSourceExtract, LoadedSource } from './source.ts';
import type { WebhookPusher } from './push.ts';
import type { VendorWebhook, VendorWebhooks } from './vendors.ts';
import { festDocumentStream, osloDateTime, parseFestInstant, type RenderOptions } from './xml.ts';

export interface RouteOptions extends RenderOptions {
  catalogue: VilkarCatalogue;
  webhooks: VendorWebhooks;
  pusher: WebhookPusher;
  urlGuard: UrlGuard;
  vendorScope: string;
  ready: () => boolean;
  /** The source extract; without one GET /fest/v1/fest answers 503 and there is no reload route. */
  source?: FestSourceExtract;
  /** Conditions in force and their links to the loaded source's products, from one snapshot of the catalogue. */
  linked?: () => { conditions: FestVilkar[]; links: ConditionLinks; source: LoadedSource } | undefined;
  /** Scope of the operator route that reloads the source extract. */
  opsScope?: string;
  /** Sends webhook requests to the instance that leads the `fest` role (it holds the webhooks and pushes). */
  leader?: preHandlerAsyncHookHandler;
}

const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  502: problemSchema,
  503: problemSchema,
};

const etagOf = (version: number, since: number | undefined) =>
  `W/"fest-vilkar-${version}${since === undefined ? '' : `-since-${since}`}"`;

/** A vendor's clock may run a little ahead of ours. */
const SINCE_SKEW_MS = 60_000;

/** Whether an If-None-Match header names this ETag (weak comparison, lists and `*` allowed). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

const webhookView = (w: VendorWebhook, catalogueVersion: number) => ({
  vendor: w.vendor,
  url: w.url,
  cursor: w.cursor,
  behind: Math.max(0, catalogueVersion - w.cursor),
  registeredAt: w.registeredAt,
  lastDeliveredAt: w.lastDeliveredAt,
  failures: w.failures,
  lastError: w.lastError,
});

const webhookSchema = object({
  vendor: text,
  url: text,
  cursor: { ...integer, description: 'The catalogue version pushed so far' },
  behind: { ...integer, description: 'Catalogue versions not yet pushed' },
  registeredAt: text,
  lastDeliveredAt: nullable(text),
  failures: integer,
  lastError: nullable(text),
});
const festXml = (description: string) => media(description, 'application/xml');
const unchanged = empty('Unchanged since the ETag sent in If-None-Match');

export function festRoutes(options: RouteOptions) {
  const { catalogue, webhooks, pusher } = options;
  return async (app: FastifyInstance) => {
    const auth = app.requireScope(options.vendorScope);
    const security = [{ bearer: [options.vendorScope] }];
    const notReady = (reply: FastifyReply) =>
      sendProblem(
        reply,
        503,
        'CATALOGUE_NOT_READY',
        'the condition catalogue is still being restored from Kafka; try again in a few seconds',
      );

    app.get<{
      Querystring: { since?: string };
      Headers: { 'if-none-match'?: string; 'accept-encoding'?: string };
    }>(
      '/fest/v1/vilkar',
      {
        onRequest: auth,
        schema: {
          operationId: 'getFestConditions',
          summary:
            'Nye metoder conditions as FEST XML: the full extract, or with ?since=<time> what changed since then',
          description:
            'Full extract: the active entry of every condition in force. Incremental (?since=<time>, e.g. the ' +
            'HentetDato of the last extract, 2026-05-01T10:15:00 in Oslo time, or an ISO instant with Z or an ' +
            'offset): every entry that changed at or after that time: entries that ended (a change or a ' +
            'withdrawal) with Status U carrying only Id, Tidspunkt and Status, then each new active entry. ' +
            'Send the ETag back in If-None-Match for a 304 when nothing changed. Gzip when asked for.',
          tags: ['fest'],
          security,
          querystring: {
            type: 'object',
            properties: { since: { type: 'string' } },
            additionalProperties: false,
          },
          response: {
            200: festXml('FEST XML: KatVilkar with the entries asked for (gzip when asked for)'),
            304: unchanged,
            ...problems,
          },
        },
      },
      async (request, reply) => {
        if (!options.ready()) return notReady(reply);
        const raw = request.query.since;
        const since = raw === undefined ? undefined : parseFestInstant(raw);
        if (raw !== undefined && since === undefined) {
          return sendProblem(
            reply,
            400,
            'INVALID_SINCE',
            `since=${raw} is not a time: give the HentetDato of your last extract (2026-05-01T10:15:00, Oslo time) or an ISO instant with Z or an offset`,
          );
        }
        const now = Date.now();
        if (since !== undefined && since > now + SINCE_SKEW_MS) {
          return sendProblem(
            reply,
            400,
            'SINCE_AHEAD',
            `since=${raw} is in the future (now ${osloDateTime(now)} Oslo time); use the HentetDato of your last extract`,
          );
        }
        const version = catalogue.version;
        const etag = etagOf(version, since);
        reply
          .header('etag', etag)
          .header('cache-control', 'no-cache')
          .header('vary', 'accept-encoding')
          .header('x-fest-catalogue-version', String(version));
        if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
        const entries = since === undefined ? catalogue.active() : catalogue.changedSince(since);
        reply.header('x-fest-count', String(entries.length)).type('application/xml; charset=utf-8');
        const document = festDocumentStream(entries, catalogue.completeTo(now), options, {
          endedSince: since,
        });
        if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
          reply.header('content-encoding', 'gzip');
          return reply.send(document.pipe(createGzip()));
        }
        return reply.send(document);
      },
    );

    app.get<{ Headers: { 'if-none-match'?: string; 'accept-encoding'?: string } }>(
      '/fest/v1/fest',
      {
        onRequest: auth,
        schema: {
          operationId: 'getMergedFestExtract',
          summary:
            'The FEST source extract (FEST_SOURCE_EXTRACT) with our conditions merged in: OppfVilkar in KatVilkar, RefVilkar on every linked product',
          description:
            'The source document unchanged except for our OppfVilkar entries (conditions in force) appended to its KatVilkar ' +
            '(created at its schema position when absent) and a RefVilkar, after LegemiddelformKort and any RefVilkar already ' +
            'there, on every LegemiddelMerkevare, LegemiddelVirkestoff and Legemiddelpakning whose level-5 ATC code (or, without ' +
            'one, substance) matches a condition. Valid against the official strict FEST 2.5.1 schema. Streamed; ETag from the ' +
            'catalogue version and the source digest, If-None-Match for a 304; gzip when asked for. 503 FEST_SOURCE_NOT_LOADED ' +
            'while no source extract could be read.',
          tags: ['fest'],
          security,
          response: {
            200: festXml('The source extract with our conditions merged in (gzip when asked for)'),
            304: unchanged,
            ...problems,
          },
        },
      },
      async (request, reply) => {
        if (!options.ready()) return notReady(reply);
        const linked = options.linked?.();
        if (!linked)
          return sendProblem(
            reply,
            503,
            'FEST_SOURCE_NOT_LOADED',
            options.source?.describe() ?? 'no source extract (FEST_SOURCE_EXTRACT unset)',
          );
        const { conditions, links, source } = linked;
        const etag = `W/"fest-merged-${catalogue.version}-${source.digest.slice(0, 16)}"`;
        reply
          .header('etag', etag)
          .header('cache-control', 'no-cache')
          .header('vary', 'accept-encoding')
          .header('x-fest-catalogue-version', String(catalogue.version))
          .header('x-fest-source-hentetdato', source.index.fetchedAt);
        if (matchesEtag(request.headers['if-none-match'], etag)) return reply.code(304).send();
        reply
          .header('x-fest-count', String(conditions.length))
          .header('x-fest-linked-products', String(links.byProduct.size))
          .type('application/xml; charset=utf-8');
        const document = mergedFestStream({
          sourcePath: source.path,
          conditions,
          links: links.byProduct,
          render: options,
        });
        if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
          reply.header('content-encoding', 'gzip');
          return reply.send(document.pipe(createGzip()));
        }
        return reply.send(document);
      },
    );

    const { source: sourceExtract, opsScope } = options;
    if (sourceExtract && opsScope)
      app.post(
        '/fest/v1/source/reload',
        {
          onRequest: app.requireScope(opsScope),
          schema: {
            operationId: 'reloadFestSource',
            summary: 'Read the FEST source extract again now (it is also read every FEST_SOURCE_RELOAD_MS)',
            description:
              'Answers what was read; 502 with the reason when the source is unreadable or not a FEST document, in which case ' +
              'the last good one stays in use.',
            tags: ['fest'],
            security: [{ bearer: [opsScope] }],
            response: {
              200: {
                type: 'object',
                properties: {
                  products: { type: 'integer' },
                  hentetDato: { type: 'string' },
                  bytes: { type: 'integer' },
                  digest: { type: 'string' },
                  loadedAt: { type: 'string' },
                },
              },
              ...problems,
            },
          },
        },
        async (_request, reply) => {
          const outcome = await sourceExtract.reload();
          if (!outcome.ok) {
            const kept = outcome.kept
              ? `; keeping the last good one (HentetDato ${outcome.kept.index.fetchedAt}, read ${outcome.kept.loadedAt})`
              : '; there is no earlier one to keep';
            const [code, detail] = outcome.error.split(/: (.*)/s);
            return sendProblem(
              reply,
              502,
              code ?? 'FEST_SOURCE_UNREADABLE',
              `${detail ?? outcome.error}${kept}`,
            );
          }
          const { source } = outcome;
          return {
            products: source.index.products.length,
            hentetDato: source.index.fetchedAt,
            bytes: source.bytes,
            digest: source.digest,
            loadedAt: source.loadedAt,
          };
        },
      );

    const gjelderForCondition = {
      type: 'object',
      properties: {
        vilkarId: { type: 'string' },
        methodId: { type: 'string' },
        statusCode: { type: 'string' },
        substances: { type: 'array', items: { type: 'string' } },
        atcCodes: { type: 'array', items: { type: 'string' } },
        indication: { type: ['string', 'null'] },
        products: {
          type: 'array',
          items: { type: 'string' },
          description:
            'FEST ids of the source extract products linked to this condition (RefVilkar in GET /fest/v1/fest)',
        },
      },
    };

    app.get<{ Querystring: { atc?: string; substance?: string } }>(
      '/fest/v1/vilkar/gjelder-for',
      {
        onRequest: auth,
        schema: {
          operationId: 'listFestConditionScopes',
          summary:
            'Which substances and ATC codes each condition in force applies to, and the FEST products it is linked to',
          description:
            'products: the FEST ids (LegemiddelMerkevare, LegemiddelVirkestoff, Legemiddelpakning) of the loaded source ' +
            'extract that carry a RefVilkar to the condition in GET /fest/v1/fest; empty while no source extract is loaded.',
          tags: ['fest'],
          security,
          querystring: {
            type: 'object',
            properties: { atc: { type: 'string' }, substance: { type: 'string' } },
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: {
                catalogueVersion: { type: 'integer' },
                sourceExtract: {
                  type: ['object', 'null'],
                  properties: { hentetDato: { type: 'string' }, loadedAt: { type: 'string' } },
                },
                conditions: { type: 'array', items: gjelderForCondition },
              },
            },
            ...problems,
          },
        },
      },
      async (request, reply) => {
        if (!options.ready()) return notReady(reply);
        const { atc, substance } = request.query;
        const linked = options.linked?.();
        const wanted = (linked?.conditions ?? catalogue.active())
          .filter((e) => !atc || e.atcCodes.some((code) => code.startsWith(atc.toUpperCase())))
          .filter((e) => !substance || e.substances.some((s) => s.toLowerCase() === substance.toLowerCase()));
        reply.header('x-fest-catalogue-version', String(catalogue.version));
        return {
          catalogueVersion: catalogue.version,
          sourceExtract: linked
            ? { hentetDato: linked.source.index.fetchedAt, loadedAt: linked.source.loadedAt }
            : null,
          conditions: wanted.map((e) => ({
            vilkarId: e.vilkarId,
            methodId: e.methodId,
            statusCode: e.statusCode,
            substances: e.substances,
            atcCodes: e.atcCodes,
            indication: e.indication,
            products: linked?.links.byCondition.get(e.vilkarId) ?? [],
          })),
        };
      },
    );

    const webhookBody = {
      type: 'object',
      required: ['url', 'secret'],
      additionalProperties: false,
      properties: {
        url: {
          type: 'string',
          pattern: '^https?://',
          description:
            'Where deltas are POSTed: https, no credentials, a host resolving only to public addresses.',
        },
        secret: { type: 'string', minLength: 16, description: 'Key of the X-Fest-Signature HMAC-SHA256.' },
        fromVersion: {
          type: 'integer',
          minimum: 0,
          description: 'Push what changed after this version (default 0: everything).',
        },
      },
    };

    app.put<{ Body: { url: string; secret: string; fromVersion?: number } }>(
      '/fest/v1/webhook',
      {
        onRequest: auth,
        ...(options.leader ? { preHandler: options.leader } : {}),
        schema: {
          operationId: 'putFestWebhook',
          summary: "Register (or replace) the calling vendor's webhook",
          tags: ['fest'],
          security,
          body: webhookBody,
          response: {
            200: json('Replaced', webhookSchema),
            201: json('Registered', webhookSchema),
            ...problems,
          },
        },
      },
      async (request, reply) => {
        const vendor = request.subject!;
        const { url, secret } = request.body;
        const verdict = await options.urlGuard.check(url);
        if (!verdict.ok) return sendProblem(reply, 400, 'INVALID_WEBHOOK_URL', verdict.reason);
        const fromVersion = request.body.fromVersion ?? 0;
        if (fromVersion > catalogue.version) {
          return sendProblem(
            reply,
            400,
            'SINCE_AHEAD',
            `fromVersion ${fromVersion} is ahead of the catalogue (version ${catalogue.version})`,
          );
        }
        const existed = webhooks.get(vendor) !== undefined;
        const webhook: VendorWebhook = {
          vendor,
          url,
          secret,
          cursor: fromVersion,
          registeredAt: new Date().toISOString(),
          lastDeliveredAt: null,
          failures: 0,
          lastError: null,
        };
        await webhooks.put(webhook);
        pusher.ensureLoop(vendor);
        return reply.code(existed ? 200 : 201).send(webhookView(webhook, catalogue.version));
      },
    );

    app.get(
      '/fest/v1/webhook',
      {
        onRequest: auth,
        ...(options.leader ? { preHandler: options.leader } : {}),
        schema: {
          operationId: 'getFestWebhook',
          summary: "The calling vendor's webhook and cursor",
          tags: ['fest'],
          security,
          response: { 200: json('The webhook', webhookSchema), ...problems },
        },
      },
      async (request, reply) => {
        const webhook = webhooks.get(request.subject!);
        if (!webhook)
          return sendProblem(
            reply,
            404,
            'WEBHOOK_NOT_REGISTERED',
            `vendor ${request.subject} has no webhook; PUT /fest/v1/webhook first`,
          );
        return webhookView(webhook, catalogue.version);
      },
    );

    app.post<{ Body: { fromVersion: number } }>(
      '/fest/v1/webhook/resend',
      {
        onRequest: auth,
        ...(options.leader ? { preHandler: options.leader } : {}),
        schema: {
          operationId: 'resendFestWebhook',
          summary: 'Push again everything that changed after a version',
          tags: ['fest'],
          security,
          body: {
            type: 'object',
            required: ['fromVersion'],
            additionalProperties: false,
            properties: { fromVersion: { type: 'integer', minimum: 0 } },
          },
          response: { 202: json('The cursor moved back; the pushes follow', webhookSchema), ...problems },
        },
      },
      async (request, reply) => {
        const vendor = request.subject!;
        const webhook = webhooks.get(vendor);
        if (!webhook)
          return sendProblem(
            reply,
            404,
            'WEBHOOK_NOT_REGISTERED',
            `vendor ${vendor} has no webhook; PUT /fest/v1/webhook first`,
          );
        const { fromVersion } = request.body;
        if (fromVersion > catalogue.version) {
          return sendProblem(
            reply,
            400,
            'SINCE_AHEAD',
            `fromVersion ${fromVersion} is ahead of the catalogue (version ${catalogue.version})`,
          );
        }
        const moved: VendorWebhook = { ...webhook, cursor: fromVersion, failures: 0, lastError: null };
        await webhooks.put(moved);
        pusher.ensureLoop(vendor);
        return reply.code(202).send(webhookView(moved, catalogue.version));
      },
    );

    app.delete(
      '/fest/v1/webhook',
      {
        onRequest: auth,
        ...(options.leader ? { preHandler: options.leader } : {}),
        schema: {
          operationId: 'deleteFestWebhook',
          summary: "Remove the calling vendor's webhook",
          tags: ['fest'],
          security,
          response: { 204: empty('Removed'), ...problems },
        },
      },
      async (request, reply) => {
        const vendor = request.subject!;
        await pusher.forget(vendor);
        if (!(await webhooks.remove(vendor)))
          return sendProblem(reply, 404, 'WEBHOOK_NOT_REGISTERED', `vendor ${vendor} has no webhook`);
        return reply.code(204).send();
      },
    );
  };
}

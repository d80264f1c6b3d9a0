/**
 * The vendors' HTTP face on the hub server: the full and incremental extracts (ETag, gzip, streamed),
 * which substances and ATC codes each condition applies to, and each vendor's own webhook.
 */
import { createGzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { problemSchema, sendProblem } from '../../core/http/problem.ts';
import type { UrlGuard } from '../../core/http/urlGuard.ts';
import type { VilkarCatalogue } from './catalogue.ts';
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
}

const problems = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
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
          response: problems,
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

    app.get<{ Querystring: { atc?: string; substance?: string } }>(
      '/fest/v1/vilkar/gjelder-for',
      {
        onRequest: auth,
        schema: {
          summary: 'Which substances and ATC codes each condition in force applies to, to attach RefVilkar',
          tags: ['fest'],
          security,
          querystring: {
            type: 'object',
            properties: { atc: { type: 'string' }, substance: { type: 'string' } },
            additionalProperties: false,
          },
          response: problems,
        },
      },
      async (request, reply) => {
        if (!options.ready()) return notReady(reply);
        const { atc, substance } = request.query;
        const wanted = catalogue
          .active()
          .filter((e) => !atc || e.atcCodes.some((code) => code.startsWith(atc.toUpperCase())))
          .filter((e) => !substance || e.substances.some((s) => s.toLowerCase() === substance.toLowerCase()));
        reply.header('x-fest-catalogue-version', String(catalogue.version));
        return {
          catalogueVersion: catalogue.version,
          conditions: wanted.map((e) => ({
            vilkarId: e.vilkarId,
            methodId: e.methodId,
            statusCode: e.statusCode,
            substances: e.substances,
            atcCodes: e.atcCodes,
            indication: e.indication,
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
        schema: {
          summary: "Register (or replace) the calling vendor's webhook",
          tags: ['fest'],
          security,
          body: webhookBody,
          response: problems,
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
        schema: {
          summary: "The calling vendor's webhook and cursor",
          tags: ['fest'],
          security,
          response: problems,
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
        schema: {
          summary: 'Push again everything that changed after a version',
          tags: ['fest'],
          security,
          body: {
            type: 'object',
            required: ['fromVersion'],
            additionalProperties: false,
            properties: { fromVersion: { type: 'integer', minimum: 0 } },
          },
          response: problems,
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
        schema: {
          summary: "Remove the calling vendor's webhook",
          tags: ['fest'],
          security,
          response: { 204: { type: 'null', description: 'Removed' }, ...problems },
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

/**
 * `GET /financing/v1/decisions?from=&to=&by=decision|effective`: medicine decisions in a period, as JSON
 * or (with `Accept: text/csv` or `format=csv`) as CSV, paged with `limit` and `offset`, as the feed stood
 * at `asOf` (default now; every page link carries it, so paging is stable while the feed grows).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problemSchema, sendProblem } from '../../core/http/problem.ts';
import { endOfOsloDay } from '../../core/time/oslo.ts';
import type { DecisionFeed, PeriodBy } from './decisionFeed.ts';
import { csvDocument } from './csv.ts';
import { isCalendarDate } from './mapping.ts';
import type { FinancingConfig } from './settings.ts';

export interface DecisionsQuery {
  from: string;
  to: string;
  by?: PeriodBy;
  asOf?: string;
  limit?: number;
  offset?: number;
  includeSuperseded?: boolean;
  format?: 'json' | 'csv';
}

const ROUTE = '/financing/v1/decisions';

const recordSchema = {
  type: 'object',
  properties: {
    recordId: { type: 'string' },
    supersedes: { type: ['string', 'null'] },
    supersededBy: { type: ['string', 'null'] },
    change: { type: ['string', 'null'], description: 'DECISION, PHASE_OUT or CORRECTION' },
    methodId: { type: 'string' },
    atcCode: { type: 'string' },
    substance: { type: 'string' },
    outcome: { type: 'string' },
    decidedOn: { type: 'string', format: 'date' },
    effectiveFrom: { type: ['string', 'null'] },
    hPrescription: { type: 'boolean' },
    indication: { type: ['string', 'null'] },
    subGroup: { type: ['string', 'null'] },
    assessmentUrl: { type: ['string', 'null'] },
    estimatedPatientsPerYear: { type: ['integer', 'null'] },
    sourceEventId: { type: ['string', 'null'] },
    publishedAt: { type: 'string' },
  },
};

export function decisionRoutes(feed: DecisionFeed, settings: FinancingConfig, ready: () => boolean) {
  const scope = settings.FINANCING_READ_SCOPE;
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: DecisionsQuery }>(
      ROUTE,
      {
        onRequest: app.requireScope(scope),
        schema: {
          operationId: 'listFinancingDecisions',
          summary: 'Medicine decisions for the financing schemes, by period (JSON or CSV)',
          description:
            'Every medicine decision, phase-out and correction with ATC code and H-prescription flag. By default only ' +
            'current records (not superseded by asOf); includeSuperseded=true lists the whole history. ' +
            'Accept: text/csv (or format=csv) gives UTF-8 CSV with a BOM; paging links are in the Link header.',
          tags: ['financing'],
          security: [{ bearer: [scope] }],
          querystring: {
            type: 'object',
            required: ['from', 'to'],
            additionalProperties: false,
            properties: {
              from: {
                type: 'string',
                pattern: '^\\d{4}-\\d{2}-\\d{2}$',
                description: 'First day, YYYY-MM-DD',
              },
              to: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Last day (included)' },
              by: {
                type: 'string',
                enum: ['decision', 'effective'],
                default: 'decision',
                description: 'decision: by decision date; effective: by the date it may be taken into use',
              },
              asOf: {
                type: 'string',
                format: 'date-or-instant',
                description: 'ISO instant or date: the feed as it stood then (default now)',
              },
              limit: { type: 'integer', minimum: 1, maximum: settings.FINANCING_MAX_PAGE_SIZE },
              offset: { type: 'integer', minimum: 0, default: 0 },
              includeSuperseded: { type: 'boolean', default: false },
              format: { type: 'string', enum: ['json', 'csv'] },
            },
          },
          response: {
            200: {
              description:
                'A page of decision records; with Accept: text/csv or format=csv, UTF-8 CSV with a BOM',
              content: {
                'text/csv': { schema: { type: 'string' } },
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      from: { type: 'string' },
                      to: { type: 'string' },
                      by: { type: 'string' },
                      asOf: { type: 'string' },
                      total: { type: 'integer' },
                      limit: { type: 'integer' },
                      offset: { type: 'integer' },
                      next: { type: ['string', 'null'] },
                      decisions: { type: 'array', items: recordSchema },
                    },
                  },
                },
              },
            },
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            503: problemSchema,
          },
        },
      },
      async (request, reply) => answer(request, reply, feed, settings, ready),
    );

    app.get<{ Querystring: { asOf?: string } }>(
      '/financing/v1/h-prescription-conflicts',
      {
        onRequest: app.requireScope(scope),
        schema: {
          operationId: 'listHPrescriptionConflicts',
          summary: 'Substances whose methods disagree on H-prescription',
          description:
            'H-prescription (H-resept) financing belongs to the medicine whatever the indication (Helsedirektoratet), ' +
            'so every method of one substance should carry the same flag. Lists each substance whose current records ' +
            'disagree, with each method, ATC code and flag, as the feed stood at asOf (default now).',
          tags: ['financing'],
          security: [{ bearer: [scope] }],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              asOf: {
                type: 'string',
                format: 'date-or-instant',
                description:
                  'ISO instant, or a date meaning the end of that day in Europe/Oslo (default now)',
              },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                asOf: { type: 'string' },
                count: { type: 'integer' },
                conflicts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      substance: { type: 'string' },
                      methods: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            methodId: { type: 'string' },
                            atcCode: { type: 'string' },
                            hPrescription: { type: 'boolean' },
                            recordId: { type: 'string' },
                            decidedOn: { type: 'string' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            401: problemSchema,
            403: problemSchema,
            503: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const asOf = asOfInstant(request.query.asOf);
        if (asOf === null)
          return sendProblem(
            reply,
            400,
            'INVALID_AS_OF',
            `asOf: "${request.query.asOf}" is neither an ISO instant nor a date`,
          );
        if (!ready())
          return sendProblem(
            reply,
            503,
            'NOT_READY',
            'the financing feed is still being read; try again in a moment',
          );
        const conflicts = feed.hPrescriptionConflicts(asOf);
        return { asOf, count: conflicts.length, conflicts };
      },
    );
  };
}

function answer(
  request: FastifyRequest<{ Querystring: DecisionsQuery }>,
  reply: FastifyReply,
  feed: DecisionFeed,
  settings: FinancingConfig,
  ready: () => boolean,
) {
  const q = request.query;
  const problems: { path: string; reason: string }[] = [];
  for (const field of ['from', 'to'] as const)
    if (!isCalendarDate(q[field]))
      problems.push({ path: field, reason: `"${q[field]}" is not a calendar date` });
  if (problems.length === 0 && q.from > q.to)
    problems.push({ path: 'to', reason: `the period ends (${q.to}) before it starts (${q.from})` });
  const asOf = asOfInstant(q.asOf);
  if (asOf === null)
    problems.push({ path: 'asOf', reason: `"${q.asOf}" is neither an ISO instant nor a date (YYYY-MM-DD)` });
  if (problems.length > 0)
    return sendProblem(
      reply,
      400,
      'INVALID_PERIOD',
      problems.map((p) => `${p.path}: ${p.reason}`).join('; '),
      problems,
    );
  if (!ready())
    return sendProblem(
      reply,
      503,
      'NOT_READY',
      'the financing feed is still being read; try again in a moment',
    );
  const by = q.by ?? 'decision';
  const limit = q.limit ?? settings.FINANCING_PAGE_SIZE;
  const offset = q.offset ?? 0;
  const includeSuperseded = q.includeSuperseded ?? false;
  const page = feed.query({ from: q.from, to: q.to, by, asOf: asOf!, includeSuperseded, limit, offset });
  const csv = q.format === 'csv' || (q.format !== 'json' && wantsCsv(request.headers.accept));
  const linkTo = (at: number) =>
    `${ROUTE}?${new URLSearchParams({
      from: q.from,
      to: q.to,
      by,
      asOf: asOf!,
      limit: String(limit),
      offset: String(at),
      ...(includeSuperseded ? { includeSuperseded: 'true' } : {}),
      ...(q.format ? { format: q.format } : {}),
    })}`;
  const next = offset + limit < page.total ? linkTo(offset + limit) : null;
  reply.header('x-total-count', String(page.total));
  if (next) reply.header('link', `<${next}>; rel="next"`);
  if (csv) {
    return reply
      .type('text/csv; charset=utf-8; header=present')
      .header('content-disposition', `attachment; filename="financing-decisions-${by}-${q.from}-${q.to}.csv"`)
      .send(csvDocument(page.decisions, settings.FINANCING_CSV_SEPARATOR));
  }
  return {
    from: q.from,
    to: q.to,
    by,
    asOf,
    total: page.total,
    limit,
    offset,
    next,
    decisions: page.decisions,
  };
}

/** CSV when the client prefers text/csv to JSON (a plain `Accept: text/csv`, or a higher q-value). */
export function wantsCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const weights = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    weights.set(type!.trim(), q ? Number(q.slice(2)) : 1);
  }
  const csv = weights.get('text/csv') ?? 0;
  const json = Math.max(weights.get('application/json') ?? 0, weights.get('*/*') ?? 0);
  return csv > 0 && csv >= json;
}

/** asOf as an ISO instant: now when absent, the end of the Oslo day for a plain date; null when unreadable. */
export function asOfInstant(raw: string | undefined): string | null {
  if (raw === undefined || raw === '') return new Date().toISOString();
  const instant = /^\d{4}-\d{2}-\d{2}$/.test(raw)
    ? isCalendarDate(raw)
      ? endOfOsloDay(raw)
      : Number.NaN
    : Date.parse(raw);
  return Number.isNaN(instant) ? null : new Date(instant).toISOString();
}

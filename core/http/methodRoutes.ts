/**
 * The read side of the API: a method's state now or at `asOf`, its history with a change log, filtered
 * lists, and the secretariat's stage statistics. Confidential fields are never served.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AssessmentLevel, MethodState, MethodType } from '../../contracts/generated/types.ts';
import { withoutConfidential } from '../bus/confidential.ts';
import { changeLogOf, decisionRoundsOf } from '../lifecycle/changeLog.ts';
import { methodIdError } from '../lifecycle/identifiers.ts';
import { type MethodFilter, matches, type MethodStore } from '../lifecycle/methodStore.ts';
import { exceptionsByRegion } from '../lifecycle/regionalExceptions.ts';
import {
  assessmentClockStatistics,
  type Dimension,
  dimensions,
  longestWaiting,
  newPriceOfferRounds,
  stageCounts,
  stageDurations,
} from '../lifecycle/stageStatistics.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import { problemSchema, sendProblem } from './problem.ts';
import {
  arrayOf,
  contractSchema,
  described,
  instant,
  integer,
  json,
  nullable,
  object,
  text,
} from './responses.ts';
import { endOfOsloDay, osloDateOf } from '../time/oslo.ts';
import { isCalendarDate, isInstant } from './queryFormats.ts';
import { Topics } from '../../contracts/topics.ts';

const STATE_TOPIC = Topics.methodState;
const EVENTS_TOPIC = Topics.methodEvents;

const statuses = [
  'PROPOSAL_RECEIVED',
  'HORIZON_SCANNING',
  'AWAITING_ORDERING',
  'ASSESSMENT_ORDERED',
  'ASSESSMENT_IN_PROGRESS',
  'ASSESSMENT_COMPLETED',
  'PRICE_NEGOTIATION',
  'AWAITING_DECISION',
  'DECIDED',
  'REASSESSMENT',
  'PHASED_OUT',
  'CLOSED',
];
const methodTypes = ['MEDICINE', 'MEDICAL_DEVICE', 'DIAGNOSTIC_TEST', 'PROCEDURE', 'ORGANISATIONAL', 'OTHER'];

const asOfParam = {
  type: 'string',
  description:
    'Time travel: answer as things stood at this instant (ISO 8601), by when events occurred. A bare date (2021-06-30) means the end of that day in Europe/Oslo (23:59:59.999 Norwegian time).',
};
const filterParams = {
  status: { type: 'string', description: `Comma-separated statuses: ${statuses.join(', ')}` },
  specialty: { type: 'string', description: 'Specialty area (fagområde), e.g. Onkologi; case-insensitive.' },
  atc: { type: 'string', description: 'ATC code or prefix: L01 finds every L01 medicine.' },
  substance: { type: 'string', description: 'Part of an active substance name, case-insensitive.' },
  type: { type: 'string', enum: methodTypes, description: 'Method type.' },
  level: {
    type: 'string',
    enum: ['NATIONAL', 'LOCAL'],
    description: 'NATIONAL assessments or LOCAL mini-HTAs (mini-metodevurdering); both when omitted.',
  },
};

const asOfAnswer = nullable({ ...instant, description: 'The asOf asked for; null for now.' });
const stateSchema = contractSchema(STATE_TOPIC, ['recentEventIds']);
const eventSchema = contractSchema(EVENTS_TOPIC);
const summarySchema = object({
  methodId: text,
  name: text,
  methodType: text,
  level: text,
  specialty: nullable(text),
  status: text,
  substances: arrayOf(text),
  atcCodes: arrayOf(text),
  slvTrack: nullable(text),
  decision: nullable({ ...text, description: 'The decision outcome, if decided.' }),
  registeredAt: instant,
  updatedAt: instant,
});
const notFound = {
  404: { ...problemSchema, description: 'UNKNOWN_METHOD, or NOT_YET_REGISTERED at asOf' },
};

export type AsOf = { ok: true; at: number | undefined } | { ok: false; reason: string };

/** Reads `asOf`: an ISO instant, or a date meaning the end of that Norwegian day; 2023-02-30 is refused, not rolled. */
export function parseAsOf(raw: string | undefined): AsOf {
  if (raw === undefined || raw === '') return { ok: true, at: undefined };
  if (isCalendarDate(raw)) return { ok: true, at: endOfOsloDay(raw) };
  if (isInstant(raw)) return { ok: true, at: Date.parse(raw) };
  return {
    ok: false,
    reason: `asOf=${raw} is not a real ISO 8601 instant with a zone or calendar date, e.g. 2021-06-30T12:00:00Z or 2021-06-30`,
  };
}

const publicState = (state: MethodState): MethodState => {
  const { recentEventIds: _ids, ...rest } = withoutConfidential(STATE_TOPIC, state);
  return rest as MethodState;
};

export function summaryOf(state: MethodState) {
  return {
    methodId: state.methodId,
    name: state.details.name,
    methodType: state.details.methodType,
    level: state.details.level,
    specialty: state.details.specialty,
    status: state.status,
    substances: state.details.substances,
    atcCodes: state.details.atcCodes,
    slvTrack: state.assignment?.slvTrack ?? null,
    decision: state.decision?.outcome ?? null,
    registeredAt: state.registeredAt,
    updatedAt: state.updatedAt,
  };
}

interface FilterQuery {
  asOf?: string;
  status?: string;
  specialty?: string;
  atc?: string;
  substance?: string;
  type?: MethodType;
  level?: AssessmentLevel;
}

function filterOf(query: FilterQuery): { ok: true; filter: MethodFilter } | { ok: false; reason: string } {
  const status = query.status
    ?.split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const unknown = status?.filter((s) => !statuses.includes(s)) ?? [];
  if (unknown.length > 0) {
    return { ok: false, reason: `status ${unknown.join(', ')} is not one of ${statuses.join(', ')}` };
  }
  return {
    ok: true,
    filter: {
      status,
      specialty: query.specialty,
      atc: query.atc,
      substance: query.substance,
      type: query.type,
      level: query.level,
    },
  };
}

const isoOrNow = (at: number | undefined) => new Date(at ?? Date.now()).toISOString();

export interface MethodRouteOptions {
  /** What "now" is for statistics without asOf (default the system clock). */
  clock?: Clock;
  /** DMP's assessment time limit in clock days (ASSESSMENT_CLOCK_DAYS). */
  clockLimitDays?: number;
}

export function methodRoutes(store: MethodStore, readScope: string, options: MethodRouteOptions = {}) {
  const clock = options.clock ?? systemClock;
  const clockLimitDays = options.clockLimitDays ?? 180;
  return async (app: FastifyInstance) => {
    const guard = app.requireScope(readScope);
    const security = [{ bearer: [readScope] }];
    const methodAsOfSchema = {
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      querystring: { type: 'object', properties: { asOf: asOfParam }, additionalProperties: false },
    } as const;
    /** The method a per-method route names, and its asOf; undefined once the 400 or 404 is sent. */
    const methodAsOf = (id: string, rawAsOf: string | undefined, reply: FastifyReply) => {
      const idError = methodIdError(id);
      if (idError) return void sendProblem(reply, 400, idError.code, idError.reason);
      const asOf = parseAsOf(rawAsOf);
      if (!asOf.ok) return void sendProblem(reply, 400, 'INVALID_AS_OF', asOf.reason);
      const ledger = store.ledger(id);
      if (!ledger) return void sendProblem(reply, 404, 'UNKNOWN_METHOD', `${id} is not registered`);
      return { id, asOf, ledger };
    };

    app.get<{ Params: { id: string }; Querystring: { asOf?: string } }>(
      '/api/v1/methods/:id',
      {
        onRequest: guard,
        schema: {
          operationId: 'getMethod',
          summary: "A method's current state, or its state at asOf",
          tags: ['methods'],
          security,
          ...methodAsOfSchema,
          response: {
            200: json('The method-state contract without confidential values', {
              ...object({ asOf: asOfAnswer, state: stateSchema }),
            }),
            ...notFound,
          },
        },
      },
      async (request, reply) => {
        const found = methodAsOf(request.params.id, request.query.asOf, reply);
        if (!found) return reply;
        const { id, asOf, ledger } = found;
        const state = store.stateOf(id, asOf.at);
        if (!state) {
          return sendProblem(
            reply,
            404,
            'NOT_YET_REGISTERED',
            `${id} was registered on ${ledger.entries[0]!.event.occurredAt}, after asOf ${isoOrNow(asOf.at)}`,
          );
        }
        return { asOf: asOf.at === undefined ? null : isoOrNow(asOf.at), state: publicState(state) };
      },
    );

    app.get<{ Params: { id: string }; Querystring: { asOf?: string } }>(
      '/api/v1/methods/:id/history',
      {
        onRequest: guard,
        schema: {
          operationId: 'getMethodHistory',
          summary: 'Every event of a method, with a change log of status and text changes (up to asOf)',
          tags: ['methods'],
          security,
          ...methodAsOfSchema,
          response: {
            200: json(
              'Its events (method-events contract), the change log and each decision round',
              object({
                methodId: text,
                asOf: asOfAnswer,
                events: arrayOf(eventSchema),
                changeLog: arrayOf(
                  described('One event: the status change and the text fields changed (field, from, to)'),
                ),
                decisions: arrayOf(
                  described('One decision round, and what it came after (NEW_PRICE_OFFER or REASSESSMENT)'),
                ),
              }),
            ),
            ...notFound,
          },
        },
      },
      async (request, reply) => {
        const found = methodAsOf(request.params.id, request.query.asOf, reply);
        if (!found) return reply;
        const { id, asOf, ledger } = found;
        const entries = ledger.entriesUntil(asOf.at);
        return {
          methodId: id,
          asOf: asOf.at === undefined ? null : isoOrNow(asOf.at),
          events: entries.map((e) => withoutConfidential(EVENTS_TOPIC, e.event)),
          changeLog: changeLogOf(entries),
          decisions: decisionRoundsOf(entries),
        };
      },
    );

    app.get<{ Params: { id: string }; Querystring: { asOf?: string } }>(
      '/api/v1/methods/:id/exceptions',
      {
        onRequest: guard,
        schema: {
          summary:
            "A method's exceptions (unntak) per regional health authority and trust: which are valid on the day of asOf (today by default), and from when a later decision overrode each",
          operationId: 'getMethodExceptions',
          tags: ['methods'],
          security,
          ...methodAsOfSchema,
          response: {
            200: json(
              'Per regional health authority: how many exceptions are valid on the day, and each one',
              object({
                methodId: text,
                asOf: asOfAnswer,
                validOn: { type: 'string', format: 'date' },
                regions: arrayOf(
                  object({
                    rhf: text,
                    name: text,
                    valid: integer,
                    exceptions: arrayOf(
                      described('One exception: holder, trust, validity and the decision that overrode it'),
                    ),
                  }),
                ),
              }),
            ),
            ...notFound,
          },
        },
      },
      async (request, reply) => {
        const found = methodAsOf(request.params.id, request.query.asOf, reply);
        if (!found) return reply;
        const { id, asOf, ledger } = found;
        const day = osloDateOf(asOf.at ?? Date.now());
        return {
          methodId: id,
          asOf: asOf.at === undefined ? null : isoOrNow(asOf.at),
          validOn: day,
          regions: exceptionsByRegion(ledger.entriesUntil(asOf.at), day),
        };
      },
    );

    app.get<{ Querystring: FilterQuery & { limit?: number; offset?: number } }>(
      '/api/v1/methods',
      {
        onRequest: guard,
        schema: {
          operationId: 'listMethods',
          summary: 'Methods matching every filter given, now or at asOf, in method-ID order',
          tags: ['methods'],
          security,
          response: {
            200: json(
              'A page of method summaries and how many match',
              object({ asOf: asOfAnswer, total: integer, offset: integer, items: arrayOf(summarySchema) }),
            ),
          },
          querystring: {
            type: 'object',
            properties: {
              ...filterParams,
              asOf: asOfParam,
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
              offset: { type: 'integer', minimum: 0, default: 0 },
            },
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => {
        const asOf = parseAsOf(request.query.asOf);
        if (!asOf.ok) return sendProblem(reply, 400, 'INVALID_AS_OF', asOf.reason);
        const filter = filterOf(request.query);
        if (!filter.ok) return sendProblem(reply, 400, 'INVALID_FILTER', filter.reason);
        const all = store.list(filter.filter, asOf.at);
        const { limit = 100, offset = 0 } = request.query;
        return {
          asOf: asOf.at === undefined ? null : isoOrNow(asOf.at),
          total: all.length,
          offset,
          items: all.slice(offset, offset + limit).map(summaryOf),
        };
      },
    );

    app.get<{ Querystring: FilterQuery & { by?: Dimension; limit?: number } }>(
      '/api/v1/stats/stages',
      {
        onRequest: guard,
        schema: {
          summary:
            "Stage statistics: days spent per stage over completed visits (median, p90, max) in calendar days and with the clock stopped while paused (clock*), per drill-down group; the methods waiting longest in each stage; counts per stage; and DMP's assessment clock (days from complete documentation, pauses left out, against ASSESSMENT_CLOCK_DAYS)",
          operationId: 'getStageStatistics',
          tags: ['statistics'],
          security,
          response: {
            200: json(
              'Stage statistics over the methods that match',
              object({
                asOf: instant,
                methods: integer,
                by: nullable(text),
                durations: arrayOf(
                  described('One drill-down group: per stage its visits and median, p90 and max days'),
                ),
                longestWaiting: arrayOf(described('One stage: the methods waiting longest in it')),
                counts: { ...described('Methods per stage'), additionalProperties: integer },
                newPriceOffers: arrayOf(described('One new price offer round')),
                assessmentClock: described("DMP's assessment clock against ASSESSMENT_CLOCK_DAYS"),
              }),
            ),
          },
          querystring: {
            type: 'object',
            properties: {
              by: { type: 'string', enum: [...dimensions], description: 'Drill down by this dimension.' },
              limit: {
                type: 'integer',
                minimum: 1,
                maximum: 100,
                default: 5,
                description: 'Longest-waiting methods per stage.',
              },
              asOf: asOfParam,
              ...filterParams,
            },
            additionalProperties: false,
          },
        },
      },
      async (request, reply) => {
        const asOf = parseAsOf(request.query.asOf);
        if (!asOf.ok) return sendProblem(reply, 400, 'INVALID_AS_OF', asOf.reason);
        const filter = filterOf(request.query);
        if (!filter.ok) return sendProblem(reply, 400, 'INVALID_FILTER', filter.reason);
        const states = store.states(asOf.at).filter(matches(filter.filter));
        const now = asOf.at ?? clock.now();
        return {
          asOf: new Date(now).toISOString(),
          methods: states.length,
          by: request.query.by ?? null,
          durations: stageDurations(states, request.query.by),
          longestWaiting: longestWaiting(states, now, request.query.limit ?? 5),
          counts: stageCounts(states),
          newPriceOffers: newPriceOfferRounds(states),
          assessmentClock: assessmentClockStatistics(
            states,
            osloDateOf(now),
            clockLimitDays,
            request.query.limit ?? 5,
          ),
        };
      },
    );
  };
}

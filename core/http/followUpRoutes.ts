/**
 * The follow-up API on the hub's clock:
 *   GET /api/v1/follow-up/temporary-introductions   every temporary introduction, its date, outcome measures and reassessment progress
 *   GET /api/v1/follow-up/alerts                    reassessment dates and absolute deadlines approaching or passed
 */
import type { FastifyInstance } from 'fastify';
import type { FollowUp } from '../followup/followUp.ts';
import { parseAsOf } from './methodRoutes.ts';
import { problemSchema, sendProblem } from './problem.ts';

const nullable = (type: string) => ({ type: [type, 'null'] });
const date = { type: 'string', format: 'date' };

const temporaryIntroduction = {
  type: 'object',
  properties: {
    methodId: { type: 'string' },
    name: { type: 'string' },
    specialty: nullable('string'),
    decidedOn: date,
    reassessBy: date,
    outcomeMeasures: { type: 'array', items: { type: 'string' } },
    dataPlan: { type: 'string' },
    exitPlan: { type: 'string' },
    progress: { type: 'string', enum: ['NOT_STARTED', 'STARTED', 'DECIDED'] },
    reassessmentStartedOn: nullable('string'),
    followedBy: {
      type: ['object', 'null'],
      properties: { outcome: { type: 'string' }, on: { type: 'string' } },
    },
    closed: { type: 'boolean' },
    daysLeft: { type: 'integer', description: 'Days from today to reassessBy; negative once passed.' },
    alert: { type: ['string', 'null'], enum: ['APPROACHING', 'OVERDUE', null] },
  },
};

const deadlineAlert = {
  type: 'object',
  properties: {
    methodId: { type: 'string' },
    name: { type: 'string' },
    specialty: nullable('string'),
    pausedOn: date,
    waitingFor: nullable('string'),
    absoluteDeadline: date,
    daysLeft: { type: 'integer', description: 'Days from today to the deadline; negative once passed.' },
    alert: { type: 'string', enum: ['APPROACHING', 'OVERDUE'] },
  },
};

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema };

const asOfParam = {
  type: 'string',
  description: "Judge as things stood at this instant or date (default: now on the hub's clock).",
};

export function followUpRoutes(followUp: FollowUp, readScope: string) {
  return async (app: FastifyInstance) => {
    const guard = app.requireScope(readScope);
    const security = [{ bearer: [readScope] }];

    app.get<{ Querystring: { asOf?: string; progress?: 'NOT_STARTED' | 'STARTED' | 'DECIDED' } }>(
      '/api/v1/follow-up/temporary-introductions',
      {
        onRequest: guard,
        schema: {
          operationId: 'listTemporaryIntroductions',
          summary:
            'Every temporary introduction (midlertidig innføring): its reassessment date, outcome measures, data and exit plan, and how far its reassessment has come',
          tags: ['follow-up'],
          security,
          querystring: {
            type: 'object',
            properties: {
              asOf: asOfParam,
              progress: { type: 'string', enum: ['NOT_STARTED', 'STARTED', 'DECIDED'] },
            },
            additionalProperties: false,
          },
          response: {
            200: {
              type: 'object',
              properties: {
                today: date,
                warnDays: { type: 'integer' },
                total: { type: 'integer' },
                items: { type: 'array', items: temporaryIntroduction },
              },
            },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const asOf = parseAsOf(request.query.asOf);
        if (!asOf.ok) return sendProblem(reply, 400, 'INVALID_AS_OF', asOf.reason);
        const progress = request.query.progress;
        const items = followUp
          .temporaryIntroductions(asOf.at)
          .filter((t) => !progress || t.progress === progress);
        return {
          today: followUp.todayAt(asOf.at),
          warnDays: followUp.settings.FOLLOW_UP_REASSESS_WARN_DAYS,
          total: items.length,
          items,
        };
      },
    );

    app.get<{ Querystring: { asOf?: string } }>(
      '/api/v1/follow-up/alerts',
      {
        onRequest: guard,
        schema: {
          operationId: 'getFollowUpAlerts',
          summary:
            "Follow-up alerts on the hub's clock: temporary introductions whose reassessBy date is near or past with no REASSESSMENT_STARTED, and paused assessments whose absolute deadline is near or past",
          tags: ['follow-up'],
          security,
          querystring: { type: 'object', properties: { asOf: asOfParam }, additionalProperties: false },
          response: {
            200: {
              type: 'object',
              properties: {
                today: date,
                reassessment: {
                  type: 'object',
                  properties: {
                    warnDays: { type: 'integer' },
                    items: { type: 'array', items: temporaryIntroduction },
                  },
                },
                absoluteDeadlines: {
                  type: 'object',
                  properties: {
                    warnDays: { type: 'integer' },
                    items: { type: 'array', items: deadlineAlert },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const asOf = parseAsOf(request.query.asOf);
        if (!asOf.ok) return sendProblem(reply, 400, 'INVALID_AS_OF', asOf.reason);
        return followUp.alerts(asOf.at);
      },
    );
  };
}

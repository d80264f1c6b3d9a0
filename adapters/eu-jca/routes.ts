/**
 * The JCA intake's reads, as a fastify plugin of named handlers: the procedures taken in (each with its timeline),
 * one procedure, Norway's PICOs for a national method, the timeline of overdue and upcoming milestones, and the
 * documents refused. They read the adapter's folds only; the intake (inbound.ts) is what writes.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { problemSchema, sendProblem } from '../../core/http/problem.ts';
import { arrayOf, described, integer, json, object, text } from '../../core/http/responses.ts';
import { norwayPicosFor, picosOf } from './picos.ts';
import type { JcaProcedures, Procedure } from './procedures.ts';
import type { RejectedDocuments } from './rejections.ts';
import type { JcaConfig } from './settings.ts';
import { osloToday, type ProcedureTimeline, timelineLists, timelineOf } from './timeline.ts';

export const timelineSchema = described(
  'A procedure timeline: stage, and each step with its due date and state',
);

/** 404 for a procedure id no notification was taken in under. */
export const unknownProcedure = (reply: FastifyReply, procedureId: string) =>
  sendProblem(reply, 404, 'UNKNOWN_PROCEDURE', `no JCA ${procedureId} was taken in`);

export type TimelineOf = (procedure: Procedure, today?: string, within?: number) => ProcedureTimeline;

/** A procedure's timeline by the JCA_* deadline rules, judged on `today` (Norway's date now unless given). */
export function timelineFor(settings: JcaConfig, now: () => Date): TimelineOf {
  const rules = {
    scopeDueDays: settings.JCA_SCOPE_DUE_DAYS,
    scopeDaysAfterClockStop: settings.JCA_SCOPE_DAYS_AFTER_CLOCK_STOP,
    dossierDaysBeforeOpinion: settings.JCA_DOSSIER_DAYS_BEFORE_OPINION,
    endorsementDaysAfterAuthorisation: settings.JCA_ENDORSEMENT_DAYS_AFTER_AUTHORISATION,
    publicationWorkingDaysAfterEndorsement: settings.JCA_PUBLICATION_WORKING_DAYS_AFTER_ENDORSEMENT,
  };
  return (procedure, today = osloToday(now()), within = settings.JCA_UPCOMING_DAYS) =>
    timelineOf(procedure, today, within, rules);
}

export interface JcaReadParts {
  settings: JcaConfig;
  procedures: JcaProcedures;
  rejected: RejectedDocuments;
  timeline: TimelineOf;
  now: () => Date;
}

/** Registers the reads on `app`: the intake's scope, so its error handler answers their 400s too. */
export function jcaReadRoutes(parts: JcaReadParts) {
  const { settings, procedures, rejected, timeline, now } = parts;
  const read = settings.JCA_READ_SCOPE;
  return (app: FastifyInstance): void => {
    app.get(
      '/jca/v1/procedures',
      {
        onRequest: app.requireScope(read),
        schema: {
          operationId: 'listJcaProcedures',
          summary: 'Every JCA procedure taken in, with where it stands',
          tags: ['eu-jca'],
          security: [{ bearer: [read] }],
          response: {
            200: json('Each procedure with its timeline', object({ procedures: arrayOf(timelineSchema) })),
          },
        },
      },
      async () => ({ procedures: procedures.all().map((p) => timeline(p)) }),
    );

    app.get<{ Params: { procedureId: string } }>(
      '/jca/v1/procedures/:procedureId',
      {
        onRequest: app.requireScope(read),
        schema: {
          operationId: 'getJcaProcedure',
          summary: 'One JCA procedure: every version taken in, its links and its timeline',
          tags: ['eu-jca'],
          security: [{ bearer: [read] }],
          response: {
            200: json(
              'The procedure',
              object({
                procedureId: text,
                versions: arrayOf(described('One version taken in (the eu.jca-notifications.v1 contract)')),
                picos: described("The PICOs of the latest version, Norway's marked"),
                timeline: timelineSchema,
              }),
            ),
            404: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const procedure = procedures.procedure(request.params.procedureId);
        if (!procedure) return unknownProcedure(reply, request.params.procedureId);
        return {
          procedureId: procedure.procedureId,
          versions: procedure.versions,
          picos: picosOf(procedure),
          timeline: timeline(procedure),
        };
      },
    );

    app.get<{ Params: { methodId: string } }>(
      '/jca/v1/methods/:methodId/picos',
      {
        onRequest: app.requireScope(read),
        schema: {
          operationId: 'listJcaPicosForMethod',
          summary: 'The PICOs Norway asked for in every JCA linked to a national method',
          tags: ['eu-jca'],
          security: [{ bearer: [read] }],
          params: {
            type: 'object',
            properties: { methodId: { type: 'string', pattern: '^ID\\d{4}_\\d{3}$' } },
          },
          response: {
            200: json(
              'Per linked procedure, the PICOs Norway asked for',
              object({
                methodId: text,
                procedures: arrayOf(
                  described('A linked procedure: its id, stage and the PICOs Norway asked for'),
                ),
              }),
            ),
            400: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { methodId } = request.params;
        const answer = norwayPicosFor(methodId, procedures.all(), (p) => timeline(p).stage);
        if (answer.procedures.length === 0)
          return sendProblem(reply, 404, 'NO_LINKED_JCA', `no JCA taken in is linked to ${methodId}`);
        return answer;
      },
    );

    app.get<{ Querystring: { on?: string; withinDays?: number } }>(
      '/jca/v1/timeline',
      {
        onRequest: app.requireScope(read),
        schema: {
          operationId: 'getJcaTimeline',
          summary: 'Overdue and upcoming JCA milestones',
          description:
            'on: the day to judge from (default today in Norway); withinDays: how far ahead counts as upcoming.',
          tags: ['eu-jca'],
          security: [{ bearer: [read] }],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              on: { type: 'string', format: 'date' },
              withinDays: { type: 'integer', minimum: 0, maximum: 3650 },
            },
          },
          response: {
            200: json(
              'Milestones past due and those due within withinDays, over every procedure',
              object({
                on: { type: 'string', format: 'date' },
                withinDays: integer,
                procedures: integer,
                overdue: arrayOf(described('A milestone: procedure, step, due date, days')),
                upcoming: arrayOf(described('A milestone: procedure, step, due date, days')),
              }),
            ),
            400: problemSchema,
          },
        },
      },
      async (request) => {
        const on = request.query.on ?? osloToday(now());
        const within = request.query.withinDays ?? settings.JCA_UPCOMING_DAYS;
        const timelines = procedures.all().map((p) => timeline(p, on, within));
        return { on, withinDays: within, procedures: timelines.length, ...timelineLists(timelines) };
      },
    );

    app.get(
      '/jca/v1/rejected',
      {
        onRequest: app.requireScope(read),
        schema: {
          summary:
            'The latest refused JCA documents, with why (the bodies are on eu.jca-notifications.v1.dlq)',
          operationId: 'listRejectedJcaDocuments',
          tags: ['eu-jca'],
          security: [{ bearer: [read] }],
          response: {
            200: json(
              'Newest first',
              object({
                rejected: arrayOf(
                  described('A refused document: when, who sent it, the reason, where on the DLQ'),
                ),
              }),
            ),
          },
        },
      },
      async () => ({ rejected: rejected.list() }),
    );
  };
}

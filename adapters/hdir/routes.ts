/**
 * The adapter's HTTP API on the hub's server:
 *   GET  /hdir/v1/flags                  flags with their run and documentation basis (?status=&overdue=true&...)
 *   GET  /hdir/v1/flags/:methodId        one method's flags
 *   POST /hdir/v1/implementation-status  Helsedirektoratet (or an operator) reports a run's status
 *   GET  /hdir/v1/alerts                 runs past their deadline
 *   GET  /hdir/v1/implementation-times   days from decision to implemented, per guideline
 *   GET  /hdir/v1/guidelines             the guideline catalogue and the flag rules
 * Confidential documentation (the price note with prices, the supplier's note) is only in answers to a
 * token with the confidential scope; every other answer passes the trust-boundary guard.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GuidelineFlag } from '../../contracts/generated/types.ts';
import { ImplementationStatusValues } from '../../contracts/generated/types.ts';
import { guardOutbound } from '../../core/bus/confidential.ts';
import { ConfidentialLeak, ContractViolation } from '../../core/bus/errors.ts';
import { withhold } from '../../core/bus/withheld.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { textProblem } from '../../core/contracts/validity.ts';
import type { HubContext } from '../../core/hub/component.ts';
import { requestHasScope } from '../../core/http/auth.ts';
import { problemSchema, sendProblem } from '../../core/http/problem.ts';
import { arrayOf, described, integer, json, nullable, object, text } from '../../core/http/responses.ts';
import { loggerFor } from '../../core/log/logger.ts';
import type { FlagBook } from './flagBook.ts';
import { judgeStatusReport, osloDate, type StatusReport } from './implementationStatus.ts';
import type { MethodDirectory } from './methodDirectory.ts';
import { implementationDays, implementationTimes, type OverdueWatch, runOf } from './monitoring.ts';
import type { RuleBook } from './rules.ts';
import type { HdirSettings } from './settings.ts';
import { Topics } from '../../contracts/topics.ts';
import { oneAtATime as serialQueue } from '../../core/concurrency/oneAtATime.ts';

export interface RouteParts {
  context: HubContext;
  settings: HdirSettings;
  book: FlagBook;
  directory: MethodDirectory;
  rules: () => RuleBook;
  watch: OverdueWatch;
}

const log = loggerFor('hdir-api');
const METHOD_ID = '^ID\\d{4}_\\d{3}$';
const errors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  503: problemSchema,
};

const dateText = { type: 'string', format: 'date' };
const flagView = described(
  'A guideline flag (the hdir.guideline-flags.v1 contract) with guidelineName, guidelineKind, its implementation run (deadline, days, overdue) and documentation basis',
);
const flagList = arrayOf(flagView);
const withheld = {
  type: 'integer',
  description: 'Flags left out because they could not be shown; see the log',
};

export function hdirRoutes(parts: RouteParts) {
  const { settings, book, directory, rules, context } = parts;
  const oneAtATime = serialQueue();

  const viewOf = (flag: GuidelineFlag, today: string, confidential: boolean) => {
    const state = directory.get(flag.methodId);
    const guideline = rules().guidelines.get(flag.guidelineId);
    return {
      ...flag,
      guidelineName: guideline?.name ?? null,
      guidelineKind: guideline?.kind ?? null,
      run: runOf(flag, rules(), settings.HDIR_DEADLINE_DAYS, today),
      documentation: {
        assessmentUrl:
          flag.assessmentUrl ?? state?.assessmentDelivered?.reportUrl ?? state?.details.assessmentUrl ?? null,
        publicPriceNoteUrl: flag.publicPriceNoteUrl ?? state?.priceAgreement?.publicPriceNoteUrl ?? null,
        ...(confidential
          ? {
              confidentialPriceNoteUrl: state?.priceAgreement?.confidentialPriceNoteUrl ?? null,
              supplierConfidentialNote: state?.details.supplierConfidentialNote ?? null,
            }
          : {}),
      },
    };
  };

  /**
   * The views of these flags, each checked against every confidential value of its method unless the caller
   * may see them; a view the guard refuses is left out (and counted), so one method never fails the list.
   */
  const guardedViews = (
    request: FastifyRequest,
    output: string,
    flags: GuidelineFlag[],
    today: string,
  ): { views: ReturnType<typeof viewOf>[]; withheld: number } => {
    const confidential = requestHasScope(request, settings.HDIR_CONFIDENTIAL_SCOPE);
    const views: ReturnType<typeof viewOf>[] = [];
    let left = 0;
    for (const flag of flags) {
      const view = viewOf(flag, today, confidential);
      if (!confidential) {
        const state = directory.get(flag.methodId);
        try {
          guardOutbound(output, view, {
            sources: state ? [{ topic: Topics.methodState, value: state }] : [],
          });
        } catch (error) {
          if (!(error instanceof ConfidentialLeak)) throw error;
          withhold(output, flag.flagId, error.message);
          left++;
          continue;
        }
      }
      views.push(view);
    }
    return { views, withheld: left };
  };

  return async (app: FastifyInstance) => {
    const read = app.requireScope(settings.HDIR_READ_SCOPE);
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/hdir/') && !book.caughtUp)
        return sendProblem(
          reply,
          503,
          'NOT_READY',
          'still reading the guideline flags topic; try again in a moment',
        );
    });

    app.get<{
      Querystring: {
        status?: string;
        overdue?: boolean;
        methodId?: string;
        guidelineId?: string;
        includeInactive?: boolean;
      };
    }>(
      '/hdir/v1/flags',
      {
        onRequest: read,
        schema: {
          operationId: 'listGuidelineFlags',
          summary: 'Guideline flags with their implementation run and documentation basis',
          tags: ['hdir'],
          security: [{ bearer: [settings.HDIR_READ_SCOPE] }],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { type: 'string', enum: [...ImplementationStatusValues] },
              overdue: { type: 'boolean', description: 'true: only runs past their deadline' },
              methodId: { type: 'string', pattern: METHOD_ID },
              guidelineId: { type: 'string', minLength: 1 },
              includeInactive: { type: 'boolean', description: 'also flags that were removed' },
            },
          },
          response: {
            200: json(
              'The flags that match, by flag id',
              object({ count: integer, flags: flagList, withheld }, { required: ['count', 'flags'] }),
            ),
            ...errors,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const today = osloDate();
        const flags = [...book.all()]
          .filter((f) => q.includeInactive || f.active)
          .filter((f) => !q.status || f.implementationStatus === q.status)
          .filter((f) => !q.methodId || f.methodId === q.methodId)
          .filter((f) => !q.guidelineId || f.guidelineId === q.guidelineId)
          .filter(
            (f) =>
              q.overdue === undefined ||
              runOf(f, rules(), settings.HDIR_DEADLINE_DAYS, today).overdue === q.overdue,
          )
          .sort((a, b) => a.flagId.localeCompare(b.flagId));
        const { views, withheld } = guardedViews(request, 'GET /hdir/v1/flags', flags, today);
        return { count: views.length, flags: views, ...(withheld > 0 ? { withheld } : {}) };
      },
    );

    app.get<{ Params: { methodId: string } }>(
      '/hdir/v1/flags/:methodId',
      {
        onRequest: read,
        schema: {
          operationId: 'listMethodGuidelineFlags',
          summary: "One method's guideline flags (removed ones too)",
          tags: ['hdir'],
          security: [{ bearer: [settings.HDIR_READ_SCOPE] }],
          params: {
            type: 'object',
            properties: { methodId: { type: 'string', pattern: METHOD_ID } },
            required: ['methodId'],
          },
          response: {
            200: json(
              "The method's flags, by flag id",
              object({ methodId: text, flags: flagList, withheld }, { required: ['methodId', 'flags'] }),
            ),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const { methodId } = request.params;
        const flags = book.ofMethod(methodId).sort((a, b) => a.flagId.localeCompare(b.flagId));
        if (flags.length === 0 && !directory.has(methodId))
          return sendProblem(reply, 404, 'UNKNOWN_METHOD', `the hub knows no method ${methodId}`);
        const { views, withheld } = guardedViews(request, 'GET /hdir/v1/flags/{methodId}', flags, osloDate());
        return { methodId, flags: views, ...(withheld > 0 ? { withheld } : {}) };
      },
    );

    app.post<{
      Body: {
        methodId: string;
        guidelineId: string;
        status: StatusReport['status'];
        date: string;
        note?: string | null;
      };
    }>(
      '/hdir/v1/implementation-status',
      {
        onRequest: app.requireScope(settings.HDIR_STATUS_SCOPE),
        schema: {
          operationId: 'reportImplementationStatus',
          summary: "Report the status of a method's implementation run in one guideline",
          description:
            'NOT_STARTED -> IN_PROGRESS | IMPLEMENTED | NOT_RELEVANT; IN_PROGRESS -> IMPLEMENTED | NOT_RELEVANT; ' +
            'IMPLEMENTED or NOT_RELEVANT -> IN_PROGRESS. The date is the local date it took effect, not in the ' +
            'future and not before the current status. Resending the same report changes nothing.',
          tags: ['hdir'],
          security: [{ bearer: [settings.HDIR_STATUS_SCOPE] }],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['methodId', 'guidelineId', 'status', 'date'],
            properties: {
              methodId: { type: 'string', pattern: METHOD_ID },
              guidelineId: { type: 'string', minLength: 1 },
              status: { type: 'string', enum: [...ImplementationStatusValues] },
              date: { type: 'string', format: 'date' },
              note: { type: ['string', 'null'], maxLength: 2000 },
            },
          },
          response: {
            200: json(
              'The flag after the report: changed, or unchanged for a resend',
              object({ outcome: { type: 'string', enum: ['changed', 'unchanged'] }, flag: flagView }),
            ),
            ...errors,
            409: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request, reply) =>
        oneAtATime(async () => {
          const { methodId, guidelineId, status, date, note } = request.body;
          const noteProblem = note ? textProblem(note, true) : null;
          if (noteProblem)
            return sendProblem(reply, 400, 'INVALID_REQUEST', `note ${noteProblem}`, [
              { path: 'note', reason: noteProblem },
            ]);
          const flags = book.ofMethod(methodId);
          if (flags.length === 0 && !directory.has(methodId))
            return sendProblem(reply, 404, 'UNKNOWN_METHOD', `the hub knows no method ${methodId}`);
          const known =
            rules().guidelines.has(guidelineId) || flags.some((f) => f.guidelineId === guidelineId);
          if (!known) {
            return sendProblem(
              reply,
              404,
              'UNKNOWN_GUIDELINE',
              `${guidelineId} is not a guideline or cancer programme in the catalogue (${rules().source}); see GET /hdir/v1/guidelines`,
            );
          }
          const flag = flags.find((f) => f.guidelineId === guidelineId);
          if (!flag) {
            const active = flags.filter((f) => f.active).map((f) => f.guidelineId);
            return sendProblem(
              reply,
              404,
              'NOT_FLAGGED',
              `${methodId} is not flagged for ${guidelineId}; it is flagged for ${active.length > 0 ? active.join(', ') : 'no guideline'}`,
            );
          }
          const eventId = randomUUID();
          const verdict = judgeStatusReport(
            flag,
            { methodId, guidelineId, status, on: date, note: note ?? null },
            { now: Date.now(), reportedBy: request.subject ?? 'unknown', eventId },
          );
          if (verdict.outcome === 'refused')
            return sendProblem(reply, verdict.status, verdict.code, verdict.reason);
          if (verdict.outcome === 'unchanged')
            return { outcome: 'unchanged', flag: viewOf(verdict.record, osloDate(), false) };
          const record = verdict.record;
          try {
            await book.append(context.producer, [
              {
                key: record.methodId,
                value: record,
                headers: newHeaders({
                  id: eventId,
                  source: '/metodehub/hdir/implementation-status',
                  type: 'no.nyemetoder.hdir.IMPLEMENTATION_STATUS',
                  subject: record.flagId,
                }),
              },
            ]);
          } catch (error) {
            // The contract refusing the record is no outage: resending the same report cannot help.
            if (error instanceof ContractViolation)
              return sendProblem(
                reply,
                422,
                'CONTRACT_VIOLATION',
                `the status cannot be recorded: ${error.message}`,
              );
            log.error({ err: (error as Error).message }, 'could not write an implementation status');
            return sendProblem(
              reply,
              503,
              'BUS_UNAVAILABLE',
              `Kafka did not take the status (${(error as Error).message}); nothing was written, send it again`,
            );
          }
          if (record.implementationStatus === 'IMPLEMENTED' && record.decidedOn) {
            implementationDays.observe(
              { guideline: record.guidelineId },
              Math.max(
                0,
                (Date.parse(record.implementationStatusOn!) - Date.parse(record.decidedOn)) / 86_400_000,
              ),
            );
          }
          parts.watch.check(book.all());
          log.info(
            { flagId: record.flagId, status: record.implementationStatus, by: record.reportedBy },
            'implementation status reported',
          );
          return { outcome: 'changed', flag: viewOf(book.get(record.flagId) ?? record, osloDate(), false) };
        }),
    );

    app.get(
      '/hdir/v1/alerts',
      {
        onRequest: read,
        schema: {
          operationId: 'listImplementationAlerts',
          summary: 'Implementation runs past their deadline, the latest first',
          tags: ['hdir'],
          security: [{ bearer: [settings.HDIR_READ_SCOPE] }],
          response: {
            200: json(
              'Every overdue run',
              object({
                asOf: dateText,
                defaultDeadlineDays: integer,
                count: integer,
                alerts: arrayOf(
                  object({
                    flagId: text,
                    methodId: text,
                    methodName: nullable(text),
                    guidelineId: text,
                    implementationStatus: text,
                    decidedOn: nullable(dateText),
                    deadline: dateText,
                    daysOverdue: integer,
                  }),
                ),
              }),
            ),
            ...errors,
          },
        },
      },
      async () => {
        const alerts = parts.watch.check(book.all());
        return {
          asOf: osloDate(),
          defaultDeadlineDays: settings.HDIR_DEADLINE_DAYS,
          count: alerts.length,
          alerts,
        };
      },
    );

    app.get(
      '/hdir/v1/implementation-times',
      {
        onRequest: read,
        schema: {
          summary:
            'Days from decision to implemented per guideline (median, p90, max), open and overdue runs',
          operationId: 'getImplementationTimes',
          tags: ['hdir'],
          security: [{ bearer: [settings.HDIR_READ_SCOPE] }],
          response: {
            200: json(
              'Per guideline with flagged methods',
              object({
                asOf: dateText,
                guidelines: arrayOf(
                  object({
                    guidelineId: text,
                    guidelineName: nullable(text),
                    implemented: integer,
                    medianDays: nullable({ type: 'number' }),
                    p90Days: nullable({ type: 'number' }),
                    maxDays: nullable({ type: 'number' }),
                    open: integer,
                    overdue: integer,
                  }),
                ),
              }),
            ),
            ...errors,
          },
        },
      },
      async () => ({
        asOf: osloDate(),
        guidelines: implementationTimes(book.all(), rules(), settings.HDIR_DEADLINE_DAYS, osloDate()),
      }),
    );

    app.get(
      '/hdir/v1/guidelines',
      {
        onRequest: read,
        schema: {
          operationId: 'getGuidelineCatalogue',
          summary: 'The guideline catalogue and the rules that flag methods',
          tags: ['hdir'],
          security: [{ bearer: [settings.HDIR_READ_SCOPE] }],
          response: {
            200: json(
              'Where the catalogue was read from, its guidelines and its flagging rules',
              object({
                source: text,
                defaultDeadlineDays: integer,
                guidelines: arrayOf(described('A guideline or cancer programme: code, kind, name, deadline')),
                rules: arrayOf(
                  described('A rule: which methods (ATC, substance, specialty) flag which guideline'),
                ),
              }),
            ),
            ...errors,
          },
        },
      },
      async () => ({
        source: rules().source,
        defaultDeadlineDays: settings.HDIR_DEADLINE_DAYS,
        guidelines: [...rules().guidelines.values()],
        rules: rules().rules,
      }),
    );
  };
}

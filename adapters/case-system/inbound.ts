/**
 * Case-system ingress over HTTP: `POST /api/v1/case-events` takes one event or a batch, judges the whole
 * batch against the current state as if appended in order, and only if every event passes writes them in
 * one Kafka transaction (acks from all in-sync replicas). It answers once the read model has folded them.
 * Requests are handled one at a time, so each batch is judged against everything accepted before it, and
 * only after the read model has read the log to its end: an event id in the log is a duplicate, also just
 * after a restart or a write whose answer was lost. Every request is answered within
 * INGRESS_WRITE_TIMEOUT_MS; what cannot be judged or written by then gets 503 with Retry-After.
 * With several hub instances only the leader of the `case-events` role judges (two judging at once could both
 * accept conflicting events); the others forward each request to it and relay its answer (core/http/leaderForward.ts).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { forwardToLeader } from '../../core/http/leaderForward.ts';
import { sendProblem, problemSchema, type ProblemItem } from '../../core/http/problem.ts';
import type { CaseEventDoorOptions } from '../../core/hub/component.ts';
import type { MethodStore } from '../../core/lifecycle/methodStore.ts';
import { loggerFor } from '../../core/log/logger.ts';
import { caseEventJsonSchema, caseEventsFromBody, EVENTS_TOPIC } from './mapping.ts';

/** What the door is given: core/hub/component.ts declares it, so the hub knows no adapter. */
export type IngressOptions = CaseEventDoorOptions;
export type { EventLogReader } from '../../core/hub/component.ts';

export interface EventResult {
  index: number;
  eventId: string;
  methodId: string;
  /** applied: folded into the method; duplicate: sent before, nothing done; accepted: written, not yet folded. */
  outcome: 'applied' | 'duplicate' | 'accepted';
  status?: string;
  version?: number;
}

/** A request waiting for its turn, and how to answer it. */
interface Turn {
  events: MethodEvent[];
  reply: FastifyReply;
  correlationId: string;
  traceparent: string | undefined;
  deadline: number;
  done: (sent: FastifyReply | 'timeout') => void;
  fail: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

const log = loggerFor('case-system-ingress');

/** The answer to a batch: one result per event, in the order sent. */
const caseEventResults = {
  type: 'object',
  required: ['results'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'eventId', 'methodId', 'outcome'],
        properties: {
          index: { type: 'integer' },
          eventId: { type: 'string' },
          methodId: { type: 'string' },
          outcome: { type: 'string', enum: ['applied', 'duplicate', 'accepted'] },
          status: { type: 'string', description: "The method's status after the event" },
          version: { type: 'integer', description: "The method's state version after the event" },
        },
      },
    },
  },
};

export function caseEventIngress(options: IngressOptions) {
  const { store, producer, config } = options;
  const budget = config.INGRESS_WRITE_TIMEOUT_MS;
  const waiting: Turn[] = [];
  let draining = false;
  /**
   * Queues a request for its turn, unless its turn does not come before its deadline. Requests that wait together
   * are judged in order, each against all accepted before it, and written in one transaction (group commit).
   */
  const inTurn = (turn: Omit<Turn, 'done' | 'fail' | 'timer'>): Promise<FastifyReply | 'timeout'> =>
    new Promise((resolve, reject) => {
      const queued: Turn = {
        ...turn,
        done: resolve,
        fail: reject,
        timer: setTimeout(
          () => {
            waiting.splice(waiting.indexOf(queued), 1);
            resolve('timeout');
          },
          Math.max(0, turn.deadline - Date.now()),
        ),
      };
      waiting.push(queued);
      void drain();
    });
  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while (waiting.length > 0) {
        // At least one request, and no more events than one request may carry, so the transaction stays one request's size.
        let events = 0;
        let taken = 0;
        while (
          taken < waiting.length &&
          (taken === 0 || events + waiting[taken]!.events.length <= config.INGRESS_MAX_BATCH)
        )
          events += waiting[taken++]!.events.length;
        const group = waiting.splice(0, taken);
        for (const turn of group) clearTimeout(turn.timer);
        await commitGroup(group).catch((error: unknown) => {
          for (const turn of group) turn.fail(error);
        });
      }
    } finally {
      draining = false;
    }
  };
  const unavailable = (reply: FastifyReply, code: string, detail: string) => {
    reply.header('retry-after', String(config.INGRESS_RETRY_AFTER_SECONDS));
    return sendProblem(reply, 503, code, detail);
  };

  /** Judges, writes and answers one group of requests; a request's answer is as if it had been alone in its turn. */
  const commitGroup = async (group: Turn[]): Promise<void> => {
    const deadline = Math.min(...group.map((t) => t.deadline));
    const left = () => Math.max(1, deadline - Date.now());
    const everyone = (answer: (turn: Turn) => FastifyReply) => {
      for (const turn of group) turn.done(answer(turn));
    };
    if (!options.log.caughtUp) {
      return everyone((t) =>
        unavailable(
          t.reply,
          'NOT_READY',
          `the hub is still reading the event log (${store.size} methods so far) and cannot yet tell a new event from a resend; nothing was written, resend the same request`,
        ),
      );
    }
    if (producer.outcomeUncertain) {
      try {
        await producer.reconcile(left());
      } catch (error) {
        return everyone((t) =>
          unavailable(
            t.reply,
            'BUS_UNAVAILABLE',
            `an earlier write to Kafka has no known outcome yet (${(error as Error).message}); nothing was written, resend the same request`,
          ),
        );
      }
    }
    // Judging against a read model behind the log would write a committed event again.
    if (!(await options.log.reachEnd(left()))) {
      return everyone((t) =>
        unavailable(
          t.reply,
          'BUS_UNAVAILABLE',
          `could not read the event log to its end within ${budget} ms (Kafka unreachable or slow); nothing was written, resend the same request`,
        ),
      );
    }
    const judge = store.judge();
    const writing: { turn: Turn; outcomes: string[]; fresh: MethodEvent[] }[] = [];
    for (const turn of group) {
      const { events } = turn;
      const verdicts = judge.next(events);
      const refused: ProblemItem[] = [];
      verdicts.forEach((v, index) => {
        if (v.outcome !== 'rejected') return;
        for (const e of v.errors) {
          refused.push({
            index,
            eventId: events[index]!.eventId,
            methodId: events[index]!.methodId,
            code: e.code,
            reason: e.reason,
          });
        }
      });
      if (refused.length > 0) {
        const conflict = refused.every((r) => r.code === 'EVENT_ID_REUSED');
        turn.done(
          sendProblem(
            turn.reply,
            conflict ? 409 : 422,
            conflict ? 'EVENT_ID_REUSED' : 'REJECTED',
            `${new Set(refused.map((r) => r.index)).size} of ${events.length} event(s) refused; nothing was written`,
            refused,
          ),
        );
        continue;
      }
      judge.keep(events, verdicts);
      writing.push({
        turn,
        outcomes: verdicts.map((v) => v.outcome),
        fresh: events.filter((_, i) => verdicts[i]!.outcome === 'applied'),
      });
    }
    if (writing.length === 0) return;
    try {
      await producer.sendAtomically(
        EVENTS_TOPIC,
        writing.flatMap(({ turn, fresh }) =>
          fresh.map((event) => ({
            key: event.methodId,
            value: event,
            headers: newHeaders({
              id: event.eventId,
              source: '/metodehub/case-system',
              type: `no.nyemetoder.method.${event.type}`,
              subject: event.methodId,
              correlationId: turn.correlationId,
              ...(turn.traceparent ? { traceparent: turn.traceparent } : {}),
            }),
          })),
        ),
        { to: options.eventsTopic, timeoutMs: left() },
      );
    } catch (error) {
      log.error(
        { err: (error as Error).message, correlationIds: writing.map((w) => w.turn.correlationId) },
        'could not write case events',
      );
      for (const { turn } of writing)
        turn.done(
          unavailable(
            turn.reply,
            'BUS_UNAVAILABLE',
            `Kafka did not confirm the events (${(error as Error).message}); resend the same request: what was written is then answered as a duplicate`,
          ),
        );
      return;
    }
    await store.whenSettled(
      writing.flatMap((w) => w.fresh.map((e) => e.eventId)),
      config.INGRESS_SETTLE_TIMEOUT_MS,
    );
    for (const { turn, outcomes, fresh } of writing) {
      const settled = fresh.every((e) => store.settlementOf(e.eventId) !== undefined);
      turn.done(answer(turn.reply, turn.events, outcomes, settled, store));
    }
  };

  return async (app: FastifyInstance) => {
    app.post<{ Body: unknown; Headers: { 'x-correlation-id'?: string; traceparent?: string } }>(
      '/api/v1/case-events',
      {
        onRequest: app.requireScope(config.AUTH_WRITE_SCOPE),
        schema: {
          operationId: 'postCaseEvents',
          summary: 'Post one case event or an array of them (a batch: all accepted or none)',
          description:
            'The JSON face of the method-events contract. Resending an event with the same eventId is harmless. ' +
            'The answer comes after Kafka has the events (acks=all): 200 once the hub has folded them into method ' +
            'state, 202 when it has not within INGRESS_SETTLE_TIMEOUT_MS.',
          tags: ['case-events'],
          security: [{ bearer: [config.AUTH_WRITE_SCOPE] }],
          body: { oneOf: [caseEventJsonSchema, { type: 'array', items: caseEventJsonSchema }] },
          response: {
            200: { ...caseEventResults, description: 'Written to Kafka and folded into method state' },
            202: {
              ...caseEventResults,
              description:
                'Written to Kafka; not yet folded within INGRESS_SETTLE_TIMEOUT_MS (outcome accepted)',
            },
            400: problemSchema,
            401: problemSchema,
            403: problemSchema,
            409: problemSchema,
            413: problemSchema,
            422: problemSchema,
            503: problemSchema,
          },
        },
        // The handler validates every event itself, so one report lists each problem of each event.
        validatorCompiler: () => () => true,
        ...(options.leadership
          ? {
              preHandler: forwardToLeader(options.leadership, {
                budgetMs: budget,
                retryAfterSeconds: config.INGRESS_RETRY_AFTER_SECONDS,
                // Read-your-writes here too: what the leader applied is folded on this instance before the answer.
                beforeRelay: async (_request, status, body) => {
                  if (status !== 200) return;
                  const applied = ((JSON.parse(body) as { results?: EventResult[] }).results ?? [])
                    .filter((r) => r.outcome === 'applied')
                    .map((r) => r.eventId);
                  if (applied.length > 0) await store.whenSettled(applied, config.INGRESS_SETTLE_TIMEOUT_MS);
                },
              }),
            }
          : {}),
      },
      async (request, reply) => {
        // The route validates its body itself (one report for every event), so its query is checked here.
        const unknown = Object.keys((request.query ?? {}) as Record<string, unknown>);
        if (unknown.length > 0)
          return sendProblem(
            reply,
            400,
            'UNKNOWN_QUERY_PARAMETER',
            `POST /api/v1/case-events takes no query parameters; unknown: ${unknown.join(', ')}`,
            unknown.map((name) => ({
              code: 'UNKNOWN_FIELD',
              path: `query.${name}`,
              reason: `unknown query parameter "${name}"`,
            })),
          );
        const mapped = caseEventsFromBody(request.body, config.INGRESS_MAX_BATCH);
        if (!mapped.ok) {
          const count = new Set(mapped.problems.map((p) => p.index)).size;
          return sendProblem(
            reply,
            mapped.status,
            mapped.status === 413 ? 'BATCH_TOO_LARGE' : 'INVALID_EVENT',
            mapped.status === 413
              ? mapped.problems[0]!.reason
              : `${count} event(s) do not match the method-events contract; nothing was written`,
            mapped.problems,
          );
        }
        const handled = await inTurn({
          events: mapped.events,
          reply,
          correlationId: request.headers['x-correlation-id'] ?? randomUUID(),
          traceparent: request.headers.traceparent,
          deadline: Date.now() + budget,
        });
        if (handled !== 'timeout') return handled;
        return unavailable(
          reply,
          'BUS_UNAVAILABLE',
          `earlier case events are still being written (Kafka slow or unreachable), so this request was not judged within ${budget} ms; nothing was written, resend the same request`,
        );
      },
    );
  };
}

function answer(
  reply: import('fastify').FastifyReply,
  events: MethodEvent[],
  outcomes: string[],
  settled: boolean,
  store: MethodStore,
) {
  const results: EventResult[] = [];
  const refusedAfterWrite: ProblemItem[] = [];
  events.forEach((event, index) => {
    const base = { index, eventId: event.eventId, methodId: event.methodId };
    if (outcomes[index] === 'duplicate') {
      const state = store.stateOf(event.methodId);
      results.push({ ...base, outcome: 'duplicate', status: state?.status, version: state?.version });
      return;
    }
    const settlement = store.settlementOf(event.eventId);
    if (settlement?.outcome === 'applied') {
      results.push({
        ...base,
        outcome: 'applied',
        status: settlement.state.status,
        version: settlement.state.version,
      });
    } else if (settlement?.outcome === 'rejected') {
      for (const e of settlement.errors) refusedAfterWrite.push({ ...base, code: e.code, reason: e.reason });
    } else results.push({ ...base, outcome: 'accepted' });
  });
  if (refusedAfterWrite.length > 0) {
    // Another writer got in between (e.g. straight to Kafka): the log has the event, the fold refused it.
    return sendProblem(
      reply,
      409,
      'REFUSED_AFTER_WRITE',
      'written, but another change to the same method came first and the state machine refused these; see the dead-letter topic',
      refusedAfterWrite,
    );
  }
  return reply.code(settled ? 200 : 202).send({ results });
}

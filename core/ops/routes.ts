/**
 * The operations API: dead letters (list, inspect, redrive, discard with an audit record) under
 * `/ops/api/dead-letters`, and `/healthz` (the process) and `/readyz` (Kafka, the registry, every adapter's partner).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kafka } from 'kafkajs';
import { describeKafka } from '../bus/kafka.ts';
import { requestHasScope } from '../http/auth.ts';
import type { ComponentHealth } from '../hub/component.ts';
import { problem, problemSchema, sendProblem } from '../http/problem.ts';
import { arrayOf, described, integer, json, nullable, object, text } from '../http/responses.ts';
import { methodIdError } from '../lifecycle/identifiers.ts';
import { DeadLetterError, DeadLetterTools, type ViewOptions } from './deadLetters.ts';
import { dashboardPage } from './dashboardPage.ts';
import type { FlowPicture } from './flow.ts';
import type { FollowUpAlerts } from '../followup/followUp.ts';
import type { TraceEntry } from './trace.ts';

export interface OpsRoutesOptions {
  tools: DeadLetterTools;
  /** The live picture of the flow (see flow.ts). */
  flow: () => Promise<FlowPicture>;
  /** Every message about one method, in order (see trace.ts). */
  trace: (methodId: string, view: ViewOptions) => Promise<TraceEntry[]>;
  kafka: Kafka;
  registryUrl: string;
  /** The Authorization header the registry needs, if any. */
  registryAuthorization?: string | undefined;
  opsScope: string;
  /** Scope that also shows confidential fields in the operations views; without it they are redacted. */
  confidentialScope: string;
  /** Health of every running adapter, by name. */
  adapters: () => Promise<Record<string, ComponentHealth>>;
  /** Whether the hub's own read model has caught up. */
  caughtUp: () => boolean;
  /** Follow-up alerts on the hub's clock (reassessment dates, absolute deadlines), when the API runs. */
  followUp?: () => FollowUpAlerts;
}

const statusOf: Record<DeadLetterError['code'], number> = {
  NO_SUCH_ENTRY: 404,
  INVALID_ENTRY_ID: 400,
  ALREADY_SETTLED: 409,
  UNKNOWN_TOPIC: 400,
  SETTLEMENT_FAILED: 503,
};

const failed = (reply: FastifyReply, error: unknown) => {
  if (error instanceof DeadLetterError) {
    const status = statusOf[error.code];
    return reply
      .code(status)
      .type('application/problem+json')
      .send({
        ...problem(status, error.code, error.message),
        ...(error.settled ? { settled: error.settled } : {}),
      });
  }
  throw error;
};

/** A problem that may say how an entry was settled (409 ALREADY_SETTLED). */
const settledProblemSchema = {
  ...problemSchema,
  properties: {
    ...problemSchema.properties,
    settled: { type: 'object', additionalProperties: true, description: 'How, by whom and when.' },
  },
};

const noteBody = (required: boolean) => ({
  type: 'object',
  additionalProperties: false,
  ...(required ? { required: ['note'] } : {}),
  properties: {
    note: {
      type: 'string',
      minLength: required ? 3 : 0,
      maxLength: 2000,
      description: required ? 'Why it is discarded: kept in the audit record.' : 'The fix that was made.',
    },
  },
});

async function probe(name: string, check: () => Promise<string>): Promise<[string, ComponentHealth]> {
  try {
    return [name, { ok: true, detail: await check() }];
  } catch (error) {
    return [name, { ok: false, detail: (error as Error).message }];
  }
}

const deadLetterEntry = described(
  'A dead letter: entry id, source topic, partition and offset, the consumer that refused it, error class and reason, and what was done with it',
);
const deadLetterAction = described(
  'What was done (redriven or discarded), by whom, when, with the audit record',
);

export function opsRoutes(options: OpsRoutesOptions) {
  const { tools, opsScope } = options;
  const viewOf = (request: FastifyRequest): ViewOptions => ({
    revealConfidential: requestHasScope(request, options.confidentialScope),
  });
  return async (app: FastifyInstance) => {
    const guard = { onRequest: app.requireScope(opsScope) };
    const tags = ['operations'];
    const security = [{ bearer: [opsScope] }];
    const entryParams = {
      type: 'object',
      properties: { entryId: { type: 'string', description: '<topic>.dlq:<partition>:<offset>' } },
    };

    app.get<{ Querystring: { topic?: string; pending?: boolean; consumer?: string } }>(
      '/ops/api/dead-letters',
      {
        ...guard,
        schema: {
          operationId: 'listDeadLetters',
          summary: 'Every dead letter on every <topic>.dlq, with its reason and what was done with it',
          tags,
          security,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              topic: { type: 'string', description: 'Only this topic (or its .dlq).' },
              pending: { type: 'boolean', description: 'Only those neither redriven nor discarded.' },
              consumer: {
                type: 'string',
                description: 'Only those this consumer (handler, e.g. financing) refused.',
              },
            },
          },
          response: {
            200: json(
              'Each entry (one consumer refusing one record), and the same grouped by record',
              object({
                count: integer,
                recordCount: integer,
                entries: arrayOf(deadLetterEntry),
                records: arrayOf(described('One refused record and every entry (consumer) that refused it')),
              }),
            ),
            400: problemSchema,
          },
        },
      },
      async (request, reply) => {
        try {
          const entries = await tools.list(request.query, viewOf(request));
          // One poison record refused by several consumers is one record with several entries.
          const records = DeadLetterTools.byRecord(entries);
          return { count: entries.length, recordCount: records.length, entries, records };
        } catch (error) {
          return failed(reply, error);
        }
      },
    );

    app.get<{ Params: { entryId: string } }>(
      '/ops/api/dead-letters/:entryId',
      {
        ...guard,
        schema: {
          operationId: 'getDeadLetter',
          summary: 'One dead letter: decoded with its contract where possible, its headers and reason',
          tags,
          security,
          params: entryParams,
          response: {
            200: json('The entry, its headers and its value decoded where possible', deadLetterEntry),
            400: problemSchema,
            404: problemSchema,
          },
        },
      },
      async (request, reply) => {
        try {
          return await tools.inspect(request.params.entryId, viewOf(request));
        } catch (error) {
          return failed(reply, error);
        }
      },
    );

    app.post<{ Params: { entryId: string }; Body: { note?: string } | undefined }>(
      '/ops/api/dead-letters/:entryId/redrive',
      {
        ...guard,
        schema: {
          summary:
            'Put a dead letter back on its source topic, for the consumer that refused it, once the cause is fixed; once only (409 after)',
          operationId: 'redriveDeadLetter',
          tags,
          security,
          params: entryParams,
          body: noteBody(false),
          response: {
            200: json('Redriven: where the copy went, and the audit record', deadLetterAction),
            400: problemSchema,
            404: problemSchema,
            409: settledProblemSchema,
            503: problemSchema,
          },
        },
      },
      async (request, reply) => {
        try {
          return await tools.redrive(
            request.params.entryId,
            request.subject ?? 'unknown',
            request.body?.note,
          );
        } catch (error) {
          return failed(reply, error);
        }
      },
    );

    app.post<{ Params: { entryId: string }; Body: { note: string } }>(
      '/ops/api/dead-letters/:entryId/discard',
      {
        ...guard,
        schema: {
          operationId: 'discardDeadLetter',
          summary: 'Mark a dead letter as not wanted, with why; the audit record keeps who and when',
          tags,
          security,
          params: entryParams,
          body: noteBody(true),
          response: {
            200: json('Discarded: the audit record', deadLetterAction),
            400: problemSchema,
            404: problemSchema,
            409: settledProblemSchema,
            503: problemSchema,
          },
        },
      },
      async (request, reply) => {
        try {
          return await tools.discard(request.params.entryId, request.subject ?? 'unknown', request.body.note);
        } catch (error) {
          return failed(reply, error);
        }
      },
    );

    app.get<{ Params: { methodId: string } }>(
      '/ops/trace/:methodId',
      {
        ...guard,
        schema: {
          operationId: 'traceMethod',
          summary: 'Every message about one method across all topics and adapters, in order, with latencies',
          description:
            'latencyMs is the time from the method event that caused a message (same correlation id, else the latest before it) to that message.',
          tags,
          security,
          params: {
            type: 'object',
            properties: { methodId: { type: 'string', description: 'e.g. ID2019_074' } },
          },
          response: {
            200: json(
              'Every message, oldest first',
              object({
                methodId: text,
                messages: integer,
                maxLatencyMs: nullable(integer),
                entries: arrayOf(
                  described(
                    'One message: topic, partition, offset, type, ids, latencyMs, what caused it, its dead letter and its decoded value',
                  ),
                ),
              }),
            ),
            400: problemSchema,
          },
        },
      },
      async (request, reply) => {
        const { methodId } = request.params;
        const invalid = methodIdError(methodId);
        if (invalid) return sendProblem(reply, 400, invalid.code, invalid.reason);
        const entries = await options.trace(methodId, viewOf(request));
        const latencies = entries.flatMap((e) => (e.latencyMs === null ? [] : [e.latencyMs]));
        return {
          methodId,
          messages: entries.length,
          maxLatencyMs: latencies.length > 0 ? Math.max(...latencies) : null,
          entries,
        };
      },
    );

    app.get('/ops/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(dashboardPage),
    );
    app.get('/ops', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/ops/'));

    app.get(
      '/ops/api/flow',
      {
        ...guard,
        schema: {
          summary:
            'The message flow now: partners, components, topics; every edge with rate, lag, dead letters, last message; the last hour',
          operationId: 'getFlow',
          tags,
          security,
          response: {
            200: json(
              'The flow picture',
              described(
                'Nodes (partners, components, topics) with health, and edges with rate, lag and state',
              ),
            ),
          },
        },
      },
      async () => options.flow(),
    );

    app.get(
      '/ops/api/follow-up',
      {
        ...guard,
        schema: {
          summary:
            "Follow-up alerts for the dashboard, on the hub's clock: temporary introductions near or past their reassessment date with no reassessment started, paused assessments near or past their absolute deadline (the same as GET /api/v1/follow-up/alerts)",
          operationId: 'getOpsFollowUp',
          tags,
          security,
          response: {
            200: json(
              'As GET /api/v1/follow-up/alerts answers',
              described('today, reassessment and absoluteDeadlines'),
            ),
            404: problemSchema,
          },
        },
      },
      async (_request, reply) =>
        options.followUp
          ? options.followUp()
          : sendProblem(
              reply,
              404,
              'NO_READ_MODEL',
              'this hub runs without the api component, so it keeps no follow-up',
            ),
    );

    app.get('/healthz', { schema: { hide: true } }, async () => ({
      status: 'up',
      uptimeSeconds: Math.round(process.uptime()),
    }));

    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      const checks = Object.fromEntries(
        await Promise.all([
          probe('kafka', () => describeKafka(options.kafka)),
          probe('registry', async () => {
            const answer = await fetch(`${options.registryUrl.replace(/\/$/, '')}/subjects`, {
              signal: AbortSignal.timeout(3000),
              ...(options.registryAuthorization
                ? { headers: { authorization: options.registryAuthorization } }
                : {}),
            });
            if (!answer.ok) throw new Error(`the registry answered ${answer.status}`);
            return `${((await answer.json()) as unknown[]).length} subjects`;
          }),
          probe('event log', async () => {
            if (!options.caughtUp()) throw new Error('still reading the event log');
            return 'read to its end';
          }),
        ]),
      );
      const adapters = await options.adapters();
      const ready = Object.values(checks).every((c) => c.ok) && Object.values(adapters).every((a) => a.ok);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks, adapters });
    });
  };
}

/**
 * The JCA intake: `POST /jca/v1/intake` takes one notification as JSON or XML, checks it, keeps it if it
 * is refused, takes each (procedureId, procedureVersion) once, links it to national methods (or proposes
 * a new one), writes the method events and then the notification, and answers with where the procedure
 * stands. Requests are handled one at a time, so each is judged against everything taken in before it.
 * Reads: the procedures (with their PICOs per member state), Norway's PICOs for a national method, the
 * timeline (overdue and upcoming milestones) and the rejected documents.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JcaLinkOutcome, JcaNotification, MethodEvent } from '../../contracts/generated/types.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import type { ContractProducer } from '../../core/bus/producer.ts';
import {
  type ProblemItem,
  problemSchema,
  sendProblem,
  sendValidationProblem,
} from '../../core/http/problem.ts';
import type { MethodStore } from '../../core/lifecycle/methodStore.ts';
import type { Logger } from '../../core/log/logger.ts';
import { ContractViolation } from '../../core/bus/errors.ts';
import { contractFor } from '../../core/contracts/catalogue.ts';
import { violationsOf } from '../../core/contracts/validity.ts';
import { arrayOf, described, integer, json, object, text } from '../../core/http/responses.ts';
import { invalidUtf8Offset } from '../../core/http/server.ts';
import { decideLink, type LinkCandidate } from './linking.ts';
import {
  jcaLinkEvent,
  newIndicationLinkEvent,
  notificationOf,
  proposalEvent,
  proposalMethodId,
  withLinks,
} from './mapping.ts';
import { type Checked, documentFromJson, type JcaDocument } from './notification.ts';
import type { JcaProcedures } from './procedures.ts';
import type { RejectedDocuments } from './rejections.ts';
import type { JcaConfig } from './settings.ts';
import { timelineSchema } from './routes.ts';
import { jcaReadRoutes, timelineFor, unknownProcedure } from './routes.ts';
import { documentFromXml } from './xmlDocument.ts';
import { Topics } from '../../contracts/topics.ts';
import { oneAtATime as serialQueue } from '../../core/concurrency/oneAtATime.ts';

export interface JcaIntakeOptions {
  settings: JcaConfig;
  producer: ContractProducer;
  /** The national method catalogue, folded from the method events. */
  store: MethodStore;
  procedures: JcaProcedures;
  rejected: RejectedDocuments;
  eventsTopic: string;
  notificationsTopic: string;
  /** Whether the catalogue and the procedures have been read to the end of their topics. */
  ready: () => boolean;
  log: Logger;
  now?: () => Date;
}

export interface LinkingAnswer {
  outcome: JcaLinkOutcome;
  linkedMethodIds: string[];
  candidates: LinkCandidate[];
  proposedMethodId: string | null;
}

const XML = /^(application|text)\/([\w.+-]*\+)?xml\b/i;
const NOTIFICATIONS_TOPIC = Topics.jcaNotifications;
const EVENTS_TOPIC = Topics.methodEvents;
const MEDIA_TYPES = ['application/json', 'application/xml', 'text/xml'];
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const itemsOf = (problems: { code: string; path: string; reason: string }[]): ProblemItem[] =>
  problems.map((p) => ({ code: p.code, path: p.path, reason: p.reason }));

const intakeDuplicate = object({
  outcome: { type: 'string', enum: ['duplicate'] },
  procedureId: text,
  procedureVersion: integer,
  detail: text,
  notification: described('The version taken in earlier (the eu.jca-notifications.v1 contract)'),
  timeline: timelineSchema,
});
const intakeAccepted = object({
  outcome: { type: 'string', enum: ['accepted'] },
  procedureId: text,
  procedureVersion: integer,
  milestone: text,
  outOfOrder: { type: 'boolean' },
  outOfOrderReasons: arrayOf(text),
  linking: described(
    'How it was linked to national methods (LINKED, AMBIGUOUS, UNMATCHED) and any refused events',
  ),
  methodEventIds: arrayOf(text),
  nationalComplementNeeded: arrayOf(
    text,
    'The national parts Norway still has to add (health economics, ...)',
  ),
  timeline: timelineSchema,
});

export function jcaIntakeRoutes(options: JcaIntakeOptions) {
  const { settings, producer, store, procedures, rejected, log } = options;
  const now = options.now ?? (() => new Date());
  const issuedIds = new Set<string>();
  const oneAtATime = serialQueue();
  const timeline = timelineFor(settings, now);

  /** Refuses a request and keeps what was sent. */
  async function refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    code: string,
    detail: string,
    errors: ProblemItem[] = [],
    body: string | null = null,
  ) {
    const entry = await rejected.keepRejected({
      status,
      code,
      detail,
      errors,
      body,
      contentType: request.headers['content-type'] ?? null,
      bytes: body === null ? Number(request.headers['content-length'] ?? 0) : undefined,
      sender: request.subject ?? null,
    });
    reply.header('x-rejection-id', entry.rejectionId);
    return sendProblem(
      reply,
      status,
      code,
      `${detail} (kept for inspection as ${entry.rejectionId})`,
      errors,
    );
  }

  /** What to link, what to write. */
  function link(doc: JcaDocument, base: JcaNotification, occurredAt: string) {
    const previous = procedures.procedure(doc.procedureId)?.linkedMethodIds ?? [];
    const events: MethodEvent[] = [];
    const alreadyLinked = (methodId: string) =>
      (store.stateOf(methodId)?.links ?? []).some(
        (l) => l.relation === 'JOINT_CLINICAL_ASSESSMENT' && l.target === doc.procedureId,
      );
    if (previous.length > 0) {
      for (const id of previous.filter((m) => store.stateOf(m) && !alreadyLinked(m)))
        events.push(jcaLinkEvent(id, base, 'linked earlier', occurredAt));
      const answer: LinkingAnswer = {
        outcome: 'LINKED',
        linkedMethodIds: previous,
        candidates: [],
        proposedMethodId: null,
      };
      return { answer, events };
    }
    const decision = decideLink(
      { inn: doc.technology.inn, atcCode: doc.technology.atcCode, indication: doc.indication },
      store.states(),
      {
        link: settings.JCA_LINK_SCORE,
        candidate: settings.JCA_CANDIDATE_SCORE,
        margin: settings.JCA_AMBIGUITY_MARGIN,
        sameIndication: settings.JCA_SAME_INDICATION,
      },
    );
    if (decision.outcome === 'LINKED') {
      const best = decision.candidates[0]!;
      for (const id of decision.methodIds.filter((m) => !alreadyLinked(m)))
        events.push(
          jcaLinkEvent(id, base, `matched on ${best.reasons.join(', ')}; score ${best.score}`, occurredAt),
        );
      const answer: LinkingAnswer = {
        outcome: 'LINKED',
        linkedMethodIds: decision.methodIds,
        candidates: decision.candidates,
        proposedMethodId: null,
      };
      return { answer, events };
    }
    if (decision.outcome === 'AMBIGUOUS' || doc.milestone === 'WITHDRAWN' || !settings.JCA_RAISE_PROPOSALS) {
      const answer: LinkingAnswer = {
        outcome: decision.outcome === 'AMBIGUOUS' ? 'AMBIGUOUS' : 'NOT_LINKED',
        linkedMethodIds: [],
        candidates: decision.candidates,
        proposedMethodId: null,
      };
      return { answer, events };
    }
    const year = Number(occurredAt.slice(0, 4));
    const methodId = proposalMethodId(year, (id) => issuedIds.has(id) || store.stateOf(id) !== undefined);
    events.push(proposalEvent(methodId, doc, occurredAt));
    events.push(jcaLinkEvent(methodId, base, 'proposed from this JCA', occurredAt));
    if (decision.outcome === 'NEW_INDICATION')
      events.push(newIndicationLinkEvent(methodId, decision.sameSubstanceAs, occurredAt));
    const answer: LinkingAnswer = {
      outcome: 'NEW_PROPOSAL',
      linkedMethodIds: [methodId],
      candidates: decision.candidates,
      proposedMethodId: methodId,
    };
    return { answer, events };
  }

  /** Writes method events (one transaction), then the notification; both or an error. */
  async function publish(notification: JcaNotification, events: MethodEvent[], correlationId: string) {
    const notificationId = randomUUID();
    await producer.sendAtomically(
      Topics.methodEvents,
      events.map((event) => ({
        key: event.methodId,
        value: event,
        headers: newHeaders({
          id: event.eventId,
          source: '/metodehub/eu-jca',
          type: `no.nyemetoder.method.${event.type}`,
          subject: event.methodId,
          correlationId,
          causationId: notificationId,
        }),
      })),
      { to: options.eventsTopic },
    );
    await producer.send(
      Topics.jcaNotifications,
      [
        {
          key: notification.procedureId,
          value: notification,
          headers: newHeaders({
            id: notificationId,
            source: '/metodehub/eu-jca',
            type: `no.nyemetoder.eujca.${notification.milestone}`,
            subject: notification.procedureId,
            correlationId,
          }),
        },
      ],
      { to: options.notificationsTopic },
    );
    procedures.offer(notification);
    for (const e of events) if (e.type === 'METHOD_REGISTERED') issuedIds.add(e.methodId);
    await store.whenSettled(
      events.map((e) => e.eventId),
      settings.JCA_SETTLE_TIMEOUT_MS,
    );
  }

  async function take(request: FastifyRequest, reply: FastifyReply, doc: JcaDocument, body: string) {
    const receivedAt = now().toISOString();
    const base = notificationOf(doc, receivedAt);
    // The one definition of a valid value: what is taken in here can be carried by every adapter.
    const outside = violationsOf(contractFor(NOTIFICATIONS_TOPIC).schema, base);
    if (outside.length > 0) {
      return refuse(
        request,
        reply,
        400,
        'INVALID_NOTIFICATION',
        `${outside.length} field(s) outside the limits of the JCA notification contract; nothing was taken in`,
        outside.map((v) => ({ code: 'OUT_OF_LIMITS', path: v.path, reason: v.reason })),
        body,
      );
    }
    const judgement = procedures.judge(base);
    if (judgement.outcome === 'duplicate') {
      const procedure = procedures.procedure(doc.procedureId)!;
      return reply.code(200).send({
        outcome: 'duplicate',
        procedureId: doc.procedureId,
        procedureVersion: doc.procedureVersion,
        detail: `version ${doc.procedureVersion} was taken in on ${judgement.existing.receivedAt}; nothing was done`,
        notification: judgement.existing,
        timeline: timeline(procedure),
      });
    }
    if (judgement.outcome === 'conflict') {
      return refuse(
        request,
        reply,
        409,
        'VERSION_REUSED',
        `version ${doc.procedureVersion} of ${doc.procedureId} was taken in on ${judgement.existing.receivedAt} with other content; a changed notification needs a new procedureVersion`,
        [],
        body,
      );
    }
    const { answer, events } = link(doc, base, receivedAt);
    const eventsOutside = events.flatMap((e) =>
      violationsOf(contractFor(EVENTS_TOPIC).schema, e).map((v) => ({
        code: 'OUT_OF_LIMITS',
        path: `(${e.type} for ${e.methodId}).${v.path}`,
        reason: v.reason,
      })),
    );
    if (eventsOutside.length > 0) {
      return refuse(
        request,
        reply,
        400,
        'INVALID_NOTIFICATION',
        'the method events this notification would make are outside their contract; nothing was taken in',
        eventsOutside,
        body,
      );
    }
    const verdicts = store.judgeBatch(events);
    const refusedEvents = verdicts.flatMap((v, i) =>
      v.outcome === 'rejected' ? v.errors.map((e) => `${events[i]!.methodId}: ${e.code} ${e.reason}`) : [],
    );
    let written = events.filter((_, i) => verdicts[i]!.outcome === 'applied');
    let linking = answer;
    if (refusedEvents.length > 0) {
      log.warn(
        { procedureId: doc.procedureId, refusedEvents },
        'link events refused; taking the JCA in unlinked',
      );
      written = [];
      linking = { ...answer, outcome: 'NOT_LINKED', linkedMethodIds: [], proposedMethodId: null };
    }
    const notification = withLinks(
      base,
      linking.outcome,
      linking.linkedMethodIds,
      linking.candidates,
      judgement.outOfOrder,
    );
    const correlationId = (request.headers['x-correlation-id'] as string | undefined) ?? randomUUID();
    try {
      await publish(notification, written, correlationId);
    } catch (error) {
      if (error instanceof ContractViolation)
        return refuse(request, reply, 422, 'INVALID_NOTIFICATION', error.message, [], body);
      log.error({ err: (error as Error).message, correlationId }, 'could not write a JCA notification');
      return sendProblem(
        reply,
        503,
        'BUS_UNAVAILABLE',
        `Kafka did not take the notification (${(error as Error).message}); resend the same document`,
      );
    }
    return reply.code(201).send({
      outcome: 'accepted',
      procedureId: doc.procedureId,
      procedureVersion: doc.procedureVersion,
      milestone: doc.milestone,
      outOfOrder: judgement.outOfOrder,
      outOfOrderReasons: judgement.reasons,
      linking: { ...linking, refusedEvents },
      methodEventIds: written.map((e) => e.eventId),
      nationalComplementNeeded: notification.nationalComplementNeeded,
      timeline: timeline(procedures.procedure(doc.procedureId)!),
    });
  }

  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        MEDIA_TYPES,
        { parseAs: 'buffer', bodyLimit: settings.JCA_MAX_BODY_BYTES },
        (request, body, done) => {
          const charset = /;\s*charset="?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
          if (charset && !/^utf-?8$/i.test(charset)) {
            const reason = `the body must be UTF-8; charset=${charset.slice(0, 40)} is not read, send UTF-8 and say so or say nothing`;
            return done(
              Object.assign(new Error(reason), { statusCode: 415, code: 'UNSUPPORTED_CHARSET' }),
              undefined,
            );
          }
          // Fatal decoding: a lenient one would take the notification in with U+FFFD where the bytes were.
          try {
            done(null, strictUtf8.decode(body as Buffer));
          } catch {
            const reason = `the body is not valid UTF-8: the byte at offset ${invalidUtf8Offset(body as Buffer)} starts an invalid sequence`;
            done(Object.assign(new Error(reason), { statusCode: 400, code: 'INVALID_UTF8' }), undefined);
          }
        },
      );
      scope.setErrorHandler(
        async (
          error: Error & { code?: string; statusCode?: number; validation?: unknown[] },
          request,
          reply,
        ) => {
          if (error.validation)
            return sendValidationProblem(reply, {
              ...error,
              message: error.message,
              validation: error.validation,
            });
          switch (error.code) {
            case 'FST_ERR_CTP_BODY_TOO_LARGE':
              return refuse(
                request,
                reply,
                413,
                'BODY_TOO_LARGE',
                `the body is larger than ${settings.JCA_MAX_BODY_BYTES} bytes; one JCA notification fits well within that, so send links to large documents, not the documents`,
              );
            case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
              return refuse(
                request,
                reply,
                415,
                'UNSUPPORTED_MEDIA_TYPE',
                `send the notification as application/json or application/xml, not ${request.headers['content-type'] ?? '(no content type)'}`,
              );
            case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
              return sendProblem(
                reply,
                400,
                'INVALID_CONTENT_LENGTH',
                'the body does not match its Content-Length',
              );
          }
          const status = error.statusCode ?? 500;
          if (status >= 400 && status < 500)
            return sendProblem(reply, status, error.code ?? 'BAD_REQUEST', error.message);
          log.error({ err: error.message }, 'JCA intake failed');
          return sendProblem(reply, 500, 'INTERNAL', `the JCA intake failed: ${error.message}`);
        },
      );
      registerRoutes(scope);
    });
  };

  function registerRoutes(app: FastifyInstance) {
    const write = settings.JCA_WRITE_SCOPE;
    const problems = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 503: problemSchema };

    app.post(
      '/jca/v1/intake',
      {
        onRequest: app.requireScope(write),
        schema: {
          operationId: 'takeInJcaNotification',
          summary: 'Take in one EU HTA Joint Clinical Assessment notification (JSON or XML)',
          description:
            'The body follows contracts/json/jca-notification.schema.json (application/json) or ' +
            'contracts/xml/jca-notification.xsd (application/xml). Each (procedureId, procedureVersion) is taken ' +
            'once: a resend answers 200 "duplicate", other content under a used version 409. A refused document is ' +
            'kept on eu.jca-notifications.v1.dlq and listed at /jca/v1/rejected. DTDs and entity declarations are refused.',
          tags: ['eu-jca'],
          security: [{ bearer: [write] }],
          response: {
            200: json('A resend of a version already taken in: nothing was done', intakeDuplicate),
            201: json(
              'Taken in: linked to national methods where it could be, with its timeline',
              intakeAccepted,
            ),
            ...problems,
            409: problemSchema,
            413: problemSchema,
            415: problemSchema,
            422: problemSchema,
          },
        },
      },
      async (request, reply) => {
        if (!options.ready()) {
          return sendProblem(
            reply,
            503,
            'NOT_READY',
            'still reading the method catalogue and the JCA log; resend in a moment',
          );
        }
        const body = typeof request.body === 'string' ? request.body : '';
        if (body.trim() === '') {
          return refuse(
            request,
            reply,
            400,
            'EMPTY_BODY',
            'the body is empty; send one JCA notification',
            [],
            body,
          );
        }
        const xml = XML.test(request.headers['content-type'] ?? '');
        const checked: Checked = xml ? documentFromXml(body) : documentFromJson(body);
        if (!checked.ok) {
          return refuse(
            request,
            reply,
            checked.status,
            checked.code,
            checked.detail,
            itemsOf(checked.problems),
            body,
          );
        }
        return oneAtATime(() => take(request, reply, checked.document, body));
      },
    );

    app.post<{ Params: { procedureId: string }; Body: string }>(
      '/jca/v1/procedures/:procedureId/links',
      {
        onRequest: app.requireScope(write),
        schema: {
          operationId: 'linkJcaProcedure',
          summary: 'Link a JCA to the national method a person chose (resolves an AMBIGUOUS match)',
          description:
            'Body: {"methodId": "ID2024_010"}. Adds METHOD_LINKED to the method and republishes the notification as LINKED.',
          tags: ['eu-jca'],
          security: [{ bearer: [write] }],
          response: {
            201: json(
              'Linked; the method event that records it',
              object({ procedureId: text, linkedMethodIds: arrayOf(text), methodEventId: text }),
            ),
            ...problems,
            404: problemSchema,
            409: problemSchema,
          },
        },
      },
      async (request, reply) => {
        let methodId: unknown;
        try {
          methodId = (JSON.parse(request.body || '{}') as { methodId?: unknown }).methodId;
        } catch (error) {
          return sendProblem(
            reply,
            400,
            'MALFORMED_JSON',
            `the body is not valid JSON: ${(error as Error).message}`,
          );
        }
        if (typeof methodId !== 'string')
          return sendProblem(reply, 400, 'INVALID_REQUEST', 'send {"methodId": "ID2024_010"}');
        return oneAtATime(async () => {
          const procedure = procedures.procedure(request.params.procedureId);
          if (!procedure) return unknownProcedure(reply, request.params.procedureId);
          if (!store.stateOf(methodId))
            return sendProblem(reply, 404, 'UNKNOWN_METHOD', `${methodId} is not a method the hub knows`);
          if (procedure.linkedMethodIds.includes(methodId))
            return sendProblem(
              reply,
              409,
              'ALREADY_LINKED',
              `${procedure.procedureId} is already linked to ${methodId}`,
            );
          const latest = procedure.latest;
          const occurredAt = now().toISOString();
          const event = jcaLinkEvent(
            methodId,
            latest,
            `chosen by ${request.subject ?? 'a person'}`,
            occurredAt,
          );
          const linked = withLinks(
            latest,
            'LINKED',
            [...procedure.linkedMethodIds, methodId],
            latest.linkCandidates.map((c) => ({ ...c, indication: 0, substance: false })),
            latest.outOfOrder,
          );
          const verdict = store.judgeBatch([event])[0]!;
          if (verdict.outcome === 'rejected')
            return sendProblem(
              reply,
              409,
              'REJECTED',
              verdict.errors.map((e) => `${e.code}: ${e.reason}`).join('; '),
            );
          try {
            await publish(linked, [event], randomUUID());
          } catch (error) {
            return sendProblem(
              reply,
              503,
              'BUS_UNAVAILABLE',
              `Kafka did not take the link (${(error as Error).message}); resend`,
            );
          }
          return reply.code(201).send({
            procedureId: procedure.procedureId,
            linkedMethodIds: linked.linkedMethodIds,
            methodEventId: event.eventId,
          });
        });
      },
    );

    jcaReadRoutes({ settings, procedures, rejected, timeline, now })(app);
  }
}

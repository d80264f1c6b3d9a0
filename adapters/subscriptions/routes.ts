/**
 * The adapter's HTTP API on the hub's server:
 *   POST   /subscriptions/v1/subscriptions       subscribe a mailbox or a webhook to a method, specialty or ATC group
 *   GET    /subscriptions/v1/subscriptions       the caller's own active subscriptions
 *   DELETE /subscriptions/v1/subscriptions/:id   end one of them
 *   GET    /subscriptions/v1/unsubscribe?token=  the link in every message: ends that subscription, no login
 * The first three need SUBSCRIPTIONS_WRITE_SCOPE; a subscription is its creator's (the token subject).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Subscription } from '../../contracts/generated/types.ts';
import { Topics } from '../../contracts/topics.ts';
import type { UrlGuard } from '../../core/http/urlGuard.ts';
import { problemSchema, sendProblem } from '../../core/http/problem.ts';
import { arrayOf, contractSchema, empty, json, media, object } from '../../core/http/responses.ts';
import { unsubscribeTokenOf, verifyUnsubscribeToken, webhookSecretOf } from './mapping.ts';
import { publicBase } from './outbound.ts';
import type { SubscriptionSettings } from './settings.ts';
import type { SubscriptionBook } from './subscriptionBook.ts';

export interface RouteParts {
  settings: SubscriptionSettings;
  signingKey: string;
  book: SubscriptionBook;
  guard: UrlGuard;
}

const patterns = {
  METHOD: /^ID\d{4}_\d{3}$/,
  // A specialty (fagområde) is a name: no markup or control characters to carry into a message.
  SPECIALTY: /^\p{L}[\p{L}\p{M}\d .,'()/&-]{0,99}$/u,
  ATC_GROUP: /^[A-Z](\d{2}([A-Z]([A-Z](\d{2})?)?)?)?$/,
};
const EMAIL = /^[^\s@<>(),;:"]{1,64}@[^\s@<>(),;:"]{1,189}\.[^\s@<>(),;:".]{2,63}$/;
const errors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  503: problemSchema,
};

interface CreateBody {
  topic: { kind: 'METHOD' | 'SPECIALTY' | 'ATC_GROUP'; value: string };
  email?: string;
  webhookUrl?: string;
  digestEveryMinutes?: number | null;
}

const subscriptionContract = contractSchema(Topics.subscriptions);
const subscriptionView = {
  ...subscriptionContract,
  properties: {
    ...(subscriptionContract.properties as object),
    unsubscribeUrl: { type: 'string', description: 'The link that ends it, as in every message' },
  },
};

export function subscriptionRoutes(parts: RouteParts) {
  const { settings, signingKey, book, guard } = parts;
  const unsubscribeUrlOf = (id: string) =>
    `${publicBase(settings)}/subscriptions/v1/unsubscribe?token=${encodeURIComponent(unsubscribeTokenOf(signingKey, id))}`;
  const viewOf = (s: Subscription) => ({ ...s, unsubscribeUrl: unsubscribeUrlOf(s.subscriptionId) });

  return async (app: FastifyInstance) => {
    const write = app.requireScope(settings.SUBSCRIPTIONS_WRITE_SCOPE);
    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/subscriptions/') && !book.caughtUp)
        return sendProblem(
          reply,
          503,
          'NOT_READY',
          'still reading the subscriptions topic; try again in a moment',
        );
    });

    app.post<{ Body: CreateBody }>(
      '/subscriptions/v1/subscriptions',
      {
        onRequest: write,
        schema: {
          operationId: 'createSubscription',
          summary: 'Subscribe a mailbox or a webhook to the changes of a method, a specialty or an ATC group',
          description:
            'Give exactly one of email and webhookUrl. Each change is one message, unless digestEveryMinutes is set: ' +
            'then one message per period with every change. A webhook answer carries the HMAC-SHA256 secret its ' +
            'deliveries are signed with (x-metodehub-signature: sha256=<hex>).',
          tags: ['subscriptions'],
          security: [{ bearer: [settings.SUBSCRIPTIONS_WRITE_SCOPE] }],
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['topic'],
            properties: {
              topic: {
                type: 'object',
                additionalProperties: false,
                required: ['kind', 'value'],
                properties: {
                  kind: { type: 'string', enum: ['METHOD', 'SPECIALTY', 'ATC_GROUP'] },
                  value: { type: 'string', minLength: 1, maxLength: 100 },
                },
              },
              email: { type: 'string', maxLength: 254 },
              webhookUrl: { type: 'string', maxLength: 2000 },
              digestEveryMinutes: { type: ['integer', 'null'], minimum: 1, maximum: 10_080 },
            },
          },
          response: {
            201: json('The subscription; a webhook one with the secret its deliveries are signed with', {
              ...subscriptionView,
              properties: {
                ...(subscriptionView.properties as object),
                webhookSecret: { type: 'string', description: 'HMAC-SHA256 key (webhooks only)' },
              },
            }),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const { topic, email, webhookUrl, digestEveryMinutes } = request.body;
        const value = topic.kind === 'ATC_GROUP' ? topic.value.toUpperCase() : topic.value.trim();
        if (!patterns[topic.kind].test(value))
          return invalid(
            reply,
            'topic.value',
            `"${topic.value}" is not a ${topic.kind === 'METHOD' ? 'method id (ID2019_074)' : topic.kind === 'ATC_GROUP' ? 'ATC code or prefix (L01F)' : "specialty name (letters, digits, spaces and - , . ' ( ) / &)"}`,
          );
        if ((email === undefined) === (webhookUrl === undefined))
          return invalid(
            reply,
            email === undefined ? 'email' : 'webhookUrl',
            'give exactly one of email and webhookUrl',
          );
        if (email !== undefined && !EMAIL.test(email))
          return invalid(reply, 'email', `"${email}" is not an e-mail address`);
        if (webhookUrl !== undefined) {
          const verdict = await guard.check(webhookUrl, 'webhookUrl');
          if (!verdict.ok)
            return sendProblem(reply, 400, verdict.code, verdict.reason, [
              { path: 'webhookUrl', reason: verdict.reason },
            ]);
        }
        const record: Subscription = {
          subscriptionId: randomUUID(),
          active: true,
          topicKind: topic.kind,
          topicValue: value,
          channel: email !== undefined ? 'EMAIL' : 'WEBHOOK',
          email: email ?? null,
          webhookUrl: webhookUrl ?? null,
          digestEveryMinutes: digestEveryMinutes ?? null,
          createdAt: new Date().toISOString(),
          createdBy: request.subject ?? 'unknown',
          endedAt: null,
          endedBy: null,
        };
        await book.put(record, 'SubscriptionCreated');
        return reply.code(201).send({
          ...viewOf(record),
          ...(record.channel === 'WEBHOOK'
            ? { webhookSecret: webhookSecretOf(signingKey, record.subscriptionId) }
            : {}),
        });
      },
    );

    app.get(
      '/subscriptions/v1/subscriptions',
      {
        onRequest: write,
        schema: {
          operationId: 'listSubscriptions',
          summary: "The caller's active subscriptions",
          tags: ['subscriptions'],
          security: [{ bearer: [settings.SUBSCRIPTIONS_WRITE_SCOPE] }],
          response: {
            200: json('Oldest first', object({ subscriptions: arrayOf(subscriptionView) })),
            ...errors,
          },
        },
      },
      async (request) => ({
        subscriptions: book
          .active()
          .filter((s) => s.createdBy === request.subject)
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
          .map(viewOf),
      }),
    );

    app.delete<{ Params: { subscriptionId: string } }>(
      '/subscriptions/v1/subscriptions/:subscriptionId',
      {
        onRequest: write,
        schema: {
          operationId: 'endSubscription',
          summary: 'End one of the caller’s subscriptions',
          tags: ['subscriptions'],
          security: [{ bearer: [settings.SUBSCRIPTIONS_WRITE_SCOPE] }],
          response: { 204: empty('Ended'), ...errors },
        },
      },
      async (request, reply) => {
        const { subscriptionId } = request.params;
        const found = book.get(subscriptionId);
        if (!found?.active || found.createdBy !== request.subject)
          return sendProblem(
            reply,
            404,
            'UNKNOWN_SUBSCRIPTION',
            `you have no active subscription ${subscriptionId}`,
          );
        await book.put(end(found, request.subject ?? 'unknown'), 'SubscriptionEnded');
        return reply.code(204).send();
      },
    );

    const unsubscribe = async (
      request: FastifyRequest<{ Querystring: { token?: string } }>,
      reply: FastifyReply,
    ) => {
      const verdict = verifyUnsubscribeToken(signingKey, request.query.token ?? '');
      if (!verdict.ok) return sendProblem(reply, 400, 'INVALID_TOKEN', verdict.reason);
      const found = book.get(verdict.subscriptionId);
      if (!found)
        return sendProblem(reply, 404, 'UNKNOWN_SUBSCRIPTION', `no subscription ${verdict.subscriptionId}`);
      if (found.active) await book.put(end(found, 'unsubscribe link'), 'SubscriptionEnded');
      return reply
        .type('text/plain; charset=utf-8')
        .send(
          `Abonnementet er avsluttet. You are unsubscribed from ${found.topicKind} ${found.topicValue}.\n`,
        );
    };
    const unsubscribeSchema = {
      operationId: 'unsubscribe',
      summary: 'The unsubscribe link of every message: ends that subscription, no login needed',
      tags: ['subscriptions'],
      // The signed token in the link is the credential: no bearer token.
      security: [],
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['token'],
        properties: { token: { type: 'string', maxLength: 200 } },
      },
      response: {
        200: media('Ended (or already ended): a line saying so', 'text/plain'),
        400: problemSchema,
        404: problemSchema,
        503: problemSchema,
      },
    };
    app.get('/subscriptions/v1/unsubscribe', { schema: unsubscribeSchema }, unsubscribe);
  };
}

const end = (s: Subscription, by: string): Subscription => ({
  ...s,
  active: false,
  endedAt: new Date().toISOString(),
  endedBy: by,
});

const invalid = (reply: FastifyReply, path: string, reason: string) =>
  sendProblem(reply, 400, 'INVALID_REQUEST', `${path}: ${reason}`, [{ path, reason }]);

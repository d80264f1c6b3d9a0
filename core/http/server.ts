/**
 * The hub's HTTP server: a small fastify core (errors, auth, health, metrics, the OpenAPI document) that
 * the API routes and adapters register on. Every route declares its schema once; fastify validates with
 * it and the OpenAPI document at /api/v1/openapi.json is generated from it.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config/spec.ts';
import { metricsRegistry } from '../metrics/registry.ts';
import type { TokenVerifier } from './auth.ts';
import type { DevIssuer } from './devIssuer.ts';
import { sendProblem, sendValidationProblem } from './problem.ts';

export interface ServerOptions {
  config: Config;
  verifier: TokenVerifier;
  devIssuer?: DevIssuer;
  /** Whether the hub has read the event log to its end and can answer. */
  ready: () => boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook that refuses requests without a valid token carrying `scope`. */
    requireScope(scope: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    subject?: string;
  }
}

export async function createHubServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: options.config.INGRESS_MAX_BODY_BYTES,
    logger: false,
    ajv: { customOptions: { allErrors: true } },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'metodehub API',
        version: '1',
        description:
          'Case events into Nye metoder, and method state, history, time travel and stage statistics out. ' +
          'Every request needs an OAuth2 bearer token (JWT) with the scope named on the operation.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
  });

  app.decorate('requireScope', (scope: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await options.verifier.verify(request.headers.authorization, scope);
    if (result.ok) {
      request.subject = result.subject;
      return;
    }
    if (result.status === 401)
      reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${result.code}"`);
    if (result.status === 403)
      reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
    await sendProblem(reply, result.status, result.code, result.reason);
  });

  app.setErrorHandler(
    (error: Error & { statusCode?: number; code?: string; validation?: unknown[] }, _request, reply) => {
      if (error.validation)
        return sendValidationProblem(reply, { message: error.message, validation: error.validation });
      switch (error.code) {
        case 'FST_ERR_CTP_BODY_TOO_LARGE':
          return sendProblem(
            reply,
            413,
            'BODY_TOO_LARGE',
            `the body is larger than ${options.config.INGRESS_MAX_BODY_BYTES} bytes; send fewer events per request`,
          );
        case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
          return sendProblem(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
        case 'FST_ERR_CTP_EMPTY_JSON_BODY':
          return sendProblem(
            reply,
            400,
            'MALFORMED_JSON',
            'the body is empty; send one event or an array of events',
          );
      }
      if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return sendProblem(reply, 400, 'MALFORMED_JSON', `the body is not valid JSON: ${error.message}`);
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500)
        return sendProblem(reply, status, error.code ?? 'BAD_REQUEST', error.message);
      reply.log?.error?.(error);
      return sendProblem(reply, 500, 'INTERNAL', `the hub failed: ${error.message}`);
    },
  );

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      404,
      'NO_SUCH_ROUTE',
      `${request.method} ${request.url} is not a route; see /api/v1/openapi.json`,
    ),
  );

  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'up' }));
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) =>
    options.ready()
      ? { status: 'ready' }
      : sendProblem(reply, 503, 'NOT_READY', 'still reading the event log; try again in a moment'),
  );
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics()),
  );
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  if (options.devIssuer) {
    const jwks = options.devIssuer.jwks();
    app.get('/dev/jwks.json', { schema: { hide: true } }, async () => jwks);
  }
  return app;
}

/**
 * The hub's HTTP server: a small fastify core (errors, auth, health, metrics, the OpenAPI document) that
 * the API routes and adapters register on. Every route declares its schema once; fastify validates with
 * it and the OpenAPI document at /api/v1/openapi.json is generated from it.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RouteOptions,
} from 'fastify';
import type { Config } from '../config/spec.ts';
import { type Logger, loggerFor } from '../log/logger.ts';
import { metricsRegistry } from '../metrics/registry.ts';
import type { TokenVerifier, VerifiedToken } from './auth.ts';
import type { DevIssuer } from './devIssuer.ts';
import { problemSchema, sendProblem, sendValidationProblem } from './problem.ts';
import { queryFormats } from './queryFormats.ts';

export interface ServerOptions {
  config: Config;
  verifier: TokenVerifier;
  devIssuer?: DevIssuer;
  /** Whether the hub has read the event log to its end and can answer. */
  ready: () => boolean;
  /** Where 5xx answers are logged; the `http` component logger by default. */
  logger?: Logger;
}

/** A caller's correlation id is kept when it is a plain token; anything else gets a fresh one. */
const CORRELATION_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
/** Query parameters whose values never reach the log. */
const SECRET_PARAM = /token|secret|key|pass|auth|sig|code|session|cred/i;

/** The request URL for the log, with the values of secret-looking query parameters redacted. */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of new Set(params.keys())) if (SECRET_PARAM.test(key)) params.set(key, '[redacted]');
  return `${url.slice(0, q)}?${params}`;
}

const closedQuery = { type: 'object', properties: {}, additionalProperties: false };

/** Closes every object schema that lists its properties but says nothing of others (not inside compositions). */
function closed(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const s = schema as Record<string, unknown>;
  const out: Record<string, unknown> = { ...s };
  if (s.properties && typeof s.properties === 'object') {
    out.properties = Object.fromEntries(
      Object.entries(s.properties as Record<string, unknown>).map(([k, v]) => [k, closed(v)]),
    );
    if (s.additionalProperties === undefined && s.patternProperties === undefined)
      out.additionalProperties = false;
  }
  if (s.items) out.items = closed(s.items);
  return out;
}

/** Unknown query parameters and body fields are refused on every route, whoever declared it. */
function closeRoute(route: RouteOptions): void {
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const takesBody = ['POST', 'PUT', 'PATCH'].some((m) => [route.method].flat().includes(m as never));
  // Every route can now answer 400 (unknown parameters) and body routes 415: the OpenAPI document says so.
  // A route that names a bearer scope answers 401/403 from requireScope, and any route 500 from the error handler.
  const secured = Array.isArray(schema.security) && schema.security.some((s) => Object.keys(s).length > 0);
  const response = {
    400: problemSchema,
    ...(takesBody ? { 415: problemSchema } : {}),
    ...(secured ? { 401: problemSchema, 403: problemSchema } : {}),
    500: problemSchema,
    ...((schema.response as Record<string, unknown> | undefined) ?? {}),
  };
  route.schema = {
    ...schema,
    querystring: schema.querystring ? closed(schema.querystring) : closedQuery,
    ...(schema.body ? { body: closed(schema.body) } : {}),
    response: Object.fromEntries(Object.entries(response).map(([status, r]) => [status, asProblem(r)])),
  };
}

/** Problem answers are application/problem+json, which the OpenAPI document should say instead of JSON. */
function asProblem(response: unknown): unknown {
  if (
    response !== problemSchema &&
    (response as { description?: string })?.description !== problemSchema.description
  )
    return response;
  const { description, ...schema } = response as Record<string, unknown>;
  return { description, content: { 'application/problem+json': { schema } } };
}

/** The JSON body parser: fatal UTF-8 decoding (no silent U+FFFD), then fastify's own JSON.parse guard. */
const utf8 = new TextDecoder('utf-8', { fatal: true });
const POISON_KEY = /"(__proto__|constructor)"/;
const CHARSET = /;\s*charset="?([^";\s]+)/i;

/** Where the first invalid UTF-8 sequence starts. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    try {
      utf8.decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return -1;
}

interface OpenApiDocument {
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId?: string; summary?: string }>>;
}

/** What `/api/v1` answers: links a person or a client can follow from the URL `npm start` prints. */
function apiIndex(document: OpenApiDocument) {
  return {
    title: document.info.title,
    version: document.info.version,
    links: { openapi: '/api/v1/openapi.json', dashboard: '/ops/', health: '/healthz', ready: '/readyz' },
    operations: Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        operationId: operation.operationId ?? null,
        summary: operation.summary ?? null,
      })),
    ),
  };
}

const apiIndexSchema = {
  type: 'object',
  required: ['title', 'version', 'links', 'operations'],
  properties: {
    title: { type: 'string' },
    version: { type: 'string' },
    links: {
      type: 'object',
      description: 'The OpenAPI document, the operations dashboard, and the health and readiness checks.',
      properties: {
        openapi: { type: 'string' },
        dashboard: { type: 'string' },
        health: { type: 'string' },
        ready: { type: 'string' },
      },
    },
    operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          method: { type: 'string' },
          path: { type: 'string' },
          operationId: { type: 'string', nullable: true },
          summary: { type: 'string', nullable: true },
        },
      },
    },
  },
};

declare module 'fastify' {
  interface FastifyInstance {
    /** An onRequest hook that refuses requests without a valid token carrying `scope`. */
    requireScope(scope: string): (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
  interface FastifyRequest {
    /** The verified token's subject (`sub`), once `requireScope` has passed the request. */
    subject?: string;
    /** The verified token (subject, scopes, claims), once `requireScope` has passed the request. */
    token?: VerifiedToken;
  }
}

export async function createHubServer(options: ServerOptions): Promise<FastifyInstance> {
  const log = options.logger ?? loggerFor('http');
  const app = Fastify({
    bodyLimit: options.config.INGRESS_MAX_BODY_BYTES,
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-correlation-id'];
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
    },
    // removeAdditional would silently drop unknown fields; refusing them tells the sender.
    ajv: { customOptions: { allErrors: true, removeAdditional: false }, plugins: [queryFormats] },
    // Errors the router meets before any route (a bad %-escape, an over-long path parameter) in the one shape.
    frameworkErrors: (error, _request, reply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void sendProblem(
        reply,
        tooLong ? 414 : 400,
        tooLong ? 'PATH_PARAMETER_TOO_LONG' : 'MALFORMED_URL',
        tooLong
          ? 'a path parameter is longer than 100 characters; no identifier of the hub is that long'
          : `the path is not a valid URL: ${error.message.slice(0, 200)}`,
      );
    },
  });
  app.addHook('onRoute', closeRoute);
  // Response schemas document the answers (tests check answers against them); they never strip or coerce one.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  const failures = new WeakMap<FastifyRequest, Error>();
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-correlation-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode < 500) return;
    const error = failures.get(request);
    log.error(
      {
        method: request.method,
        url: loggableUrl(request.url),
        status: reply.statusCode,
        correlationId: request.id,
        ...(error ? { err: error } : {}),
      },
      `${request.method} ${request.routeOptions.url ?? '(no route)'} answered ${reply.statusCode}`,
    );
  });

  // Only JSON unless a route's plugin says otherwise: text/plain would reach the schema as a string.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      const reason = `the body must be UTF-8 JSON; charset=${charset.slice(0, 40)} is not read, send UTF-8 and say so or say nothing`;
      done(Object.assign(new Error(reason), { statusCode: 415, code: 'UNSUPPORTED_CHARSET' }), undefined);
      return;
    }
    const bytes = body as Buffer;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      const offset = invalidUtf8Offset(bytes);
      const error = Object.assign(
        new Error(`the body is not valid UTF-8: the byte at offset ${offset} starts an invalid sequence`),
        { statusCode: 400, code: 'INVALID_UTF8' },
      );
      done(error, undefined);
      return;
    }
    if (text.length === 0) return parseJson(request, text, done);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const message = `the body is not valid JSON: ${(error as Error).message}`;
      done(Object.assign(new Error(message), { statusCode: 400, code: 'MALFORMED_JSON' }), undefined);
      return;
    }
    if (!POISON_KEY.test(text)) return done(null, value);
    // Valid JSON that fastify's guard still refuses: a key that would reach Object.prototype.
    parseJson(request, text, (error, safe) =>
      error
        ? done(
            Object.assign(
              new Error(
                'the body has a "__proto__" or "constructor": {"prototype": ...} key, which the hub refuses; remove it',
              ),
              { statusCode: 400, code: 'FORBIDDEN_KEY' },
            ),
            undefined,
          )
        : done(null, safe),
    );
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
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      servers: [{ url: '/', description: 'This hub: the host that served this document' }],
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
      request.token = { subject: result.subject, scopes: result.scopes, claims: result.claims };
      return;
    }
    if (result.status === 401)
      reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${result.code}"`);
    if (result.status === 403)
      reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
    await sendProblem(reply, result.status, result.code, result.reason);
  });

  app.setErrorHandler(
    (error: Error & { statusCode?: number; code?: string; validation?: unknown[] }, request, reply) => {
      if (error.validation)
        return sendValidationProblem(reply, {
          ...error,
          message: error.message,
          validation: error.validation,
        });
      switch (error.code) {
        case 'FST_ERR_CTP_BODY_TOO_LARGE':
          return sendProblem(
            reply,
            413,
            'BODY_TOO_LARGE',
            `the body is larger than ${options.config.INGRESS_MAX_BODY_BYTES} bytes; send fewer events per request`,
          );
        case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
          return sendProblem(
            reply,
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `${request.method} ${request.routeOptions.url ?? request.url} takes application/json, not ${request.headers['content-type'] ?? '(no content type)'}`,
          );
        case 'INVALID_UTF8':
          return sendProblem(reply, 400, 'INVALID_UTF8', error.message);
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
      failures.set(request, error);
      return sendProblem(
        reply,
        500,
        'INTERNAL',
        `the hub failed; the operators find why in the log under correlation id ${request.id}`,
      );
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
  app.get(
    '/api/v1',
    {
      schema: {
        operationId: 'apiIndex',
        summary: 'An index of the API: where the OpenAPI document is, and every operation with its summary',
        tags: ['index'],
        security: [],
        response: { 200: apiIndexSchema },
      },
    },
    async () => apiIndex(app.swagger() as OpenApiDocument),
  );
  if (options.devIssuer) {
    const jwks = options.devIssuer.jwks();
    app.get('/dev/jwks.json', { schema: { hide: true } }, async () => jwks);
  }
  return app;
}

/**
 * The one error shape of the API (RFC 9457 problem details): a code a program can branch on, a detail a
 * person can act on, and, when there are several, every one of them in `errors`.
 */
import type { FastifyReply } from 'fastify';

export interface ProblemItem {
  code?: string;
  reason: string;
  index?: number;
  eventId?: string;
  methodId?: string;
  path?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  errors?: ProblemItem[];
  /** The request's x-correlation-id (given or generated), to quote to the operators. */
  correlationId?: string;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  503: 'Service Unavailable',
};

export function problem(
  status: number,
  code: string,
  detail: string,
  errors?: ProblemItem[],
  correlationId?: string,
): Problem {
  return {
    type: `https://metodehub.nyemetoder.no/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    code,
    detail,
    ...(errors && errors.length > 0 ? { errors } : {}),
    ...(correlationId ? { correlationId } : {}),
  };
}

/** Answers a request fastify's schema validation refused: 400 INVALID_REQUEST, one item per problem. */
interface ValidationItem {
  instancePath: string;
  keyword?: string;
  message?: string;
  params?: { additionalProperty?: string };
}

export function sendValidationProblem(
  reply: FastifyReply,
  error: { message: string; validation: unknown[]; validationContext?: string },
): FastifyReply {
  const where = error.validationContext;
  const items = (error.validation as ValidationItem[]).map((v) => {
    const at = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const unknown = v.keyword === 'additionalProperties' ? v.params?.additionalProperty : undefined;
    if (unknown !== undefined) {
      const path = at ? `${at}.${unknown}` : unknown;
      const what = where === 'querystring' ? 'query parameter' : 'field';
      return { code: 'UNKNOWN_FIELD', path, reason: `unknown ${what} "${path}"; remove it` };
    }
    return { path: at || '(request)', reason: v.message ?? 'invalid' };
  });
  const unknown = items.filter((i) => i.code === 'UNKNOWN_FIELD').map((i) => i.path);
  const detail =
    unknown.length > 0 && unknown.length === items.length
      ? `the request has unknown ${where === 'querystring' ? 'query parameters' : 'fields'}: ${unknown.join(', ')}`
      : `the request is not valid: ${error.message}`;
  return sendProblem(reply, 400, 'INVALID_REQUEST', detail, items);
}

export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  errors?: ProblemItem[],
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send(problem(status, code, detail, errors, reply.request?.id));
}

export const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `errors` lists every reason when there are several.',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    correlationId: { type: 'string', description: 'The x-correlation-id of the request.' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          reason: { type: 'string' },
          index: { type: 'integer' },
          eventId: { type: 'string' },
          methodId: { type: 'string' },
          path: { type: 'string' },
        },
      },
    },
  },
};

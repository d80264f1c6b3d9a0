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

export function problem(status: number, code: string, detail: string, errors?: ProblemItem[]): Problem {
  return {
    type: `https://metodehub.nyemetoder.no/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    code,
    detail,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/** Answers a request fastify's schema validation refused: 400 INVALID_REQUEST, one item per problem. */
export function sendValidationProblem(
  reply: FastifyReply,
  error: { message: string; validation: unknown[] },
): FastifyReply {
  const items = (error.validation as { instancePath: string; message?: string }[]).map((v) => ({
    path: v.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(request)',
    reason: v.message ?? 'invalid',
  }));
  return sendProblem(reply, 400, 'INVALID_REQUEST', `the request is not valid: ${error.message}`, items);
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
    .send(problem(status, code, detail, errors));
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

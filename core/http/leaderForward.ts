/**
 * Requests only a role's leader may answer (case events are judged by one instance; FEST webhooks live in the
 * instance that pushes), taken by any instance: a non-leader sends the request on to the leader's advertised URL
 * and relays its answer, so a client gets the same answers from every instance. While no instance leads (a
 * takeover under way) it waits for one within the request's budget, then answers 503 with Retry-After naming
 * the leader it last knew. A forwarded request is never forwarded again.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { LeaderInfo, Leadership } from '../bus/leadership.ts';
import { loggerFor } from '../log/logger.ts';
import { sendProblem } from './problem.ts';

export const FORWARDED_BY = 'x-metodehub-forwarded-by';

export interface ForwardOptions {
  /** How long to wait for a leader and for its answer, ms. */
  budgetMs: number;
  retryAfterSeconds: number;
  /** Runs with the leader's answer before it is relayed (e.g. wait until this instance has folded what was written). */
  beforeRelay?: (request: FastifyRequest, status: number, body: string) => Promise<void>;
}

const passed = [
  'authorization',
  'content-type',
  'accept',
  'x-correlation-id',
  'traceparent',
  'if-none-match',
];
const relayed = ['content-type', 'retry-after', 'etag', 'location', 'cache-control'];
const log = loggerFor('leader-forward');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function forwardToLeader(leadership: Leadership, options: ForwardOptions): preHandlerAsyncHookHandler {
  return async function forward(request: FastifyRequest, reply: FastifyReply) {
    if (leadership.isLeader) return;
    const role = leadership.role;
    if (request.headers[FORWARDED_BY] !== undefined) {
      reply.header('retry-after', String(options.retryAfterSeconds));
      return sendProblem(
        reply,
        503,
        'NOT_LEADER',
        `${leadership.instance} was sent this request as the leader of ${role} but no longer leads it (a takeover is under way); nothing was done, resend the same request`,
      );
    }
    const deadline = Date.now() + options.budgetMs;
    let last: LeaderInfo | undefined;
    let failure = 'no instance leads it at the moment';
    while (Date.now() < deadline) {
      if (leadership.isLeader) return; // gained meanwhile: answered here
      const leader = await leadership.leader(250).catch((error: Error) => {
        failure = `the group could not be asked (${error.message})`;
        return undefined;
      });
      if (leader && !leader.self && leader.url) {
        last = leader;
        const answer = await send(request, leader, leadership.instance, deadline).catch((error: Error) => {
          failure = `${leader.instance} at ${leader.url} did not answer (${error.message})`;
          return undefined;
        });
        if (answer) {
          await options.beforeRelay?.(request, answer.status, answer.body);
          for (const name of relayed) {
            const value = answer.headers.get(name);
            if (value !== null) reply.header(name, value);
          }
          return reply.code(answer.status).send(answer.body);
        }
      } else if (leader && !leader.url)
        failure = `${leader.instance} leads it but advertises no URL (HUB_ADVERTISED_URL)`;
      await sleep(200);
    }
    log.warn({ role, failure }, 'no leader to forward to');
    reply.header('retry-after', String(options.retryAfterSeconds));
    return sendProblem(
      reply,
      503,
      'NO_LEADER',
      `this request is answered by the leader of ${role}, and within ${options.budgetMs} ms ${failure}${last ? ` (last known leader: ${last.instance} at ${last.url})` : ''}; nothing was done here, resend the same request`,
    );
  };
}

async function send(
  request: FastifyRequest,
  leader: LeaderInfo,
  self: string,
  deadline: number,
): Promise<{ status: number; headers: Headers; body: string }> {
  const headers: Record<string, string> = { [FORWARDED_BY]: self };
  for (const name of passed) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const hasBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD';
  const response = await fetch(new URL(request.url, leader.url!), {
    method: request.method,
    headers,
    ...(hasBody
      ? { body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body) }
      : {}),
    redirect: 'manual',
    // The leader answers within its own budget; a little more here for the hop.
    signal: AbortSignal.timeout(Math.max(1_000, deadline - Date.now()) + 5_000),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

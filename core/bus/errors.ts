/**
 * Why a message could not be handled. Only a failure known to pass (see `transientCause`) is retried, within
 * a budget; a permanent error, and anything not known to be transient, goes to the dead-letter topic.
 */
export type PermanentErrorClass =
  | 'UNDECODABLE' // not Confluent-framed Avro, or bytes that do not decode
  | 'UNKNOWN_SCHEMA' // the schema id is not in the registry
  | 'CONTRACT_VIOLATION' // written with a schema the topic's contract cannot read, or a value outside it
  | 'DOMAIN_RULE' // decodes fine, but breaks a rule of the domain (illegal transition, bad ATC code, ...)
  | 'PARTNER_REJECTED' // a partner answered that the message can never be accepted (4xx other than 408/429)
  | 'TRUST_BOUNDARY' // the output would carry confidential data out of the hub
  | 'HANDLER_FAILED' // the handler failed in a way not known to pass (a bug, or data it cannot handle)
  | 'TRANSIENT_EXHAUSTED'; // a transient failure outlasted its retry budget

export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    readonly errorClass: PermanentErrorClass,
    readonly reason: string,
  ) {
    super(`${errorClass}: ${reason}`);
  }
}

/**
 * A failure known to pass: a partner or the registry away for now, or another component of the hub that has
 * not caught up yet. The runner retries it, with backoff, within its budget.
 */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** A transient failure whose partner said when to try again (HTTP Retry-After): the runner waits at least that long. */
export class RetryLater extends TransientError {
  override name = 'RetryLater';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * An HTTP Retry-After value (seconds, or an HTTP date) as milliseconds from `now`; 0 when absent or
 * unreadable, and never more than `maxMs`.
 */
export function retryAfterMs(header: string | null | undefined, maxMs: number, now = Date.now()): number {
  if (!header) return 0;
  const seconds = Number(header.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, maxMs) : 0;
}

export class ContractViolation extends PermanentError {
  constructor(
    topic: string,
    readonly paths: string[],
    detail?: string,
  ) {
    super(
      'CONTRACT_VIOLATION',
      `value does not match the contract of ${topic}` +
        (paths.length > 0 ? `; invalid or missing: ${paths.join(', ')}` : '') +
        (detail ? ` (${detail})` : ''),
    );
  }
}

export class DomainRuleError extends PermanentError {
  constructor(reason: string) {
    super('DOMAIN_RULE', reason);
  }
}

/** Refused because a field marked confidential would leave the trust boundary. */
export class ConfidentialLeak extends Error {
  override name = 'ConfidentialLeak';
  constructor(
    readonly output: string,
    readonly paths: string[],
  ) {
    super(`CONFIDENTIAL_LEAK: ${output} would carry confidential ${paths.join(', ')}; it was not sent`);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

interface ErrorLike {
  name?: string;
  code?: unknown;
  status?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
  response?: { status?: unknown };
  isAxiosError?: unknown;
}

const transientStatus = (status: unknown): boolean =>
  typeof status === 'number' && (status === 408 || status === 425 || status === 429 || status >= 500);

/**
 * Why this failure is known to pass, or null when it is not: our own TransientError, the broker (kafkajs'
 * connection, timeout and retriable protocol errors), the network (connection refused or reset, time-outs,
 * DNS), and HTTP answers 408, 425, 429 and 5xx. Everything else is not known to pass.
 */
export function transientCause(error: unknown, depth = 0): string | null {
  if (depth > 4 || error === null || typeof error !== 'object') return null;
  const e = error as ErrorLike;
  if (error instanceof PermanentError || error instanceof ConfidentialLeak) return null;
  if (error instanceof TransientError) return 'transient';
  const name = typeof e.name === 'string' ? e.name : '';
  if (name.startsWith('KafkaJS')) {
    if (name === 'KafkaJSProtocolError' && e.retriable === false) return null; // e.g. MESSAGE_TOO_LARGE
    if (name === 'KafkaJSNonRetriableError' && (e.originalError ?? e.cause))
      return transientCause(e.originalError ?? e.cause, depth + 1) ?? 'broker';
    return 'broker';
  }
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || e.code.startsWith('UND_ERR_')))
    return 'network';
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  if (e.isAxiosError === true)
    return e.response === undefined || transientStatus(e.response?.status) ? 'http' : null;
  if (transientStatus(e.status)) return 'http';
  return e.cause ? transientCause(e.cause, depth + 1) : null;
}

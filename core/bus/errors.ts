/**
 * Why a message could not be handled. Permanent errors go to the dead-letter topic at once; anything
 * else is treated as transient and retried.
 */
export type PermanentErrorClass =
  | 'UNDECODABLE' // not Confluent-framed Avro, or bytes that do not decode
  | 'UNKNOWN_SCHEMA' // the schema id is not in the registry
  | 'CONTRACT_VIOLATION' // written with a schema the topic's contract cannot read, or a value outside it
  | 'DOMAIN_RULE' // decodes fine, but breaks a rule of the domain (illegal transition, bad ATC code, ...)
  | 'PARTNER_REJECTED' // a partner answered that the message can never be accepted (4xx other than 408/429)
  | 'TRANSIENT_EXHAUSTED'; // a transient failure outlasted the configured attempts

export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    readonly errorClass: PermanentErrorClass,
    readonly reason: string,
  ) {
    super(`${errorClass}: ${reason}`);
  }
}

/** A transient failure whose partner said when to try again (HTTP Retry-After): the runner waits at least that long. */
export class RetryLater extends Error {
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

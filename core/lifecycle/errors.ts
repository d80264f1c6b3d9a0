/**
 * Domain errors are values: a code a program can branch on and a reason a person can act on,
 * e.g. `ILLEGAL_TRANSITION: ID2021_042 DECIDED -> HORIZON_SCANNING`.
 */
export type DomainErrorCode =
  | 'INVALID_METHOD_ID'
  | 'INVALID_ATC_CODE'
  | 'UNKNOWN_METHOD'
  | 'METHOD_ALREADY_REGISTERED'
  | 'ILLEGAL_TRANSITION'
  | 'STATUS_MISMATCH'
  | 'MISSING_DETAIL'
  | 'UNEXPECTED_DETAIL'
  | 'UNKNOWN_EVENT_TYPE'
  | 'OUT_OF_ORDER'
  | 'INVALID_DATES'
  | 'INCOMPLETE_TEMPORARY_INTRODUCTION'
  | 'MISSING_SLV_TRACK'
  | 'UNKNOWN_EXCEPTION'
  | 'DUPLICATE_EXCEPTION'
  | 'DUPLICATE_MILESTONE'
  | 'EVENT_ID_REUSED';

export interface DomainError {
  code: DomainErrorCode;
  reason: string;
}

export const domainError = (code: DomainErrorCode, reason: string): DomainError => ({ code, reason });

export const describeErrors = (errors: DomainError[]): string =>
  errors.map((e) => `${e.code}: ${e.reason}`).join('; ');

export type Result<T> = { ok: true; value: T } | { ok: false; errors: DomainError[] };

/**
 * Delta tokens and paging cursors. A delta token looks like Dataverse's (`<rowversion>!<MM/dd/yyyy
 * HH:mm:ss>`, UTC) and means "every change after this row version". Expired tokens are those older than the
 * retention period or issued before `expireDeltaTokens()`; both answer 400 so the client starts over.
 */
import { errorCodes, ODataError } from './odata.ts';

export interface DeltaTokenPolicy {
  retentionSeconds: number;
  /** Tokens for versions below this were expired by the test (expireDeltaTokens). */
  minimumVersion: number;
  currentVersion: number;
  now: Date;
}

const pad = (n: number): string => String(n).padStart(2, '0');

export function issueDeltaToken(version: number, now: Date): string {
  const date = `${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}/${now.getUTCFullYear()}`;
  const time = `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  return `${version}!${date} ${time}`;
}

/** The row version a delta token stands for, or the 400 Dataverse answers for a bad or expired token. */
export function readDeltaToken(token: string, policy: DeltaTokenPolicy): number {
  const match = /^(\d+)!(\d{2})\/(\d{2})\/(\d{4}) (\d{2}):(\d{2}):(\d{2})$/.exec(token);
  const version = match ? Number(match[1]) : Number.NaN;
  if (!match || version > policy.currentVersion) {
    throw new ODataError(400, errorCodes.odata, `The specified delta token '${token}' is invalid.`);
  }
  const [, , month, day, year, hours, minutes, seconds] = match.map(Number) as number[];
  const issuedAt = Date.UTC(year!, month! - 1, day!, hours!, minutes!, seconds!);
  const tooOld = policy.now.getTime() - issuedAt > policy.retentionSeconds * 1000;
  if (tooOld || version < policy.minimumVersion) {
    throw new ODataError(
      400,
      errorCodes.expiredVersionStamp,
      'Version stamp associated with the client has expired. Please perform a full sync.',
    );
  }
  return version;
}

/**
 * Where the next page starts. Change-tracking pages are keyset-paged on row version within a fixed
 * snapshot (rows changed after the snapshot surface in the next delta instead); plain lists by offset.
 */
export type Cursor =
  | { mode: 'track'; from: number | null; upTo: number; after: number; phase?: 'deleted' }
  | { mode: 'list'; offset: number };

export const encodeSkipToken = (cursor: Cursor): string =>
  Buffer.from(JSON.stringify(cursor)).toString('base64url');

export function decodeSkipToken(raw: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Cursor;
    if (cursor.mode === 'track' || cursor.mode === 'list') return cursor;
  } catch {
    // Falls through to the error below.
  }
  throw new ODataError(
    400,
    errorCodes.odata,
    `The skip token '${raw}' is invalid; follow @odata.nextLink as given.`,
  );
}

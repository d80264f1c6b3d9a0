/**
 * Records an output left out because it could not render them (a trust-boundary refusal, a value outside
 * its contract): the rest of the output is served, and health and metrics say what was left out and why.
 */
import { loggerFor } from '../log/logger.ts';
import { recordsWithheld } from '../metrics/registry.ts';

export interface WithheldRecord {
  /** The output: `fest extract`, `GET /hdir/v1/flags`, `fest.vilkar.v1`, ... */
  output: string;
  /** What was left out: a method ID, a condition id. */
  record: string;
  reason: string;
  /** When it was first left out (this process). */
  since: string;
  times: number;
}

const log = loggerFor('withheld');
const withheld = new Map<string, WithheldRecord>();
const MAX_KEPT = 1000;

/** Leaves `record` out of `output` for `reason`: counted, logged the first time, kept for health. */
export function withhold(output: string, record: string, reason: string): void {
  recordsWithheld.inc({ output });
  const key = `${output}\u0000${record}`;
  const known = withheld.get(key);
  if (known) {
    known.times++;
    known.reason = reason;
    return;
  }
  log.error({ output, record, reason }, 'left one record out of an output; the rest is served');
  if (withheld.size >= MAX_KEPT) withheld.delete(withheld.keys().next().value!);
  withheld.set(key, { output, record, reason, since: new Date().toISOString(), times: 1 });
}

/** Once a record renders again, it is no longer withheld. */
export function renderedAgain(output: string, record: string): void {
  withheld.delete(`${output}\u0000${record}`);
}

export function withheldRecords(): WithheldRecord[] {
  return [...withheld.values()];
}

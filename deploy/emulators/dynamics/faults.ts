/**
 * Fault switches a test flips to see how the adapter copes: the whole service down, slow answers,
 * server errors, and forced throttling. Settable in-process or as JSON over `POST /_emulator/faults`.
 */

export interface Faults {
  /** Refuse connections: the listening socket is closed and open sockets destroyed. */
  down: boolean;
  /** Delay every answer by this many milliseconds. */
  slowMs: number;
  /** Delay the answers to POST and PATCH (applied first, answered late) by this many milliseconds. */
  slowWritesMs: number;
  /** The next N Web API requests answer 500. */
  fail500Count: number;
  /** The next N Web API requests answer 401 (no body), whatever their token: Entra ID or the org refusing for a while. */
  fail401Count: number;
  /** Each Web API request answers 500 with this probability (0–1). */
  fail500Rate: number;
  /** Answer every Web API request (or only the next `count`) with 429 and this Retry-After. */
  throttle: { retryAfterSeconds: number; count?: number } | null;
}

/** What a test may send: any subset, plus `downForMs` to come back up by itself (for tests in another process). */
export type FaultChanges = Partial<Faults> & { downForMs?: number };

export const noFaults = (): Faults => ({
  down: false,
  slowMs: 0,
  slowWritesMs: 0,
  fail500Count: 0,
  fail401Count: 0,
  fail500Rate: 0,
  throttle: null,
});

/** Checks fault changes from JSON; lists every problem at once. */
export function parseFaultChanges(input: unknown): FaultChanges {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error('FAULTS_INVALID: expected a JSON object such as {"slowMs": 500}');
  }
  const raw = input as Record<string, unknown>;
  const problems: string[] = [];
  const changes: FaultChanges = {};
  const nonNegative = (name: keyof FaultChanges): number | undefined => {
    const value = raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      problems.push(`${name} must be a number >= 0, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  };
  for (const name of Object.keys(raw)) {
    if (
      ![
        'down',
        'downForMs',
        'slowMs',
        'slowWritesMs',
        'fail500Count',
        'fail401Count',
        'fail500Rate',
        'throttle',
      ].includes(name)
    ) {
      problems.push(`unknown fault '${name}'`);
    }
  }
  if (raw['down'] !== undefined) {
    if (typeof raw['down'] === 'boolean') changes.down = raw['down'];
    else problems.push('down must be true or false');
  }
  const downForMs = nonNegative('downForMs');
  if (downForMs !== undefined) changes.downForMs = downForMs;
  const slowMs = nonNegative('slowMs');
  if (slowMs !== undefined) changes.slowMs = slowMs;
  const slowWritesMs = nonNegative('slowWritesMs');
  if (slowWritesMs !== undefined) changes.slowWritesMs = slowWritesMs;
  const fail500Count = nonNegative('fail500Count');
  if (fail500Count !== undefined) changes.fail500Count = Math.floor(fail500Count);
  const fail401Count = nonNegative('fail401Count');
  if (fail401Count !== undefined) changes.fail401Count = Math.floor(fail401Count);
  const fail500Rate = nonNegative('fail500Rate');
  if (fail500Rate !== undefined) {
    if (fail500Rate > 1) problems.push('fail500Rate must be between 0 and 1');
    else changes.fail500Rate = fail500Rate;
  }
  const throttle = raw['throttle'];
  if (throttle === null) changes.throttle = null;
  else if (throttle !== undefined) {
    const t = throttle as Record<string, unknown>;
    const retryAfter = t['retryAfterSeconds'];
    const count = t['count'];
    if (typeof retryAfter !== 'number' || retryAfter < 0) {
      problems.push('throttle.retryAfterSeconds must be a number >= 0');
    } else if (count !== undefined && (typeof count !== 'number' || count < 1)) {
      problems.push('throttle.count must be a number >= 1 when given');
    } else {
      changes.throttle =
        count === undefined ? { retryAfterSeconds: retryAfter } : { retryAfterSeconds: retryAfter, count };
    }
  }
  if (problems.length > 0) throw new Error(`FAULTS_INVALID: ${problems.join('; ')}`);
  return changes;
}

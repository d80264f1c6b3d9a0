/**
 * Starting a part while Kafka or the registry is away: a failure known to pass (see `transientCause`) is
 * waited out, with backoff, instead of ending the start; anything else is thrown as before.
 */
import { backoff } from '../retry/backoff.ts';
import { transientCause } from '../bus/errors.ts';

export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PatientStartOptions {
  /** Whether to give up (the hub is stopping). */
  cancelled: () => boolean;
  /** Told of each failed attempt that will be tried again, and how long until then. */
  onRetry?: (attempt: number, reason: string, waitMs: number) => void;
  /** An error that must not be retried though its cause is transient (e.g. an ACL refusal), as the error to throw. */
  final?: (error: unknown) => unknown;
  /** Try again after any failure, not only one known to pass (a part that first failed with Kafka away). */
  retryAll?: boolean;
  baseMs?: number;
  maxMs?: number;
}

/** The reason of an error, one line. */
export const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Starts `part`; after a transient failure, stops what it began and tries again until it starts ('started')
 * or `cancelled()` ('cancelled'). A part given here must allow `start` again after a start that threw.
 */
export async function startPatiently(
  part: Startable,
  options: PatientStartOptions,
): Promise<'started' | 'cancelled'> {
  const { cancelled, baseMs = 500, maxMs = 10_000 } = options;
  for (let attempt = 1; ; attempt++) {
    if (cancelled()) return 'cancelled';
    try {
      await part.start();
      return 'started';
    } catch (error) {
      const final = options.final?.(error);
      if (final !== undefined) throw final;
      if (!options.retryAll && transientCause(error) === null) throw error;
      await part.stop().catch(() => undefined);
      if (cancelled()) return 'cancelled';
      const waitMs = backoff(attempt, baseMs, maxMs);
      options.onRetry?.(attempt, reasonOf(error), waitMs);
      await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
    }
  }
}

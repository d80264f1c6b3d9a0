/**
 * The one backoff of the hub: every retry (a consumer's transient failure, a partner call, a webhook push, an
 * adapter's start, the CLI's replay) waits this long before its next attempt. Exponential from `baseMs`, at most
 * `maxMs`, with "equal jitter" (half the ceiling plus a random part of the other half), so instances that failed
 * together do not retry together.
 */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/**
 * The simulator: replays method events into the hub through the case-event API, in time order, at a
 * chosen rate, in batches, with a progress bar. Resending is harmless (the hub drops known event ids), so
 * a replay can be stopped and run again.
 */
import { backoff } from '../retry/backoff.ts';
import cliProgress from 'cli-progress';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { type ApiTarget, ApiError, callApi } from './apiClient.ts';

export interface ReplayOptions {
  target: ApiTarget;
  events: MethodEvent[];
  /** Events per second; 0 sends as fast as the hub takes them. */
  rate: number;
  /** Most events per request. */
  batchSize: number;
  /** Show a progress bar (on stderr) when true. */
  progress: boolean;
}

export interface ReplayResult {
  sent: number;
  applied: number;
  duplicate: number;
  accepted: number;
  requests: number;
  seconds: number;
}

interface IngressAnswer {
  results: { outcome: 'applied' | 'duplicate' | 'accepted' }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many events go in each request: about a tenth of a second's worth at the rate, within the batch size. */
export function batchSizeFor(rate: number, max: number): number {
  return rate > 0 ? Math.max(1, Math.min(max, Math.round(rate / 10))) : max;
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { events, rate } = options;
  const size = batchSizeFor(rate, options.batchSize);
  const result: ReplayResult = { sent: 0, applied: 0, duplicate: 0, accepted: 0, requests: 0, seconds: 0 };
  const bar = options.progress
    ? new cliProgress.SingleBar(
        {
          format:
            'replaying |{bar}| {percentage}% {value}/{total} events | {applied} applied, {duplicate} already there | {eta_formatted} left',
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(events.length, 0, { applied: 0, duplicate: 0 });
  const started = Date.now();
  try {
    for (let i = 0; i < events.length; i += size) {
      const batch = events.slice(i, i + size);
      const answer = await postWithRetry(options.target, batch);
      result.requests++;
      result.sent += batch.length;
      for (const r of answer.results) result[r.outcome]++;
      bar?.update(result.sent, { applied: result.applied, duplicate: result.duplicate });
      if (rate > 0) {
        const due = started + (result.sent / rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
    }
  } finally {
    bar?.stop();
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** Retries what may pass later (the hub or Kafka briefly away); a refusal (4xx) stops the replay. */
async function postWithRetry(target: ApiTarget, batch: MethodEvent[]): Promise<IngressAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await callApi<IngressAnswer>(target, '/api/v1/case-events', { method: 'POST', body: batch }))
        .body;
    } catch (error) {
      const transient = error instanceof ApiError && (error.status === 0 || error.status >= 500);
      if (!transient || attempt >= 8) throw error;
      await sleep(backoff(attempt + 1, 250, 10_000));
    }
  }
}

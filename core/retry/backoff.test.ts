import { expect, it } from 'vitest';
import { backoff } from './backoff.ts';

const samples = (attempt: number, baseMs: number, maxMs: number) =>
  Array.from({ length: 500 }, () => backoff(attempt, baseMs, maxMs));

it('waits between half and all of base × 2^(attempt-1), never above the longest wait', () => {
  for (const [attempt, low, high] of [
    [1, 50, 100],
    [2, 100, 200],
    [4, 400, 800],
    [12, 15_000, 30_000],
  ] as const) {
    const waits = samples(attempt, 100, 30_000);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(low);
    expect(Math.max(...waits)).toBeLessThanOrEqual(high);
  }
});

it('jitters, so instances that failed together do not retry together', () => {
  expect(new Set(samples(3, 100, 30_000)).size).toBeGreaterThan(50);
});

it('takes an attempt of 0 (no failure yet counted) as the first', () => {
  expect(Math.max(...samples(0, 100, 30_000))).toBeLessThanOrEqual(100);
});

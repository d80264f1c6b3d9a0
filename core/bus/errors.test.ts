import { describe, expect, it } from 'vitest';
import { retryAfterMs } from './errors.ts';

describe('retryAfterMs', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  it.each([
    ['2', 2000],
    [' 120 ', 120_000],
    ['Mon, 23 Nov 2026 12:00:30 GMT', 30_000],
    ['Mon, 23 Nov 2026 11:59:00 GMT', 0], // in the past
    ['3600', 300_000], // capped
    ['soon', 0],
    ['', 0],
    [null, 0],
  ])('reads %j as %d ms', (header, ms) => {
    expect(retryAfterMs(header, 300_000, now)).toBe(ms);
  });
});

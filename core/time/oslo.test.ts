import { describe, expect, it } from 'vitest';
import { endOfOsloDay, osloDateOf } from './oslo.ts';

describe('osloDateOf', () => {
  it('gives the Norwegian calendar day across midnight and both daylight-saving changes', () => {
    expect(osloDateOf('2024-06-30T22:30:00.000Z')).toBe('2024-07-01'); // summer: UTC+2
    expect(osloDateOf('2024-01-15T22:59:00.000Z')).toBe('2024-01-15'); // winter: UTC+1
    expect(osloDateOf('2024-01-15T23:00:00.000Z')).toBe('2024-01-16');
    expect(osloDateOf(Date.parse('2021-03-27T23:30:00Z'))).toBe('2021-03-28'); // the night clocks go forward
    expect(osloDateOf(new Date('2021-10-30T22:30:00Z'))).toBe('2021-10-31'); // the night clocks go back
  });
});

describe('endOfOsloDay', () => {
  it('is 23:59:59.999 Oslo time: 21:59:59.999Z in summer, 22:59:59.999Z in winter, on both changeover days', () => {
    expect(new Date(endOfOsloDay('2024-06-30')).toISOString()).toBe('2024-06-30T21:59:59.999Z');
    expect(new Date(endOfOsloDay('2024-01-15')).toISOString()).toBe('2024-01-15T22:59:59.999Z');
    expect(new Date(endOfOsloDay('2021-03-28')).toISOString()).toBe('2021-03-28T21:59:59.999Z');
    expect(new Date(endOfOsloDay('2021-10-31')).toISOString()).toBe('2021-10-31T22:59:59.999Z');
  });
});

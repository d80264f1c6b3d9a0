import { describe, expect, it } from 'vitest';
import { osloDateOf } from './oslo.ts';

describe('osloDateOf', () => {
  it('gives the Norwegian calendar day across midnight and both daylight-saving changes', () => {
    expect(osloDateOf('2024-06-30T22:30:00.000Z')).toBe('2024-07-01'); // summer: UTC+2
    expect(osloDateOf('2024-01-15T22:59:00.000Z')).toBe('2024-01-15'); // winter: UTC+1
    expect(osloDateOf('2024-01-15T23:00:00.000Z')).toBe('2024-01-16');
    expect(osloDateOf(Date.parse('2021-03-27T23:30:00Z'))).toBe('2021-03-28'); // the night clocks go forward
    expect(osloDateOf(new Date('2021-10-30T22:30:00Z'))).toBe('2021-10-31'); // the night clocks go back
  });
});

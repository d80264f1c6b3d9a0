import { describe, expect, it } from 'vitest';
import { boundMs, violationsOf } from './validity.ts';

/** A contract of one instant and one date, with the kinds' default bounds (2013 onwards; +1d, +20y). */
const schema = {
  type: 'record',
  name: 'Probe',
  fields: [
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    { name: 'on', type: ['null', { type: 'int', logicalType: 'date' }] },
  ],
};
const now = Date.parse('2026-12-03T10:00:00Z');
const reasons = (value: object) => violationsOf(schema, value, now).map((v) => `${v.path} ${v.reason}`);

describe('instants and dates against their bounds', () => {
  it('takes a real instant in range, and a real date in range', () => {
    expect(reasons({ at: '2026-12-03T10:00:00+01:00', on: '2046-12-03' })).toEqual([]);
  });

  it.each([
    ['2026-02-30T10:00:00Z', 'not a real instant'],
    ['2026-12-03T23:59:60Z', 'not a real instant'],
    ['2026-12-03T10:00:00+19:00', 'not a real instant'],
    ['2026-12-03T10:00:00', 'not a real instant'],
    ['2012-12-31T23:59:59Z', 'is before 2013-01-01T00:00:00Z'],
    ['2026-12-04T10:00:01Z', 'is after 2026-12-04T10:00:00.000Z (now +1d)'],
  ])('refuses the instant %s: %s', (at, reason) => {
    const found = reasons({ at, on: null });
    expect(found).toEqual([expect.stringContaining(reason)]);
    expect(found[0]).toMatch(/^at /);
  });

  it.each([
    ['2023-02-29', 'not a real date'],
    ['2012-12-31', 'is before 2013-01-01'],
    ['2046-12-04', 'is after 2046-12-03 (now +20y)'],
  ])('refuses the date %s: %s', (on, reason) => {
    expect(reasons({ at: '2026-12-03T10:00:00Z', on })).toEqual([expect.stringContaining(reason)]);
  });

  it('reads relative and absolute bounds the same way each time', () => {
    expect(boundMs('+1d', now)).toBe(now + 86_400_000);
    expect(boundMs('+12h', now)).toBe(now + 12 * 3_600_000);
    expect(new Date(boundMs('+20y', now)).toISOString()).toBe('2046-12-03T10:00:00.000Z');
    expect(boundMs('2013-01-01', now)).toBe(Date.parse('2013-01-01T00:00:00Z'));
    expect(() => boundMs('soon', now)).toThrow(/VALIDITY_UNREADABLE/);
  });
});

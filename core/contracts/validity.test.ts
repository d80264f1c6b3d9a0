import { describe, expect, it } from 'vitest';
import { boundMs, textProblem, violationsOf } from './validity.ts';

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

describe('text XML 1.0 can carry', () => {
  /** XML 1.0's Char production, less the C1 controls and the non-characters, which the hub refuses too. */
  const nonCharacter = (cp: number) => (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
  const carried = (cp: number, multiline: boolean) =>
    (multiline && (cp === 0x09 || cp === 0x0a || cp === 0x0d)) ||
    (((cp >= 0x20 && cp <= 0xd7ff && !(cp >= 0x7f && cp <= 0x9f)) || (cp >= 0xe000 && cp <= 0x10ffff)) &&
      !nonCharacter(cp));

  it('refuses exactly the code points outside it, one line or several, each with where and why', () => {
    const wrong: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      const text = `ab${String.fromCodePoint(cp)}`;
      for (const multiline of [false, true]) {
        const problem = textProblem(text, multiline);
        if ((problem === null) !== carried(cp, multiline)) wrong.push(`U+${cp.toString(16)} ${multiline}`);
        else if (problem !== null && !problem.includes('at character 3'))
          wrong.push(`U+${cp.toString(16)}: ${problem}`);
      }
    }
    expect(wrong.slice(0, 10)).toEqual([]);
  });

  it('tells a lone surrogate from a pair', () => {
    expect(textProblem('x\uD83D\uDE00y')).toBeNull();
    expect(textProblem('x\uD83Dy')).toMatch(/lone surrogate U\+D83D at character 2/);
    expect(textProblem('x\uDE00')).toMatch(/lone surrogate U\+DE00 at character 2/);
    expect(textProblem('ok\tthen', false)).toMatch(/a tab at character 3/);
    expect(textProblem('ok\tthen', true)).toBeNull();
  });
});

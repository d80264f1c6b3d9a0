/** Case-event JSON to contract events: defaults filled, every problem of every event named. */
import { describe, expect, it } from 'vitest';
import { caseEventFromJson, caseEventsFromBody } from './mapping.ts';

const registration = {
  eventId: '5b1f6c1e-0000-4000-8000-000000000001',
  methodId: 'ID2024_001',
  type: 'METHOD_REGISTERED',
  occurredAt: '2024-01-02T10:00:00+01:00',
  registered: {
    details: {
      name: 'Lecanemab ved tidlig Alzheimers sykdom',
      methodType: 'MEDICINE',
      atcCodes: ['N06DX04'],
    },
  },
};

describe('case-event mapping', () => {
  it('fills every defaulted field and normalises the instant to UTC', () => {
    const mapped = caseEventFromJson(registration);
    expect(mapped.ok).toBe(true);
    if (!mapped.ok) return;
    expect(mapped.event.source).toBe('case-system');
    expect(mapped.event.occurredAt).toBe('2024-01-02T09:00:00.000Z');
    expect(mapped.event.statusChanged).toBeNull();
    expect(mapped.event.registered!.details.level).toBe('NATIONAL');
    expect(mapped.event.registered!.details.substances).toEqual([]);
  });

  it.each([
    [{ ...registration, methodId: undefined }, '(event)', 'missing required field "methodId"'],
    [{ ...registration, colour: 'blå' }, '(event)', 'unknown field "colour"'],
    [{ ...registration, type: 'METHOD_INVENTED' }, 'type', 'must be one of METHOD_REGISTERED'],
    [{ ...registration, occurredAt: 'i går' }, 'occurredAt', 'must match format "date-time"'],
    [{ ...registration, sourceSequence: 'tre' }, 'sourceSequence', 'must be integer'],
    [
      { ...registration, registered: { details: { name: 'x', methodType: 'MEDICINE', atcCodes: 'L01' } } },
      'registered.details.atcCodes',
      'must be array',
    ],
  ])('names the field and the problem (%#)', (json, path, reason) => {
    const mapped = caseEventFromJson(json, 3);
    expect(mapped.ok).toBe(false);
    if (mapped.ok) return;
    expect(mapped.problems).toContainEqual(expect.objectContaining({ index: 3, path }));
    expect(mapped.problems.find((p) => p.path === path)!.reason).toContain(reason);
  });

  it('reports the problems of every event of a batch at once', () => {
    const mapped = caseEventsFromBody([registration, { ...registration, type: 1 }, { eventId: 2 }], 10);
    expect(mapped.ok).toBe(false);
    if (mapped.ok) return;
    expect(mapped.status).toBe(400);
    expect(new Set(mapped.problems.map((p) => p.index))).toEqual(new Set([1, 2]));
  });

  it('refuses an empty batch and one over the limit', () => {
    const empty = caseEventsFromBody([], 10);
    expect(!empty.ok && empty.status).toBe(400);
    const big = caseEventsFromBody(
      Array.from({ length: 11 }, () => registration),
      10,
    );
    expect(!big.ok && big.status).toBe(413);
    expect(!big.ok && big.problems[0]!.reason).toContain('at most 10');
  });
});

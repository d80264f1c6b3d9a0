import { decisionOf } from '../demo/fixtures.ts';
import { describe, expect, it } from 'vitest';
import type { MethodDetails, MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { applyEvent } from './applyEvent.ts';
import { methodEvent } from './eventBuilder.ts';
import { atcCodeError, atcLevel, methodIdError } from './identifiers.ts';

const id = 'ID2021_042';
const details: MethodDetails = {
  name: 'Nivolumab til behandling av lungekreft',
  shortDescription: null,
  methodType: 'MEDICINE',
  level: 'NATIONAL',
  specialty: 'Onkologi',
  indication: 'Ikke-småcellet lungekreft',
  substances: ['nivolumab'],
  atcCodes: ['L01FF01'],
  marketingAuthorisation: 'GRANTED',
  supplier: 'Bristol-Myers Squibb',
  hPrescription: false,
  estimatedPatientsPerYear: 250,
  guidelineFlags: [],
  assessmentUrl: null,
  supplierConfidentialNote: null,
};

let clock = Date.parse('2021-03-01T09:00:00Z');
const at = () => {
  clock += 86_400_000;
  return new Date(clock).toISOString();
};

function fold(events: MethodEvent[]): MethodState {
  let state: MethodState | undefined;
  for (const event of events) {
    const result = applyEvent(state, event);
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.code}: ${e.reason}`).join('; '));
    state = result.value;
  }
  return state!;
}

const registered = () => methodEvent('METHOD_REGISTERED', id, { details }, { occurredAt: at() });
const toStatus = (to: MethodState['status']) =>
  methodEvent('STATUS_CHANGED', id, { from: null, to, reason: null }, { occurredAt: at() });
const ordered = () =>
  methodEvent(
    'ASSIGNMENT_ORDERED',
    id,
    { assignee: 'SLV', slvTrack: 'A', fhiProduct: null, orderedOn: '2021-04-12', deadline: null },
    { occurredAt: at() },
  );
const decided = (outcome: 'INTRODUCED' | 'TEMPORARILY_INTRODUCED' | 'NOT_INTRODUCED', extra = {}) =>
  methodEvent(
    'DECISION_MADE',
    id,
    decisionOf(outcome, '2022-01-24', { effectiveFrom: '2022-02-01', ...extra }),
    { occurredAt: at() },
  );

const throughAssessment = () => [
  registered(),
  toStatus('HORIZON_SCANNING'),
  toStatus('AWAITING_ORDERING'),
  ordered(),
  methodEvent('ASSESSMENT_STARTED', id, { startedOn: '2021-05-01', assessor: 'SLV' }, { occurredAt: at() }),
  methodEvent(
    'ASSESSMENT_PAUSED',
    id,
    { pausedOn: '2021-06-01', waitingFor: 'dokumentasjon', absoluteDeadline: null },
    { occurredAt: at() },
  ),
  methodEvent('ASSESSMENT_RESUMED', id, { resumedOn: '2021-07-01' }, { occurredAt: at() }),
  methodEvent(
    'ASSESSMENT_DELIVERED',
    id,
    { deliveredOn: '2021-10-01', reportUrl: null, simplified: false },
    { occurredAt: at() },
  ),
  toStatus('ASSESSMENT_COMPLETED'),
  toStatus('AWAITING_DECISION'),
];

describe('the method state machine', () => {
  it('folds a whole lifecycle, recording every stage visited', () => {
    const state = fold([...throughAssessment(), decided('INTRODUCED')]);
    expect(state.status).toBe('DECIDED');
    expect(state.version).toBe(11);
    expect(state.assignment?.slvTrack).toBe('A');
    expect(state.paused).toBeNull();
    expect(state.stages.map((s) => s.status)).toEqual([
      'PROPOSAL_RECEIVED',
      'HORIZON_SCANNING',
      'AWAITING_ORDERING',
      'ASSESSMENT_ORDERED',
      'ASSESSMENT_IN_PROGRESS',
      'ASSESSMENT_COMPLETED',
      'AWAITING_DECISION',
      'DECIDED',
    ]);
    expect(state.stages.slice(0, -1).every((s) => s.leftAt !== null)).toBe(true);
    expect(state.stages.at(-1)?.leftAt).toBeNull();
  });

  it('rejects an illegal transition naming the method and both states', () => {
    const state = fold([...throughAssessment(), decided('INTRODUCED')]);
    const result = applyEvent(state, toStatus('HORIZON_SCANNING'));
    expect(result).toEqual({
      ok: false,
      errors: [
        { code: 'ILLEGAL_TRANSITION', reason: 'ID2021_042 DECIDED -> HORIZON_SCANNING (STATUS_CHANGED)' },
      ],
    });
  });

  it('refuses a decision before any assessment was ordered, unless the medical directors decide without documentation', () => {
    const early = fold([registered(), toStatus('AWAITING_ORDERING')]);
    const refused = applyEvent(early, decided('INTRODUCED'));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.errors[0]?.code).toBe('ILLEGAL_TRANSITION');
    const byDirectors = applyEvent(
      early,
      decided('INTRODUCED', { forum: 'MEDICAL_DIRECTORS', withoutDocumentation: true }),
    );
    expect(byDirectors.ok && byDirectors.value.status).toBe('DECIDED');
  });

  it('requires a temporary introduction to carry reassess-by date, outcome measures, data plan and exit plan', () => {
    const ready = fold(throughAssessment());
    const incomplete = applyEvent(ready, decided('TEMPORARILY_INTRODUCED'));
    expect(!incomplete.ok && incomplete.errors.map((e) => e.code)).toEqual([
      'INCOMPLETE_TEMPORARY_INTRODUCTION',
    ]);
    const complete = applyEvent(
      ready,
      decided('TEMPORARILY_INTRODUCED', {
        temporaryIntroduction: {
          reassessBy: '2025-01-24',
          outcomeMeasures: ['totaloverlevelse'],
          dataPlan: 'Registerdata fra Kreftregisteret',
          exitPlan: 'Utfases om effekten ikke bekreftes',
        },
      }),
    );
    expect(complete.ok && complete.value.decision?.temporaryIntroduction?.reassessBy).toBe('2025-01-24');
  });

  it('follows temporary introduction through reassessment to a new decision or phase-out', () => {
    const state = fold([
      ...throughAssessment(),
      decided('TEMPORARILY_INTRODUCED', {
        temporaryIntroduction: {
          reassessBy: '2025-01-24',
          outcomeMeasures: ['PFS'],
          dataPlan: 'register',
          exitPlan: 'utfasing',
        },
      }),
      methodEvent(
        'REASSESSMENT_STARTED',
        id,
        { startedOn: '2025-01-01', reason: 'planlagt revurdering' },
        { occurredAt: at() },
      ),
      methodEvent(
        'PHASED_OUT',
        id,
        { effectiveFrom: '2025-06-01', subGroup: null, reason: 'ikke bekreftet effekt' },
        { occurredAt: at() },
      ),
    ]);
    expect(state.status).toBe('PHASED_OUT');
    expect(state.phaseOuts).toHaveLength(1);
  });

  it('keeps a sub-group phase-out from changing the status', () => {
    const state = fold([
      ...throughAssessment(),
      decided('INTRODUCED'),
      methodEvent(
        'PHASED_OUT',
        id,
        { effectiveFrom: '2023-01-01', subGroup: 'pasienter over 80 år', reason: null },
        { occurredAt: at() },
      ),
    ]);
    expect(state.status).toBe('DECIDED');
    expect(state.phaseOuts[0]?.subGroup).toBe('pasienter over 80 år');
  });

  it('grants and overrides exceptions, refusing unknown or repeated ones', () => {
    const exception = (type: 'EXCEPTION_GRANTED' | 'EXCEPTION_OVERRIDDEN', exceptionId: string) =>
      methodEvent(
        type,
        id,
        { exceptionId, kind: 'GROUP', scope: 'barn', holder: null, effectiveOn: '2021-08-01' },
        { occurredAt: at() },
      );
    const state = fold([
      registered(),
      exception('EXCEPTION_GRANTED', 'U1'),
      exception('EXCEPTION_OVERRIDDEN', 'U1'),
    ]);
    expect(state.exceptions[0]?.overriddenFrom).toBe('2021-08-01');
    expect(applyEvent(state, exception('EXCEPTION_GRANTED', 'U1')).ok).toBe(false);
    const unknown = applyEvent(state, exception('EXCEPTION_OVERRIDDEN', 'U9'));
    expect(!unknown.ok && unknown.errors[0]?.code).toBe('UNKNOWN_EXCEPTION');
  });

  it.each([
    ['an event for an unregistered method', undefined, toStatus('HORIZON_SCANNING'), 'UNKNOWN_METHOD'],
    ['a second registration', 'registered', registered(), 'METHOD_ALREADY_REGISTERED'],
    [
      'resuming an assessment that is not paused',
      'ordered',
      methodEvent('ASSESSMENT_RESUMED', id, { resumedOn: '2021-07-01' }),
      'ILLEGAL_TRANSITION',
    ],
    [
      'a status change whose from is wrong',
      'registered',
      methodEvent('STATUS_CHANGED', id, { from: 'DECIDED', to: 'HORIZON_SCANNING', reason: null }),
      'STATUS_MISMATCH',
    ],
    [
      'an assignment to SLV without a track',
      'awaiting',
      methodEvent('ASSIGNMENT_ORDERED', id, {
        assignee: 'SLV',
        slvTrack: null,
        fhiProduct: null,
        orderedOn: '2021-04-01',
        deadline: null,
      }),
      'MISSING_SLV_TRACK',
    ],
  ] as const)('rejects %s', (_what, setup, event, code) => {
    const setups: Record<string, () => MethodEvent[]> = {
      registered: () => [registered()],
      ordered: () => [registered(), toStatus('AWAITING_ORDERING'), ordered()],
      awaiting: () => [registered(), toStatus('AWAITING_ORDERING')],
    };
    const state = setup ? fold(setups[setup]!()) : undefined;
    const result = applyEvent(state, { ...event, occurredAt: at() });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map((e) => e.code)).toContain(code);
  });

  it('rejects an event older than the last one applied, and a repeated source sequence', () => {
    const state = fold([registered()]);
    const old = { ...toStatus('HORIZON_SCANNING'), occurredAt: '2020-01-01T00:00:00.000Z' };
    expect(
      !applyEvent(state, old).ok &&
        (applyEvent(state, old) as { errors: { code: string }[] }).errors[0]?.code,
    ).toBe('OUT_OF_ORDER');
    const s1 = fold([{ ...registered(), sourceSequence: 5 }]);
    const replay = applyEvent(s1, { ...toStatus('HORIZON_SCANNING'), sourceSequence: 5 });
    expect(!replay.ok && replay.errors[0]?.code).toBe('OUT_OF_ORDER');
  });

  it('lists every problem of an event at once: bad ID, bad ATC code, wrong detail field', () => {
    const bad = {
      ...methodEvent('METHOD_REGISTERED', 'ID21_42', { details: { ...details, atcCodes: ['X99'] } }),
      statusChanged: { from: null, to: 'CLOSED' as const, reason: null },
    };
    const result = applyEvent(undefined, bad);
    expect(!result.ok && result.errors.map((e) => e.code).sort()).toEqual([
      'INVALID_ATC_CODE',
      'INVALID_METHOD_ID',
      'UNEXPECTED_DETAIL',
    ]);
  });
});

describe('identifiers', () => {
  it.each([
    ['ID2019_074', true],
    ['ID2016_001', true],
    ['ID2019_74', false],
    ['id2019_074', false],
    ['ID1999_001', false],
    ['ID2019_000', false],
  ])('method ID %s is valid: %s', (value, valid) => {
    expect(methodIdError(value) === null).toBe(valid);
  });

  it.each([
    ['L', 1],
    ['L01', 2],
    ['L01F', 3],
    ['L01FF', 4],
    ['L01FF02', 5],
    ['L01FF2', null],
    ['E01FF02', null],
    ['l01ff02', null],
    ['L01FF023', null],
  ])('ATC code %s has level %s', (code, level) => {
    expect(atcLevel(code)).toBe(level);
  });

  it('names the required level when an ATC code is too coarse', () => {
    expect(atcCodeError('L01FF', 5)?.reason).toBe('"L01FF" is an ATC level-4 code; level 5 is required');
  });
});

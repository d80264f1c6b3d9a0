/**
 * The decisions the source documents allow and the state machine once refused: the medical directors
 * deciding during an assessment without documentation (002:51), a new decision after "not introduced"
 * following a new price offer (004:874), and exceptions held per region and trust (003:730, 003:732).
 */
import { describe, expect, it } from 'vitest';
import type { MethodEvent, MethodException, MethodState } from '../../contracts/generated/types.ts';
import { decisionOf, medicineDetails } from '../demo/fixtures.ts';
import { applyEvent } from './applyEvent.ts';
import { changeLogOf, decisionRoundsOf } from './changeLog.ts';
import { methodEvent } from './eventBuilder.ts';
import { MethodStore } from './methodStore.ts';
import { exceptionsByRegion } from './regionalExceptions.ts';
import { newPriceOfferRounds, stageDurations } from './stageStatistics.ts';

const id = 'ID2022_017';
const day = (n: number) => new Date(Date.UTC(2022, 0, 3, 10) + n * 86_400_000).toISOString();
const dateOf = (n: number) => day(n).slice(0, 10);

const registered = () =>
  methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }, { occurredAt: day(0) });
const toStatus = (n: number, to: MethodState['status']) =>
  methodEvent('STATUS_CHANGED', id, { from: null, to, reason: null }, { occurredAt: day(n) });
const decided = (n: number, outcome: 'INTRODUCED' | 'NOT_INTRODUCED', extra = {}) =>
  methodEvent('DECISION_MADE', id, decisionOf(outcome, dateOf(n), extra), { occurredAt: day(n) });
const priceStarted = (n: number) =>
  methodEvent('PRICE_NEGOTIATION_STARTED', id, { startedOn: dateOf(n) }, { occurredAt: day(n) });
const priceConcluded = (n: number) =>
  methodEvent(
    'PRICE_NEGOTIATION_CONCLUDED',
    id,
    {
      concludedOn: dateOf(n),
      agreementType: 'FLAT_DISCOUNT',
      publicPriceNoteUrl: null,
      confidentialPriceNoteUrl: null,
    },
    { occurredAt: day(n) },
  );

/** Registered, ordered to SLV on track B, assessment started and paused waiting for the supplier. */
const pausedAssessment = (): MethodEvent[] => [
  registered(),
  toStatus(1, 'AWAITING_ORDERING'),
  methodEvent(
    'ASSIGNMENT_ORDERED',
    id,
    { assignee: 'SLV', slvTrack: 'B', fhiProduct: null, orderedOn: dateOf(2), deadline: null },
    { occurredAt: day(2) },
  ),
  methodEvent('ASSESSMENT_STARTED', id, { startedOn: dateOf(3), assessor: 'DMP' }, { occurredAt: day(3) }),
  methodEvent(
    'ASSESSMENT_PAUSED',
    id,
    { pausedOn: dateOf(10), waitingFor: 'dokumentasjon', absoluteDeadline: dateOf(100) },
    { occurredAt: day(10) },
  ),
];

/** To AWAITING_DECISION by the ordinary path, then "not introduced" on day 20. */
const notIntroduced = (): MethodEvent[] => [
  registered(),
  toStatus(1, 'AWAITING_ORDERING'),
  toStatus(2, 'ASSESSMENT_ORDERED'),
  toStatus(3, 'ASSESSMENT_IN_PROGRESS'),
  toStatus(4, 'ASSESSMENT_COMPLETED'),
  toStatus(5, 'AWAITING_DECISION'),
  decided(20, 'NOT_INTRODUCED'),
];

function fold(events: MethodEvent[]): MethodState {
  let state: MethodState | undefined;
  for (const event of events) {
    const result = applyEvent(state, event);
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.code}: ${e.reason}`).join('; '));
    state = result.value;
  }
  return state!;
}

const reasonOf = (state: MethodState, event: MethodEvent) => {
  const result = applyEvent(state, event);
  return result.ok ? null : result.errors.map((e) => `${e.code}: ${e.reason}`).join('; ');
};

describe('the medical directors deciding during an assessment, without documentation', () => {
  const byDirectors = {
    forum: 'MEDICAL_DIRECTORS',
    withoutDocumentation: true,
    withoutDocumentationReason: 'Leverandøren har meldt at dokumentasjonen ikke finnes.',
  } as const;

  it('is allowed from ASSESSMENT_IN_PROGRESS (even paused) and ends the pause', () => {
    const state = fold([...pausedAssessment(), decided(120, 'NOT_INTRODUCED', byDirectors)]);
    expect(state.status).toBe('DECIDED');
    expect(state.decision?.withoutDocumentationReason).toBe(byDirectors.withoutDocumentationReason);
    expect(state.paused).toBeNull();
  });

  it('is allowed from ASSESSMENT_ORDERED', () => {
    const ordered = fold(pausedAssessment().slice(0, 3));
    expect(ordered.status).toBe('ASSESSMENT_ORDERED');
    expect(reasonOf(ordered, decided(30, 'INTRODUCED', byDirectors))).toBeNull();
  });

  it('is refused for Beslutningsforum, without withoutDocumentation, or without a reason, naming what is missing', () => {
    const state = fold(pausedAssessment());
    expect(reasonOf(state, decided(120, 'INTRODUCED'))).toBe(
      'ILLEGAL_TRANSITION: ID2022_017 ASSESSMENT_IN_PROGRESS -> DECIDED: the assessment is not completed; only the ' +
        'medical directors may decide now, without documentation and saying why; missing decision.forum ' +
        'MEDICAL_DIRECTORS, decision.withoutDocumentation true, decision.withoutDocumentationReason',
    );
    expect(
      reasonOf(state, decided(120, 'INTRODUCED', { ...byDirectors, withoutDocumentation: false })),
    ).toMatch(/missing decision\.withoutDocumentation true$/);
    expect(
      reasonOf(state, decided(120, 'INTRODUCED', { ...byDirectors, withoutDocumentationReason: '  ' })),
    ).toMatch(/missing decision\.withoutDocumentationReason$/);
    expect(
      reasonOf(state, decided(120, 'INTRODUCED', { ...byDirectors, forum: 'BESLUTNINGSFORUM' })),
    ).toMatch(/missing decision\.forum MEDICAL_DIRECTORS$/);
  });

  it('shows the decision in the history with its reason and the status it left', () => {
    const store = new MethodStore();
    for (const event of [...pausedAssessment(), decided(120, 'NOT_INTRODUCED', byDirectors)])
      store.offer(event);
    const [round] = decisionRoundsOf(store.ledger(id)!.entries);
    expect(round).toMatchObject({
      round: 1,
      forum: 'MEDICAL_DIRECTORS',
      withoutDocumentation: true,
      withoutDocumentationReason: byDirectors.withoutDocumentationReason,
      decidedFrom: 'ASSESSMENT_IN_PROGRESS',
      after: null,
    });
  });
});

describe('a new decision after "not introduced" following a new price offer', () => {
  const secondRound = () => [
    ...notIntroduced(),
    priceStarted(200),
    priceConcluded(260),
    decided(300, 'INTRODUCED', { effectiveFrom: dateOf(310) }),
  ];

  it('goes DECIDED -> PRICE_NEGOTIATION -> AWAITING_DECISION -> DECIDED', () => {
    const state = fold(secondRound());
    expect(state.status).toBe('DECIDED');
    expect(state.decision?.outcome).toBe('INTRODUCED');
    expect(state.stages.map((s) => s.status).slice(-4)).toEqual([
      'DECIDED',
      'PRICE_NEGOTIATION',
      'AWAITING_DECISION',
      'DECIDED',
    ]);
  });

  it('is refused after any other outcome, naming the latest', () => {
    const introduced = fold([...notIntroduced().slice(0, -1), decided(20, 'INTRODUCED')]);
    expect(reasonOf(introduced, priceStarted(200))).toBe(
      'ILLEGAL_TRANSITION: ID2022_017 DECIDED -> PRICE_NEGOTIATION: a new price negotiation follows only a ' +
        'NOT_INTRODUCED decision; the latest is INTRODUCED',
    );
  });

  it('shows both decisions in the history, the second after a new price offer', () => {
    const store = new MethodStore();
    for (const event of secondRound()) expect(store.offer(event).outcome).toBe('applied');
    const entries = store.ledger(id)!.entries;
    expect(decisionRoundsOf(entries).map((r) => [r.round, r.outcome, r.decidedFrom, r.after])).toEqual([
      [1, 'NOT_INTRODUCED', 'AWAITING_DECISION', null],
      [2, 'INTRODUCED', 'AWAITING_DECISION', 'NEW_PRICE_OFFER'],
    ]);
    const last = changeLogOf(entries).at(-1)!;
    expect(last.textChanges).toContainEqual({
      field: 'decision.outcome',
      from: 'NOT_INTRODUCED',
      to: 'INTRODUCED',
    });
  });

  it('shows in the stage statistics: the round, its days, and the DECIDED visit it ended', () => {
    const store = new MethodStore();
    for (const event of secondRound()) store.offer(event);
    expect(newPriceOfferRounds(store.states())).toEqual([
      {
        methodId: id,
        name: store.states()[0]!.details.name,
        reopenedAt: day(200),
        decidedAgainAt: day(300),
        days: 100,
      },
    ]);
    const decidedStage = stageDurations(store.states())[0]!.stages.find((s) => s.stage === 'DECIDED');
    expect(decidedStage).toMatchObject({ visits: 1, maxDays: 180 });
    // a round still waiting for its decision counts with no days yet
    const pending = new MethodStore();
    for (const event of secondRound().slice(0, -1)) pending.offer(event);
    expect(newPriceOfferRounds(pending.states())[0]).toMatchObject({ decidedAgainAt: null, days: null });
  });
});

describe('exceptions per region and trust', () => {
  const exception = (n: number, type: 'EXCEPTION_GRANTED' | 'EXCEPTION_OVERRIDDEN', x: MethodException) =>
    methodEvent(type, id, x, { occurredAt: day(n) });
  const forPatient: MethodException = {
    exceptionId: 'EPU-1',
    kind: 'INDIVIDUAL_PATIENT',
    scope: null,
    holder: { rhf: 'HELSE_VEST', trust: 'Helse Bergen HF' },
    effectiveOn: dateOf(8),
  };
  const forGroup: MethodException = {
    exceptionId: 'GU-1',
    kind: 'GROUP',
    scope: 'Barn under 12 år',
    holder: { rhf: 'HELSE_NORD', trust: null },
    effectiveOn: dateOf(9),
  };
  const unheld: MethodException = { ...forGroup, exceptionId: 'GU-2', holder: null };

  it('lists which regions hold which, valid on a day, and which decision overrode each from when', () => {
    const store = new MethodStore();
    const events = [
      ...notIntroduced().slice(0, 4),
      exception(8, 'EXCEPTION_GRANTED', forPatient),
      exception(9, 'EXCEPTION_GRANTED', forGroup),
      exception(9, 'EXCEPTION_GRANTED', unheld),
      toStatus(10, 'ASSESSMENT_COMPLETED'),
      toStatus(11, 'AWAITING_DECISION'),
      decided(20, 'INTRODUCED', { effectiveFrom: dateOf(30) }),
      exception(21, 'EXCEPTION_OVERRIDDEN', { ...forGroup, effectiveOn: dateOf(30) }),
    ];
    for (const event of events) expect(store.offer(event).outcome).toBe('applied');
    const entries = store.ledger(id)!.entries;
    const regions = exceptionsByRegion(entries, dateOf(25));
    expect(regions.map((r) => [r.rhf, r.name, r.valid, r.exceptions.map((x) => x.exceptionId)])).toEqual([
      ['HELSE_SOR_OST', 'Helse Sør-Øst RHF', 0, []],
      ['HELSE_VEST', 'Helse Vest RHF', 1, ['EPU-1']],
      ['HELSE_MIDT_NORGE', 'Helse Midt-Norge RHF', 0, []],
      ['HELSE_NORD', 'Helse Nord RHF', 1, ['GU-1']],
      ['UNKNOWN', 'RHF ikke oppgitt', 1, ['GU-2']],
    ]);
    expect(regions[1]!.exceptions[0]).toMatchObject({ trust: 'Helse Bergen HF', overriddenFrom: null });
    expect(regions[3]!.exceptions[0]).toMatchObject({
      overriddenFrom: dateOf(30),
      overriddenBy: { outcome: 'INTRODUCED', decidedOn: dateOf(20), forum: 'BESLUTNINGSFORUM' },
      valid: true,
    });
    // from the override date on, the group exception no longer holds
    const later = exceptionsByRegion(entries, dateOf(30));
    expect(later[3]!.valid).toBe(0);
    expect(later[3]!.exceptions[0]!.valid).toBe(false);
  });
});

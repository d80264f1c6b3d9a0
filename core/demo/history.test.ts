import { describe, expect, it } from 'vitest';
import type { MethodEvent, MethodState, MethodStatus } from '../../contracts/generated/types.ts';
import { applyEvent } from '../lifecycle/applyEvent.ts';
import { describeErrors } from '../lifecycle/errors.ts';
import { atcCodeError, methodIdError } from '../lifecycle/identifiers.ts';
import { beforeAssessment, inAssessment, type Status } from '../lifecycle/transitions.ts';
import { demoHistory, demoSummary } from './history.ts';
import { medicines, otherMethods } from './substances.ts';

/** A fixed cut-off, so the tests do not change as time passes. */
const UNTIL = '2026-11-01';
const UNTIL_INSTANT = '2026-11-01T23:59:59.999Z';
/** Far enough ahead that every method's whole life is in. */
const WHOLE_LIVES = '2100-01-01';

const history = demoHistory({ until: UNTIL });
const NORWEGIAN_LETTERS = /[æøåÆØÅ]/;

function byMethod(events: readonly MethodEvent[]): Map<string, MethodEvent[]> {
  const methods = new Map<string, MethodEvent[]>();
  for (const event of events) {
    const list = methods.get(event.methodId) ?? [];
    list.push(event);
    methods.set(event.methodId, list);
  }
  return methods;
}

/** Each event with the status its method had just before it, folding everything through the state machine. */
interface Folded {
  states: Map<string, MethodState>;
  statusBefore: Map<string, MethodStatus>;
  failures: string[];
}

function fold(events: readonly MethodEvent[]): Folded {
  const states = new Map<string, MethodState>();
  const statusBefore = new Map<string, MethodStatus>();
  const failures: string[] = [];
  for (const event of events) {
    const state = states.get(event.methodId);
    if (state) statusBefore.set(event.eventId, state.status);
    const result = applyEvent(state, event);
    if (result.ok) states.set(event.methodId, result.value);
    else failures.push(`${JSON.stringify(event)}\n  -> ${describeErrors(result.errors)}`);
  }
  return { states, statusBefore, failures };
}

const folded = fold(history);
const ofType = <T extends MethodEvent['type']>(type: T) => history.filter((e) => e.type === type);

describe('the catalogue', () => {
  it('holds at least 80 real medicines with well-formed level-5 ATC codes and 20 other methods', () => {
    expect(medicines.length).toBeGreaterThanOrEqual(80);
    expect(otherMethods.length).toBeGreaterThanOrEqual(20);
    const badCodes = medicines
      .map((m) => ({ brand: m.brand, error: atcCodeError(m.atc, 5) }))
      .filter((m) => m.error !== null);
    expect(badCodes).toEqual([]);
    expect(new Set(medicines.map((m) => m.brand)).size).toBe(medicines.length);
  });
});

describe('demoHistory', () => {
  it('has at least 300 methods over at least 8 registration years, starting with ID2016_001', () => {
    const summary = demoSummary(history);
    expect(summary.methods).toBeGreaterThanOrEqual(300);
    expect(Object.keys(summary.methodsByYear).length).toBeGreaterThanOrEqual(8);
    expect(history[0]!.methodId).toBe('ID2016_001');
    expect(history[0]!.type).toBe('METHOD_REGISTERED');
    const ids = [...byMethod(history).keys()];
    expect(ids.map(methodIdError).filter(Boolean)).toEqual([]);
    for (const year of Object.keys(summary.methodsByYear)) expect(ids).toContain(`ID${year}_001`);
  });

  it('folds every event through the state machine without a single rejection', () => {
    expect(folded.failures.slice(0, 5).join('\n')).toBe('');
    expect(folded.failures).toHaveLength(0);
  });

  it('is sorted by occurredAt and numbers each method 1, 2, 3 ... in that order', () => {
    for (let i = 1; i < history.length; i++) {
      expect(history[i - 1]!.occurredAt <= history[i]!.occurredAt).toBe(true);
    }
    for (const [methodId, events] of byMethod(history)) {
      expect(
        events.map((e) => e.sourceSequence),
        methodId,
      ).toEqual(events.map((_, i) => i + 1));
      expect(events.every((e) => e.source === 'case-system' && e.actor)).toBe(true);
    }
  });

  it('gives every event a unique UUID-shaped id', () => {
    const ids = history.map((e) => e.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('is the same for the same seed and different for another seed', () => {
    expect(demoHistory({ until: UNTIL })).toEqual(history);
    const other = demoHistory({ seed: 7, until: UNTIL });
    expect(other.map((e) => e.eventId)).not.toEqual(history.map((e) => e.eventId));
    expect(other.map((e) => e.occurredAt)).not.toEqual(history.map((e) => e.occurredAt));
  });

  it('leaves out everything after until, and an earlier until gives a prefix of each method with the same ids', () => {
    expect(history.every((e) => e.occurredAt <= UNTIL_INSTANT)).toBe(true);
    const whole = byMethod(demoHistory({ until: WHOLE_LIVES }));
    const early = demoHistory({ until: '2021-06-30T12:00:00Z' });
    expect(early.every((e) => e.occurredAt <= '2021-06-30T12:00:00.000Z')).toBe(true);
    for (const [methodId, events] of [...byMethod(early), ...byMethod(history)]) {
      expect(events, methodId).toEqual(whole.get(methodId)!.slice(0, events.length));
    }
    expect(early.length).toBeLessThan(history.length);
  });

  it('defaults to now: nothing in the future, and every method registered by now', () => {
    const now = new Date().toISOString();
    const events = demoHistory();
    expect(events.every((e) => e.occurredAt <= now)).toBe(true);
    const registeredByNow = demoHistory({ until: WHOLE_LIVES }).filter(
      (e) => e.type === 'METHOD_REGISTERED' && e.occurredAt <= now,
    );
    expect(demoSummary(events).methods).toBe(registeredByNow.length);
  });

  it('rejects options it cannot honour, saying why', () => {
    expect(() => demoHistory({ until: 'i går' })).toThrow(/neither a date/);
    expect(() => demoHistory({ methods: 0 })).toThrow(/from 1 to/);
    expect(() => demoHistory({ seed: 1.5 })).toThrow(/integer/);
  });

  it('shows every event type and every decision outcome', () => {
    const summary = demoSummary(history);
    expect(Object.keys(summary.eventsByType).sort()).toEqual(
      [
        'METHOD_REGISTERED',
        'DETAILS_CHANGED',
        'STATUS_CHANGED',
        'ASSIGNMENT_ORDERED',
        'ASSIGNMENT_CHANGED',
        'ASSESSMENT_STARTED',
        'ASSESSMENT_PAUSED',
        'ASSESSMENT_RESUMED',
        'ASSESSMENT_DELIVERED',
        'PRICE_NEGOTIATION_STARTED',
        'PRICE_NEGOTIATION_CONCLUDED',
        'DECISION_MADE',
        'REASSESSMENT_STARTED',
        'PHASED_OUT',
        'EXCEPTION_GRANTED',
        'EXCEPTION_OVERRIDDEN',
        'METHOD_LINKED',
        'NOTE_ATTACHED',
        'METHOD_CLOSED',
        'DOCUMENTATION_COMPLETED',
      ].sort(),
    );
    expect(Object.keys(summary.decisionsByOutcome).sort()).toEqual(
      ['INTRODUCED', 'INTRODUCED_WITH_CONDITIONS', 'NOT_INTRODUCED', 'TEMPORARILY_INTRODUCED'].sort(),
    );
    expect(summary.events).toBe(history.length);
    expect(summary.firstOccurredAt).toBe(history[0]!.occurredAt);
    expect(summary.lastOccurredAt).toBe(history.at(-1)!.occurredAt);
  });

  it('re-assesses temporary introductions and decides them anew', () => {
    const reDecided = [...byMethod(history).values()].filter((events) => {
      const temporary = events.findIndex((e) => e.decision?.outcome === 'TEMPORARILY_INTRODUCED');
      if (temporary < 0) return false;
      const rest = events.slice(temporary + 1);
      const reassessment = rest.findIndex((e) => e.type === 'REASSESSMENT_STARTED');
      return reassessment >= 0 && rest.slice(reassessment).some((e) => e.type === 'DECISION_MADE');
    });
    expect(reDecided.length).toBeGreaterThan(0);
    for (const e of ofType('DECISION_MADE').filter((d) => d.decision!.outcome === 'TEMPORARILY_INTRODUCED')) {
      const t = e.decision!.temporaryIntroduction!;
      expect(t.reassessBy > e.decision!.decidedOn).toBe(true);
      expect(t.outcomeMeasures.length).toBeGreaterThan(0);
      expect(t.dataPlan).toMatch(NORWEGIAN_LETTERS);
      expect(t.exitPlan).toMatch(NORWEGIAN_LETTERS);
    }
  });

  it('phases out whole methods and sub-groups', () => {
    const phasedOut = ofType('PHASED_OUT').map((e) => e.phasedOut!);
    expect(phasedOut.some((p) => p.subGroup === null)).toBe(true);
    expect(phasedOut.some((p) => p.subGroup !== null)).toBe(true);
    expect([...folded.states.values()].some((s) => s.status === 'PHASED_OUT')).toBe(true);
  });

  it('grants and overrides exceptions for single patients and for groups', () => {
    for (const kind of ['INDIVIDUAL_PATIENT', 'GROUP'] as const) {
      expect(
        ofType('EXCEPTION_GRANTED').some((e) => e.exception!.kind === kind),
        kind,
      ).toBe(true);
      expect(
        ofType('EXCEPTION_OVERRIDDEN').some((e) => e.exception!.kind === kind),
        kind,
      ).toBe(true);
    }
  });

  it('closes methods that are withdrawn, not assigned, or ended at a hospital', () => {
    const reasons = new Set(ofType('METHOD_CLOSED').map((e) => e.closed!.reason));
    expect([...reasons].sort()).toEqual(['CLOSED_WITHOUT_ASSIGNMENT', 'ENDED', 'WITHDRAWN']);
  });

  it('has the medical directors decide without documentation before any assessment, and during one with a reason', () => {
    const withoutDocumentation = ofType('DECISION_MADE').filter((e) => e.decision!.withoutDocumentation);
    expect(withoutDocumentation.length).toBeGreaterThan(0);
    const during = withoutDocumentation.filter((e) =>
      inAssessment.has(folded.statusBefore.get(e.eventId) as Status),
    );
    expect(during.length).toBeGreaterThan(0);
    expect(during.length).toBeLessThan(withoutDocumentation.length);
    for (const e of withoutDocumentation) {
      expect(e.decision!.forum).toBe('MEDICAL_DIRECTORS');
      expect(e.decision!.withoutDocumentationReason).toMatch(NORWEGIAN_LETTERS);
      const before = folded.statusBefore.get(e.eventId) as Status;
      expect(beforeAssessment.has(before) || inAssessment.has(before)).toBe(true);
    }
  });

  it('decides anew after a new price offer that followed "not introduced", with no re-assessment between', () => {
    const rounds = [...byMethod(history).values()].filter((events) =>
      events.some(
        (e, i) =>
          e.type === 'PRICE_NEGOTIATION_STARTED' &&
          folded.statusBefore.get(e.eventId) === 'DECIDED' &&
          events.slice(0, i).findLast((d) => d.type === 'DECISION_MADE')?.decision!.outcome ===
            'NOT_INTRODUCED' &&
          events.slice(i).some((d) => d.type === 'DECISION_MADE'),
      ),
    );
    expect(rounds.length).toBeGreaterThan(0);
  });

  it('gives every exception a holder: a region, and for a single patient the trust that treats them', () => {
    const granted = ofType('EXCEPTION_GRANTED').map((e) => e.exception!);
    expect(granted.every((x) => x.holder && x.holder.rhf !== 'UNKNOWN')).toBe(true);
    expect(new Set(granted.map((x) => x.holder!.rhf)).size).toBe(4);
    for (const x of granted) expect(x.kind === 'INDIVIDUAL_PATIENT').toBe(x.holder!.trust !== null);
  });

  it('holds local mini-HTAs beside national assessments', () => {
    const states = [...folded.states.values()];
    expect(states.some((s) => s.details.level === 'LOCAL' && s.assignment?.assignee === 'LOCAL')).toBe(true);
    expect(states.some((s) => s.details.level === 'NATIONAL')).toBe(true);
  });

  it('orders assessments from SLV on every track, from FHI and locally, and changes some of them', () => {
    const assignments = ofType('ASSIGNMENT_ORDERED').map((e) => e.assignment!);
    const tracks = new Set(assignments.filter((a) => a.assignee === 'SLV').map((a) => a.slvTrack));
    expect([...tracks].sort()).toEqual(['A', 'B', 'C', 'D']);
    expect(assignments.some((a) => a.assignee === 'FHI' && a.fhiProduct)).toBe(true);
    expect(assignments.some((a) => a.assignee === 'LOCAL')).toBe(true);
    expect(ofType('ASSESSMENT_DELIVERED').some((e) => e.assessmentDelivered!.simplified)).toBe(true);
    const agreements = new Set(
      ofType('PRICE_NEGOTIATION_CONCLUDED').map((e) => e.priceNegotiationConcluded!.agreementType),
    );
    expect(agreements).toContain('FLAT_DISCOUNT');
    expect(agreements.size).toBeGreaterThanOrEqual(3);
  });

  it('changes details when the marketing authorisation comes and when the assessment is published', () => {
    const changes = ofType('DETAILS_CHANGED').map((e) => e.detailsChanged!.details);
    expect(changes.some((d) => d.marketingAuthorisation === 'GRANTED')).toBe(true);
    expect(changes.some((d) => d.assessmentUrl?.startsWith('https://'))).toBe(true);
  });

  it('links new indications, shared substances and re-assessments to earlier methods', () => {
    const links = ofType('METHOD_LINKED');
    const relations = new Set(links.map((e) => e.link!.relation));
    expect(relations).toContain('NEW_INDICATION');
    expect(relations).toContain('REASSESSMENT_OF');
    // IDs have a fixed width, so an earlier method sorts first
    for (const e of links) expect(e.link!.target < e.methodId, e.methodId).toBe(true);
  });

  it('leaves recent methods in progress, some of them paused, at the cut-off', () => {
    const states = [...folded.states.values()];
    expect(states.filter((s) => s.status === 'ASSESSMENT_IN_PROGRESS').length).toBeGreaterThan(0);
    expect(states.filter((s) => s.paused !== null).length).toBeGreaterThan(0);
    expect(
      states.filter((s) => ['PROPOSAL_RECEIVED', 'HORIZON_SCANNING', 'AWAITING_ORDERING'].includes(s.status))
        .length,
    ).toBeGreaterThan(0);
  });

  it('uses only well-formed ATC codes, and Norwegian texts with æ, ø and å', () => {
    const details = [
      ...ofType('METHOD_REGISTERED').map((e) => e.registered!.details),
      ...ofType('DETAILS_CHANGED').map((e) => e.detailsChanged!.details),
    ];
    const codes = details.flatMap((d) => d.atcCodes);
    expect(codes.length).toBeGreaterThan(200);
    expect(codes.map((c) => atcCodeError(c, 5)).filter(Boolean)).toEqual([]);
    const texts = [
      ...details.flatMap((d) => [d.name, d.indication]),
      ...ofType('STATUS_CHANGED').map((e) => e.statusChanged!.reason),
      ...ofType('DECISION_MADE').flatMap((e) => e.decision!.conditions),
      ...ofType('NOTE_ATTACHED').map((e) => e.note!.text),
      ...ofType('METHOD_CLOSED').map((e) => e.closed!.note),
      ...ofType('PHASED_OUT').map((e) => e.phasedOut!.reason),
    ];
    const norwegian = texts.filter((t) => t && NORWEGIAN_LETTERS.test(t));
    expect(norwegian.length).toBeGreaterThan(texts.length / 4);
    for (const letter of ['æ', 'ø', 'å'])
      expect(
        texts.some((t) => t?.includes(letter)),
        letter,
      ).toBe(true);
    const conditions = ofType('DECISION_MADE').flatMap((e) => e.decision!.conditions);
    expect(conditions.some((c) => NORWEGIAN_LETTERS.test(c))).toBe(true);
  });
});

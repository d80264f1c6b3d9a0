/** The SLV mappings, table-tested: what goes to SLV, how SLV edits are read, which become method events. */
import { describe, expect, it } from 'vitest';
import type { MethodEvent, MethodState, SlvCaseUpdate } from '../../contracts/generated/types.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { CircuitBreaker, CircuitOpenError } from '../../core/retry/circuitBreaker.ts';
import type { SlvCase } from './client.ts';
import {
  type CaseSnapshot,
  caseFromRow,
  caseUpdateOf,
  changeKindOf,
  eventIdOfChange,
  mergeOntoCurrent,
  methodEventsOf,
  osloDateOf,
  slvWorkFor,
} from './mapping.ts';

const slvAssignment = {
  assignee: 'SLV' as const,
  slvTrack: 'B' as const,
  fhiProduct: null,
  orderedOn: '2025-02-03',
  deadline: '2025-08-01',
};

function state(overrides: Partial<MethodState> = {}): MethodState {
  return {
    methodId: 'ID2025_001',
    status: 'ASSESSMENT_ORDERED',
    details: {
      name: 'Lekanemab ved tidlig Alzheimers sykdom',
      substances: ['lekanemab'],
      atcCodes: ['N06DX04'],
      indication: 'Tidlig Alzheimers sykdom',
    } as MethodState['details'],
    registeredAt: '2025-01-01T09:00:00.000Z',
    updatedAt: '2025-02-03T09:00:00.000Z',
    version: 3,
    lastEventId: 'x',
    lastSourceSequence: null,
    assignment: slvAssignment,
    paused: null,
    assessmentStarted: null,
    documentationCompleted: null,
    clockStops: [],
    assessmentDelivered: null,
    priceAgreement: null,
    decision: null,
    reassessment: null,
    phaseOuts: [],
    exceptions: [],
    links: [],
    closed: null,
    stages: [],
    recentEventIds: [],
    ...overrides,
  };
}

const ordered = methodEvent('ASSIGNMENT_ORDERED', 'ID2025_001', slvAssignment, { eventId: 'e-1' });

describe('what goes to SLV', () => {
  it('writes an assignment to SLV as an upsert of the case, marked with the event id', () => {
    const work = slvWorkFor(ordered, state({ assignment: null, status: 'AWAITING_ORDERING' }), state());
    expect(work).toEqual({
      kind: 'case',
      methodId: 'ID2025_001',
      eventId: 'e-1',
      createIfMissing: true,
      changes: {
        nm_name: 'Lekanemab ved tidlig Alzheimers sykdom',
        nm_track: 'B',
        nm_assignmentdate: '2025-02-03',
        nm_deadline: '2025-08-01',
        nm_status: 'Bestilt',
        nm_substance: 'lekanemab',
        nm_atccodes: 'N06DX04',
        nm_indication: 'Tidlig Alzheimers sykdom',
        nm_absolutedeadline: null,
        nm_sourceeventid: 'e-1',
      },
    });
  });

  it.each<[string, MethodEvent, MethodState, Record<string, unknown> | undefined]>([
    [
      'a change of track keeps SLV status',
      methodEvent(
        'ASSIGNMENT_CHANGED',
        'ID2025_001',
        { ...slvAssignment, slvTrack: 'A' },
        { eventId: 'e-2' },
      ),
      state({ assignment: { ...slvAssignment, slvTrack: 'A' } }),
      { nm_track: 'A', nm_sourceeventid: 'e-2' },
    ],
    [
      'an assessment started in the case system',
      methodEvent(
        'ASSESSMENT_STARTED',
        'ID2025_001',
        { startedOn: '2025-03-01', assessor: 'SLV' },
        { eventId: 'e-6' },
      ),
      state({ status: 'ASSESSMENT_IN_PROGRESS' }),
      { nm_status: 'Under vurdering', nm_sourceeventid: 'e-6' },
    ],
    [
      'a paused assessment with its absolute deadline',
      methodEvent(
        'ASSESSMENT_PAUSED',
        'ID2025_001',
        { pausedOn: '2025-04-01', waitingFor: 'Data fra Eisai', absoluteDeadline: '2025-07-01' },
        { eventId: 'e-7' },
      ),
      state({
        status: 'ASSESSMENT_IN_PROGRESS',
        paused: { pausedOn: '2025-04-01', waitingFor: 'Data fra Eisai', absoluteDeadline: '2025-07-01' },
      }),
      {
        nm_status: 'Klokken stoppet',
        nm_statusreason: 'Data fra Eisai',
        nm_absolutedeadline: '2025-07-01',
      },
    ],
    [
      'a decision',
      methodEvent(
        'DECISION_MADE',
        'ID2025_001',
        {
          forum: 'BESLUTNINGSFORUM',
          outcome: 'INTRODUCED',
          decidedOn: '2025-10-20',
          effectiveFrom: '2025-11-01',
          indication: null,
          conditions: [],
          withoutDocumentation: false,
          withoutDocumentationReason: null,
          temporaryIntroduction: null,
        },
        { eventId: 'e-8' },
      ),
      state({ status: 'DECIDED', decision: { outcome: 'INTRODUCED' } as MethodState['decision'] }),
      { nm_status: 'Innført', nm_statusreason: 'Besluttet i Beslutningsforum 2025-10-20' },
    ],
    [
      'new substances and ATC codes',
      methodEvent('DETAILS_CHANGED', 'ID2025_001', {} as never, { eventId: 'e-9' }),
      state({
        details: {
          ...state().details,
          substances: ['lekanemab', 'donanemab'],
          atcCodes: ['N06DX04', 'N06DX05'],
        },
      }),
      { nm_substance: 'lekanemab,donanemab', nm_atccodes: 'N06DX04,N06DX05' },
    ],
    [
      'an assignment moved to FHI closes the case at SLV',
      methodEvent(
        'ASSIGNMENT_CHANGED',
        'ID2025_001',
        { ...slvAssignment, assignee: 'FHI', slvTrack: null },
        { eventId: 'e-3' },
      ),
      state({ assignment: { ...slvAssignment, assignee: 'FHI', slvTrack: null } }),
      { nm_status: 'Avsluttet' },
    ],
    [
      'a reassessment',
      methodEvent(
        'REASSESSMENT_STARTED',
        'ID2025_001',
        { startedOn: '2027-01-01', reason: 'Nye data' },
        { eventId: 'e-4' },
      ),
      state({ status: 'REASSESSMENT' }),
      { nm_status: 'Revurdering bestilt', nm_statusreason: 'Nye data' },
    ],
    [
      'nothing for a method SLV does not assess',
      methodEvent('METHOD_CLOSED', 'ID2025_001', { reason: 'WITHDRAWN', note: null }, { eventId: 'e-5' }),
      state({ assignment: { ...slvAssignment, assignee: 'FHI', slvTrack: null } }),
      undefined,
    ],
    [
      'nothing for an event that came from SLV',
      methodEvent(
        'ASSESSMENT_STARTED',
        'ID2025_001',
        { startedOn: '2025-03-01', assessor: 'SLV' },
        { source: 'slv' },
      ),
      state({ status: 'ASSESSMENT_IN_PROGRESS' }),
      undefined,
    ],
  ])('%s', (_, event, after, expected) => {
    const work = slvWorkFor(event, state(), after);
    if (expected === undefined) expect(work).toBeUndefined();
    else expect(work?.kind === 'case' && work.changes).toMatchObject(expected);
  });

  it('sends a note as a note whose subject carries the note id', () => {
    const event = methodEvent('NOTE_ATTACHED', 'ID2025_001', {
      noteId: 'n-7',
      subject: 'Pris',
      text: 'Æ ø å',
    });
    expect(slvWorkFor(event, state(), state())).toMatchObject({
      kind: 'note',
      subject: '[n-7] Pris',
      text: 'Æ ø å',
    });
  });

  it('does not set SLV back to "Bestilt" once it works on the case, and keeps our own columns', () => {
    const current = { nm_status: 'Under vurdering' } as SlvCase;
    expect(mergeOntoCurrent({ nm_status: 'Bestilt', nm_track: 'A' }, current)).toEqual({ nm_track: 'A' });
    expect(mergeOntoCurrent({ nm_status: 'Avsluttet' }, current)).toEqual({ nm_status: 'Avsluttet' });
  });
});

const row = (changes: Partial<SlvCase> = {}): SlvCase => ({
  nm_methodcaseid: '0f8fad5b-d9cb-469f-a165-70867728950e',
  nm_nyemetoderid: 'ID2025_001',
  nm_name: 'Lekanemab',
  nm_track: 'B',
  nm_status: 'Under vurdering',
  nm_statusreason: null,
  nm_assignmentdate: '2025-02-03',
  nm_deadline: null,
  nm_reporturl: null,
  nm_sourceeventid: null,
  nm_substance: null,
  nm_atccodes: null,
  nm_indication: null,
  nm_absolutedeadline: null,
  modifiedon: '2025-03-01T23:30:00Z',
  versionnumber: 1042,
  ...changes,
});
const snapshot = (status: string, statusReason: string | null = null): CaseSnapshot => ({
  methodId: 'ID2025_001',
  status,
  statusReason,
  name: 'Lekanemab',
  reportUrl: null,
});

describe('how SLV edits are read', () => {
  it.each([
    [snapshot('Bestilt'), row(), 'ASSESSMENT_STARTED'],
    [undefined, row(), 'ASSESSMENT_STARTED'],
    [snapshot('Under vurdering'), row({ nm_status: 'Klokken stoppet' }), 'CLOCK_STOPPED'],
    [snapshot('Klokken stoppet'), row(), 'CLOCK_RESTARTED'],
    [snapshot('Under vurdering'), row({ nm_status: 'Levert' }), 'REPORT_DELIVERED'],
    [snapshot('Under vurdering'), row({ nm_statusreason: 'Ny frist' }), 'TEXT_EDITED'],
    [snapshot('Under vurdering'), row({ nm_status: 'Noe nytt' }), 'STATUS_EDITED'],
  ])('%# reads the change as %s', (previous, after, kind) => {
    expect(changeKindOf(previous, after).kind).toBe(kind);
  });

  it('gives a replayed row the same change id and the Oslo date of the change', () => {
    const update = caseUpdateOf(row(), snapshot('Bestilt'));
    expect(update.changeId).toBe('0f8fad5b-d9cb-469f-a165-70867728950e:1042');
    expect(caseUpdateOf(row(), snapshot('Bestilt'))).toEqual(update);
    expect(update.effectiveOn).toBe('2025-03-02'); // 23:30 UTC is past midnight in Oslo
    expect(osloDateOf('2025-07-01T21:59:00Z')).toBe('2025-07-01');
  });

  it.each([
    [{ ...row(), nm_nyemetoderid: 'SAK-17' }, 'nm_nyemetoderid'],
    [{ ...row(), nm_methodcaseid: 'abc' }, 'nm_methodcaseid'],
    [{ ...row(), modifiedon: 'i går' }, 'modifiedon'],
    [{ ...row(), nm_reporturl: 'ikke en lenke' }, 'nm_reporturl'],
    ['tekst', 'not a JSON object'],
  ])('names what is wrong with a malformed row (%#)', (raw, problem) => {
    const checked = caseFromRow(raw);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toContain(problem);
  });
});

const update = (changes: Partial<SlvCaseUpdate>): SlvCaseUpdate => ({
  changeId: 'case:7',
  methodId: 'ID2025_001',
  slvCaseId: 'case',
  kind: 'ASSESSMENT_STARTED',
  changedAt: '2025-03-01T10:00:00.000Z',
  slvStatus: 'Under vurdering',
  absoluteDeadline: null,
  text: null,
  effectiveOn: '2025-03-01',
  reportUrl: null,
  originEventId: null,
  ...changes,
});

describe('which SLV changes become method events', () => {
  it('does not emit an echo of our own write', () => {
    expect(methodEventsOf(update({ originEventId: 'e-1' }), state()).outcome).toBe('none');
  });

  it('derives the event id from the change id, so a replay gives the same event', () => {
    const first = methodEventsOf(update({}), state());
    expect(first.outcome === 'events' && first.events.map((e) => [e.type, e.source, e.eventId])).toEqual([
      ['ASSESSMENT_STARTED', 'slv', eventIdOfChange('case:7')],
    ]);
    expect(methodEventsOf(update({}), state())).toEqual(first);
  });

  it('brings the start along when the clock stopped before the start was seen', () => {
    const mapped = methodEventsOf(
      update({ kind: 'CLOCK_STOPPED', slvStatus: 'Klokken stoppet', text: 'Venter' }),
      state(),
    );
    expect(mapped.outcome === 'events' && mapped.events.map((e) => e.type)).toEqual([
      'ASSESSMENT_STARTED',
      'ASSESSMENT_PAUSED',
    ]);
    expect(mapped.outcome === 'events' && mapped.events[1]!.assessmentPaused!.waitingFor).toBe('Venter');
  });

  it.each([
    [update({ kind: 'STATUS_EDITED', slvStatus: 'Venter kanskje' }), 'UNKNOWN_SLV_STATUS'],
    [update({ kind: 'UNKNOWN' }), 'UNKNOWN_SLV_CHANGE'],
    [update({ methodId: 'SAK-17' }), 'MALFORMED_SLV_CHANGE'],
  ])('refuses what it cannot map, with the reason (%#)', (input, code) => {
    const mapped = methodEventsOf(input, state());
    expect(mapped.outcome === 'refused' && mapped.reason).toContain(code);
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, lets one trial through after the pause, and closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker(2, 1000, () => now);
    breaker.failed();
    expect(breaker.state).toBe('closed');
    breaker.failed();
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit('SLV')).toThrow(CircuitOpenError);
    now = 1000;
    expect(breaker.state).toBe('half-open');
    breaker.admit('SLV');
    expect(() => breaker.admit('SLV')).toThrow(/CIRCUIT_OPEN/);
    breaker.failed();
    expect(breaker.state).toBe('open');
    now = 2000;
    breaker.admit('SLV');
    breaker.succeeded();
    expect(breaker.state).toBe('closed');
  });
});

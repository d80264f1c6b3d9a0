/** Follow-up of temporary introductions and the assessment clock, over states folded by the real state machine. */
import { describe, expect, it } from 'vitest';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { decisionOf, medicineDetails } from '../demo/fixtures.ts';
import { applyEvent } from '../lifecycle/applyEvent.ts';
import { methodEvent } from '../lifecycle/eventBuilder.ts';
import { MethodStore } from '../lifecycle/methodStore.ts';
import { assessmentClockStatistics, stageDurations } from '../lifecycle/stageStatistics.ts';
import { fixedClock } from '../time/clock.ts';
import { assessmentClockOf } from './assessmentClock.ts';
import { FollowUp } from './followUp.ts';

const at = (date: string) => `${date}T10:00:00.000Z`;
const settings = {
  FOLLOW_UP_REASSESS_WARN_DAYS: 90,
  FOLLOW_UP_DEADLINE_WARN_DAYS: 30,
  ASSESSMENT_CLOCK_DAYS: 180,
};

/** Registered, ordered to SLV track B on 2024-01-08 and started on 2024-01-15. */
function inAssessment(id: string): MethodEvent[] {
  return [
    methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }, { occurredAt: at('2024-01-02') }),
    methodEvent(
      'STATUS_CHANGED',
      id,
      { from: null, to: 'AWAITING_ORDERING', reason: null },
      { occurredAt: at('2024-01-03') },
    ),
    methodEvent(
      'ASSIGNMENT_ORDERED',
      id,
      { assignee: 'SLV', slvTrack: 'B', fhiProduct: null, orderedOn: '2024-01-08', deadline: null },
      { occurredAt: at('2024-01-08') },
    ),
    methodEvent(
      'ASSESSMENT_STARTED',
      id,
      { startedOn: '2024-01-15', assessor: 'DMP' },
      { occurredAt: at('2024-01-15') },
    ),
  ];
}

function toDecision(id: string, decidedOn: string, reassessBy: string): MethodEvent[] {
  return [
    methodEvent(
      'ASSESSMENT_DELIVERED',
      id,
      { deliveredOn: '2024-05-01', reportUrl: null, simplified: false },
      { occurredAt: at('2024-05-01') },
    ),
    methodEvent(
      'STATUS_CHANGED',
      id,
      { from: null, to: 'ASSESSMENT_COMPLETED', reason: null },
      { occurredAt: at('2024-05-06') },
    ),
    methodEvent(
      'STATUS_CHANGED',
      id,
      { from: null, to: 'AWAITING_DECISION', reason: null },
      { occurredAt: at('2024-05-07') },
    ),
    methodEvent(
      'DECISION_MADE',
      id,
      decisionOf('TEMPORARILY_INTRODUCED', decidedOn, {
        temporaryIntroduction: {
          reassessBy,
          outcomeMeasures: ['Totaloverlevelse etter to år'],
          dataPlan: 'Kvalitetsregister',
          exitPlan: 'Avsluttes for nye pasienter',
        },
      }),
      { occurredAt: at(decidedOn) },
    ),
  ];
}

function storeOf(...events: MethodEvent[][]): MethodStore {
  const store = new MethodStore();
  for (const event of events.flat()) {
    const verdict = store.offer(event);
    if (verdict.outcome !== 'applied') throw new Error(JSON.stringify(verdict));
  }
  return store;
}

describe('temporary introductions', () => {
  const a = 'ID2024_001'; // reassessment never started
  const b = 'ID2024_002'; // reassessment started
  const c = 'ID2024_003'; // reassessed and decided anew
  const store = storeOf(
    inAssessment(a),
    toDecision(a, '2024-06-03', '2026-06-03'),
    inAssessment(b),
    toDecision(b, '2024-06-03', '2026-06-10'),
    [
      methodEvent(
        'REASSESSMENT_STARTED',
        b,
        { startedOn: '2026-02-02', reason: null },
        { occurredAt: at('2026-02-02') },
      ),
    ],
    inAssessment(c),
    toDecision(c, '2024-06-03', '2026-01-05'),
    [
      methodEvent(
        'REASSESSMENT_STARTED',
        c,
        { startedOn: '2025-10-01', reason: null },
        { occurredAt: at('2025-10-01') },
      ),
      methodEvent('DECISION_MADE', c, decisionOf('INTRODUCED', '2025-12-15'), {
        occurredAt: at('2025-12-15'),
      }),
    ],
  );
  const clock = fixedClock('2026-01-10T12:00:00Z');
  const followUp = new FollowUp(store, clock, settings);

  it('lists every one with its date, outcome measures and how far its reassessment has come', () => {
    expect(
      followUp.temporaryIntroductions().map((t) => [t.methodId, t.reassessBy, t.progress, t.outcomeMeasures]),
    ).toEqual([
      [c, '2026-01-05', 'DECIDED', ['Totaloverlevelse etter to år']],
      [a, '2026-06-03', 'NOT_STARTED', ['Totaloverlevelse etter to år']],
      [b, '2026-06-10', 'STARTED', ['Totaloverlevelse etter to år']],
    ]);
    expect(followUp.temporaryIntroductions().find((t) => t.methodId === c)!.followedBy).toEqual({
      outcome: 'INTRODUCED',
      on: '2025-12-15',
    });
  });

  it("raises APPROACHING within the warning days and OVERDUE after the date, on the hub's clock", () => {
    expect(followUp.alerts().reassessment.items).toEqual([]); // 144 days before a's date
    clock.set('2026-03-10T12:00:00Z');
    expect(followUp.alerts().reassessment.items.map((t) => [t.methodId, t.alert, t.daysLeft])).toEqual([
      [a, 'APPROACHING', 85],
    ]);
    clock.set('2026-06-04T08:00:00Z');
    expect(followUp.alerts().reassessment.items.map((t) => [t.methodId, t.alert, t.daysLeft])).toEqual([
      [a, 'OVERDUE', -1],
    ]);
  });

  it('judges the date in Oslo: 23:30 UTC on the date is already the next day there', () => {
    clock.set('2026-06-03T23:30:00Z');
    expect(followUp.alerts().reassessment.items.map((t) => t.alert)).toEqual(['OVERDUE']);
  });
});

describe('absolute deadlines and the assessment clock', () => {
  const id = 'ID2024_010';
  const events = [
    ...inAssessment(id),
    methodEvent(
      'DOCUMENTATION_COMPLETED',
      id,
      { completedOn: '2024-02-01', note: null },
      { occurredAt: at('2024-02-01') },
    ),
    methodEvent(
      'ASSESSMENT_PAUSED',
      id,
      { pausedOn: '2024-03-01', waitingFor: 'Langtidsdata', absoluteDeadline: '2024-05-30' },
      { occurredAt: at('2024-03-01') },
    ),
  ];
  const store = storeOf(events);
  const clock = fixedClock('2024-04-20T12:00:00Z');
  const followUp = new FollowUp(store, clock, settings);

  it('raises a paused assessment as its absolute deadline nears and once it has passed', () => {
    expect(followUp.alerts().absoluteDeadlines.items).toEqual([]); // 40 days left
    clock.set('2024-05-10T12:00:00Z');
    expect(followUp.alerts().absoluteDeadlines.items.map((d) => [d.methodId, d.alert, d.daysLeft])).toEqual([
      [id, 'APPROACHING', 20],
    ]);
    clock.set('2024-06-01T12:00:00Z');
    expect(followUp.alerts().absoluteDeadlines.items.map((d) => [d.methodId, d.alert, d.daysLeft])).toEqual([
      [id, 'OVERDUE', -2],
    ]);
  });

  it("counts DMP's way: from complete documentation, the clock stopped while paused", () => {
    const state = store.stateOf(id)!;
    // 2024-02-01 .. 2024-06-01 is 121 calendar days, of which 92 paused since 2024-03-01
    expect(assessmentClockOf(state, '2024-06-01', 180)).toMatchObject({
      calendarDays: 121,
      pausedDays: 92,
      clockDays: 29,
      daysLeft: 151,
      paused: true,
    });
    const resumed = applyEvent(
      state,
      methodEvent('ASSESSMENT_RESUMED', id, { resumedOn: '2024-04-01' }, { occurredAt: at('2024-04-01') }),
    );
    if (!resumed.ok) throw new Error('refused');
    const delivered = applyEvent(
      resumed.value,
      methodEvent(
        'ASSESSMENT_DELIVERED',
        id,
        { deliveredOn: '2024-09-01', reportUrl: null, simplified: false },
        { occurredAt: at('2024-09-01') },
      ),
    );
    if (!delivered.ok) throw new Error('refused');
    expect(delivered.value.clockStops).toEqual([
      { pausedOn: '2024-03-01', resumedOn: '2024-04-01', absoluteDeadline: '2024-05-30' },
    ]);
    // 213 calendar days from documentation to delivery, 31 of them paused: 182 clock days, 2 over the limit
    const stats = assessmentClockStatistics([delivered.value], '2024-10-01', 180);
    expect(stats).toMatchObject({
      delivered: 1,
      calendar: { medianDays: 213 },
      clock: { medianDays: 182 },
      deliveredOverLimit: 1,
    });
    // the stage itself: 230 calendar days in ASSESSMENT_IN_PROGRESS... still open, so no completed visit yet
    expect(stageDurations([delivered.value])[0]!.stages.map((s) => s.stage)).not.toContain(
      'ASSESSMENT_IN_PROGRESS',
    );
  });

  it('gives stage durations with the clock stopped beside calendar days', () => {
    const state = store.stateOf(id)!;
    const resumed = applyEvent(
      state,
      methodEvent('ASSESSMENT_RESUMED', id, { resumedOn: '2024-04-01' }, { occurredAt: at('2024-04-01') }),
    );
    if (!resumed.ok) throw new Error('refused');
    const completed = applyEvent(
      resumed.value,
      methodEvent(
        'STATUS_CHANGED',
        id,
        { from: null, to: 'ASSESSMENT_COMPLETED', reason: null },
        { occurredAt: at('2024-05-15') },
      ),
    );
    if (!completed.ok) throw new Error('refused');
    const inProgress = stageDurations([completed.value])[0]!.stages.find(
      (s) => s.stage === 'ASSESSMENT_IN_PROGRESS',
    )!;
    // 2024-01-15 .. 2024-05-15: 121 days, 31 of them paused
    expect([inProgress.medianDays, inProgress.clockMedianDays]).toEqual([121, 90]);
  });
});

describe('the documentation-complete milestone in the state machine', () => {
  const id = 'ID2024_020';
  const base = storeOf(inAssessment(id)).stateOf(id)!;
  const completed = (on: string) =>
    methodEvent(
      'DOCUMENTATION_COMPLETED',
      id,
      { completedOn: on, note: null },
      { occurredAt: at('2024-02-01') },
    );

  it('is taken in an ordered assessment and kept on the state', () => {
    const result = applyEvent(base, completed('2024-02-01'));
    expect(result.ok && result.value.documentationCompleted).toEqual({
      completedOn: '2024-02-01',
      note: null,
    });
    expect(result.ok && result.value.status).toBe('ASSESSMENT_IN_PROGRESS');
  });

  it('is refused twice, while paused, before the assignment and before any assessment, with the reason', () => {
    const once = applyEvent(base, completed('2024-02-01'));
    if (!once.ok) throw new Error('refused');
    const twice = applyEvent(once.value, completed('2024-02-02'));
    expect(!twice.ok && twice.errors.map((e) => e.code)).toEqual(['DUPLICATE_MILESTONE']);
    const paused = applyEvent(
      base,
      methodEvent(
        'ASSESSMENT_PAUSED',
        id,
        { pausedOn: '2024-01-20', waitingFor: null, absoluteDeadline: null },
        { occurredAt: at('2024-01-20') },
      ),
    );
    if (!paused.ok) throw new Error('refused');
    const whilePaused = applyEvent(paused.value, completed('2024-02-01'));
    expect(!whilePaused.ok && whilePaused.errors[0]!.reason).toContain('send ASSESSMENT_RESUMED');
    const early = applyEvent(base, completed('2024-01-01'));
    expect(!early.ok && early.errors[0]!.reason).toContain('documentationCompleted.completedOn 2024-01-01');
    const registered = storeOf(inAssessment(id).slice(0, 1)).stateOf(id)!;
    const tooSoon = applyEvent(registered, completed('2024-02-01'));
    expect(!tooSoon.ok && tooSoon.errors[0]!.code).toBe('ILLEGAL_TRANSITION');
  });
});

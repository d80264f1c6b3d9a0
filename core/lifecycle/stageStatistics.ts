/**
 * Stage statistics for the secretariat: how long methods spend in each stage, which have waited longest
 * where they are now, and how many are in each stage. Pure over method states, so the same code answers
 * for today and, from time-travelled states, for any past date.
 */
import type { MethodState, MethodStatus } from '../../contracts/generated/types.ts';
import { type AssessmentClock, assessmentClockOf, stoppedDays } from '../followup/assessmentClock.ts';
import { osloDateOf } from '../time/oslo.ts';

export const dimensions = ['specialty', 'methodType', 'slvTrack'] as const;
export type Dimension = (typeof dimensions)[number];

/** Stages a method rests in rather than waits in: no one is waiting for them to end. */
const restingStages: ReadonlySet<MethodStatus> = new Set(['DECIDED', 'PHASED_OUT', 'CLOSED']);

const DAY_MS = 24 * 3600 * 1000;

export interface StageDuration {
  stage: MethodStatus;
  /** Completed visits to the stage (a method that came back counts once per visit). */
  visits: number;
  medianDays: number;
  p90Days: number;
  maxDays: number;
  /** The same with the clock stopped while paused waiting for the supplier (DMP's way). */
  clockMedianDays: number;
  clockP90Days: number;
  clockMaxDays: number;
}

export interface DurationGroup {
  /** The value of the drill-down dimension; 'all' without one, '(none)' where a method has no value. */
  group: string;
  stages: StageDuration[];
}

export interface WaitingMethod {
  methodId: string;
  name: string;
  enteredAt: string;
  days: number;
}

export interface StageWaiting {
  stage: MethodStatus;
  methods: WaitingMethod[];
}

const stageOrder: MethodStatus[] = [
  'PROPOSAL_RECEIVED',
  'HORIZON_SCANNING',
  'AWAITING_ORDERING',
  'ASSESSMENT_ORDERED',
  'ASSESSMENT_IN_PROGRESS',
  'ASSESSMENT_COMPLETED',
  'PRICE_NEGOTIATION',
  'AWAITING_DECISION',
  'DECIDED',
  'REASSESSMENT',
  'PHASED_OUT',
  'CLOSED',
];

export function groupOf(state: MethodState, dimension: Dimension): string {
  switch (dimension) {
    case 'specialty':
      return state.details.specialty ?? '(none)';
    case 'methodType':
      return state.details.methodType;
    case 'slvTrack':
      return state.assignment?.slvTrack ?? '(none)';
  }
}

/** Nearest-rank percentile of sorted values (p in 0..1). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[rank - 1]!;
}

export function median(sorted: number[]): number {
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const days = (from: string, to: string | number): number =>
  (Number(typeof to === 'number' ? to : Date.parse(to)) - Date.parse(from)) / DAY_MS;

const round1 = (n: number): number => Math.round(n * 10) / 10;

/** Time spent per stage over completed visits, for all methods or per value of a dimension. */
export function stageDurations(states: MethodState[], by?: Dimension): DurationGroup[] {
  const groups = new Map<string, Map<MethodStatus, { calendar: number[]; clock: number[] }>>();
  for (const state of states) {
    const group = by ? groupOf(state, by) : 'all';
    const stages = groups.get(group) ?? new Map<MethodStatus, { calendar: number[]; clock: number[] }>();
    groups.set(group, stages);
    for (const visit of state.stages) {
      if (!visit.leftAt) continue;
      const list = stages.get(visit.status) ?? { calendar: [], clock: [] };
      const calendar = days(visit.enteredAt, visit.leftAt);
      const paused = stoppedDays(state, osloDateOf(visit.enteredAt), osloDateOf(visit.leftAt));
      list.calendar.push(calendar);
      list.clock.push(Math.max(0, calendar - paused));
      stages.set(visit.status, list);
    }
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b, 'nb'))
    .map(([group, stages]) => ({
      group,
      stages: stageOrder
        .filter((stage) => stages.has(stage))
        .map((stage) => {
          const sorted = stages.get(stage)!.calendar.sort((a, b) => a - b);
          const clock = stages.get(stage)!.clock.sort((a, b) => a - b);
          return {
            stage,
            visits: sorted.length,
            medianDays: round1(median(sorted)),
            p90Days: round1(percentile(sorted, 0.9)),
            maxDays: round1(sorted.at(-1)!),
            clockMedianDays: round1(median(clock)),
            clockP90Days: round1(percentile(clock, 0.9)),
            clockMaxDays: round1(clock.at(-1)!),
          };
        }),
    }));
}

/** The methods that have waited longest in the stage they are in at `now`, per stage. */
export function longestWaiting(states: MethodState[], now: number, limit = 5): StageWaiting[] {
  const byStage = new Map<MethodStatus, WaitingMethod[]>();
  for (const state of states) {
    if (restingStages.has(state.status)) continue;
    const visit = state.stages.at(-1)!;
    const list = byStage.get(state.status) ?? [];
    list.push({
      methodId: state.methodId,
      name: state.details.name,
      enteredAt: visit.enteredAt,
      days: Math.floor(days(visit.enteredAt, now)),
    });
    byStage.set(state.status, list);
  }
  return stageOrder
    .filter((stage) => byStage.has(stage))
    .map((stage) => ({
      stage,
      methods: byStage
        .get(stage)!
        .sort((a, b) => a.enteredAt.localeCompare(b.enteredAt) || a.methodId.localeCompare(b.methodId))
        .slice(0, limit),
    }));
}

/** How many methods are in each stage (every stage listed, zero included). */
export function stageCounts(states: MethodState[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(stageOrder.map((s) => [s, 0]));
  for (const state of states) counts[state.status] = (counts[state.status] ?? 0) + 1;
  return counts;
}

export interface NewPriceOfferRound {
  methodId: string;
  name: string;
  /** When the method left DECIDED (a NOT_INTRODUCED decision) for a new price negotiation. */
  reopenedAt: string;
  /** When the new decision came, or null while it is still awaited. */
  decidedAgainAt: string | null;
  days: number | null;
}

/**
 * Every new price negotiation after a NOT_INTRODUCED decision (004:874): the state machine lets DECIDED go
 * to PRICE_NEGOTIATION only then, so each such stage change is one round.
 */
export function newPriceOfferRounds(states: MethodState[]): NewPriceOfferRound[] {
  const rounds: NewPriceOfferRound[] = [];
  for (const state of states) {
    state.stages.forEach((visit, i) => {
      if (visit.status !== 'DECIDED' || state.stages[i + 1]?.status !== 'PRICE_NEGOTIATION') return;
      const again = state.stages.slice(i + 1).find((v) => v.status === 'DECIDED');
      rounds.push({
        methodId: state.methodId,
        name: state.details.name,
        reopenedAt: visit.leftAt!,
        decidedAgainAt: again?.enteredAt ?? null,
        days: again ? round1(days(visit.leftAt!, again.enteredAt)) : null,
      });
    });
  }
  return rounds.sort(
    (a, b) => a.reopenedAt.localeCompare(b.reopenedAt) || a.methodId.localeCompare(b.methodId),
  );
}

export interface Spread {
  medianDays: number | null;
  p90Days: number | null;
  maxDays: number | null;
}

const spreadOf = (values: number[]): Spread => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? { medianDays: null, p90Days: null, maxDays: null }
    : { medianDays: median(sorted), p90Days: percentile(sorted, 0.9), maxDays: sorted.at(-1)! };
};

export interface AssessmentClockStatistics {
  limitDays: number;
  /** Delivered assessments whose documentation-complete date is known. */
  delivered: number;
  /** From documentation complete to delivery, in calendar days and in DMP's clock days (pauses left out). */
  calendar: Spread;
  clock: Spread;
  /** Delivered assessments whose clock went past the limit. */
  deliveredOverLimit: number;
  /** Assessments whose clock runs (or stands, paused) now, fewest days left first. */
  running: AssessmentClock[];
}

/** DMP's way of counting an assessment (180 days from complete documentation, paused days left out) beside calendar days. */
export function assessmentClockStatistics(
  states: MethodState[],
  today: string,
  limitDays: number,
  limit = 5,
): AssessmentClockStatistics {
  const delivered: AssessmentClock[] = [];
  const running: AssessmentClock[] = [];
  for (const state of states) {
    const clock = assessmentClockOf(state, today, limitDays);
    if (!clock) continue;
    (clock.deliveredOn ? delivered : running).push(clock);
  }
  return {
    limitDays,
    delivered: delivered.length,
    calendar: spreadOf(delivered.map((c) => c.calendarDays)),
    clock: spreadOf(delivered.map((c) => c.clockDays)),
    deliveredOverLimit: delivered.filter((c) => c.daysLeft < 0).length,
    running: running
      .sort((a, b) => a.daysLeft - b.daysLeft || a.methodId.localeCompare(b.methodId))
      .slice(0, limit),
  };
}

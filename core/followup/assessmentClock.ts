/**
 * Absolute deadlines and the assessment clock (002:41-44). A paused assessment has an absolute deadline after
 * which a simplified assessment is made on what exists; DMP counts 180 days from complete documentation,
 * with the clock stopped while waiting for the supplier. Pure over method states.
 */
import type { MethodState } from '../../contracts/generated/types.ts';
import { daysFrom, earlierOf, laterOf } from './dates.ts';
import type { DateAlert } from './temporaryIntroductions.ts';

/** Days of [from, to) the clock stood still for these stops (a stop still open runs to `to`). */
export function stoppedDays(state: MethodState, from: string, to: string): number {
  let days = 0;
  for (const stop of state.clockStops ?? []) {
    const start = laterOf(stop.pausedOn, from);
    const end = earlierOf(stop.resumedOn ?? to, to);
    if (end > start) days += daysFrom(start, end);
  }
  return days;
}

export interface AssessmentClock {
  methodId: string;
  name: string;
  documentationCompletedOn: string;
  /** The delivery date, or null while the assessment runs. */
  deliveredOn: string | null;
  calendarDays: number;
  /** Calendar days less the days paused waiting for the supplier: DMP's count. */
  clockDays: number;
  pausedDays: number;
  limitDays: number;
  /** limitDays - clockDays; negative once over. */
  daysLeft: number;
  paused: boolean;
}

/** DMP's clock for the method's current assignment, on `today`; null before documentation is complete. */
export function assessmentClockOf(
  state: MethodState,
  today: string,
  limitDays: number,
): AssessmentClock | null {
  const done = state.documentationCompleted;
  if (!done) return null;
  const delivered = state.assessmentDelivered?.deliveredOn ?? null;
  const deliveredOn = delivered && delivered >= done.completedOn ? delivered : null;
  if (!deliveredOn && state.status !== 'ASSESSMENT_IN_PROGRESS' && state.status !== 'ASSESSMENT_ORDERED')
    return null; // closed or withdrawn before delivery: no clock runs
  const end = deliveredOn ?? today;
  const calendarDays = Math.max(0, daysFrom(done.completedOn, end));
  const pausedDays = stoppedDays(state, done.completedOn, end);
  const clockDays = calendarDays - pausedDays;
  return {
    methodId: state.methodId,
    name: state.details.name,
    documentationCompletedOn: done.completedOn,
    deliveredOn,
    calendarDays,
    clockDays,
    pausedDays,
    limitDays,
    daysLeft: limitDays - clockDays,
    paused: state.paused !== null && !deliveredOn,
  };
}

export interface DeadlineAlert {
  methodId: string;
  name: string;
  specialty: string | null;
  pausedOn: string;
  waitingFor: string | null;
  absoluteDeadline: string;
  /** Days from today to the deadline (negative once passed). */
  daysLeft: number;
  alert: DateAlert;
}

/** Paused assessments whose absolute deadline is within `warnDays` (APPROACHING) or has passed (OVERDUE). */
export function deadlineAlertsOf(
  states: Iterable<MethodState>,
  today: string,
  warnDays: number,
): DeadlineAlert[] {
  const alerts: DeadlineAlert[] = [];
  for (const state of states) {
    const p = state.paused;
    if (!p?.absoluteDeadline || state.status !== 'ASSESSMENT_IN_PROGRESS') continue;
    const daysLeft = daysFrom(today, p.absoluteDeadline);
    if (daysLeft > warnDays) continue;
    alerts.push({
      methodId: state.methodId,
      name: state.details.name,
      specialty: state.details.specialty ?? null,
      pausedOn: p.pausedOn,
      waitingFor: p.waitingFor ?? null,
      absoluteDeadline: p.absoluteDeadline,
      daysLeft,
      alert: daysLeft < 0 ? 'OVERDUE' : 'APPROACHING',
    });
  }
  return alerts.sort((a, b) => a.daysLeft - b.daysLeft || a.methodId.localeCompare(b.methodId));
}

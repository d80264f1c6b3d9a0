/**
 * Follow-up of temporary introductions (midlertidig innføring): each must be reassessed by its date with the
 * data it collects. Pure over one method's events, so the same code answers now and at any asOf.
 */
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { daysFrom } from './dates.ts';

/** How far the reassessment has come: nothing yet, REASSESSMENT_STARTED, or a new decision (or phase-out). */
export type ReassessmentProgress = 'NOT_STARTED' | 'STARTED' | 'DECIDED';

export type DateAlert = 'APPROACHING' | 'OVERDUE';

export interface TemporaryIntroduction {
  methodId: string;
  name: string;
  specialty: string | null;
  decidedOn: string;
  reassessBy: string;
  outcomeMeasures: string[];
  dataPlan: string;
  exitPlan: string;
  progress: ReassessmentProgress;
  reassessmentStartedOn: string | null;
  /** What followed the temporary introduction, once decided: a decision outcome, or PHASED_OUT. */
  followedBy: { outcome: string; on: string } | null;
  /** The method was closed before its reassessment was decided. */
  closed: boolean;
  /** Days from today to reassessBy (negative once passed). */
  daysLeft: number;
  /** Set only while no reassessment has started and the method is open. */
  alert: DateAlert | null;
}

/** Every temporary introduction in a method's events, oldest first, judged on `today` (a Norwegian date). */
export function temporaryIntroductionsOf(
  state: MethodState,
  events: readonly MethodEvent[],
  today: string,
  warnDays: number,
): TemporaryIntroduction[] {
  const found: TemporaryIntroduction[] = [];
  let open: TemporaryIntroduction | undefined;
  for (const event of events) {
    if (event.type === 'DECISION_MADE') {
      const d = event.decision!;
      if (open) {
        open.progress = 'DECIDED';
        open.followedBy = { outcome: d.outcome, on: d.decidedOn };
        open = undefined;
      }
      const t = d.temporaryIntroduction;
      if (d.outcome === 'TEMPORARILY_INTRODUCED' && t) {
        open = {
          methodId: state.methodId,
          name: state.details.name,
          specialty: state.details.specialty ?? null,
          decidedOn: d.decidedOn,
          reassessBy: t.reassessBy,
          outcomeMeasures: t.outcomeMeasures,
          dataPlan: t.dataPlan,
          exitPlan: t.exitPlan,
          progress: 'NOT_STARTED',
          reassessmentStartedOn: null,
          followedBy: null,
          closed: false,
          daysLeft: 0,
          alert: null,
        };
        found.push(open);
      }
    } else if (open && event.type === 'REASSESSMENT_STARTED' && open.progress === 'NOT_STARTED') {
      open.progress = 'STARTED';
      open.reassessmentStartedOn = event.reassessmentStarted!.startedOn;
    } else if (open && event.type === 'PHASED_OUT' && !event.phasedOut!.subGroup) {
      open.progress = 'DECIDED';
      open.followedBy = { outcome: 'PHASED_OUT', on: event.phasedOut!.effectiveFrom };
      open = undefined;
    } else if (open && event.type === 'METHOD_CLOSED') {
      open.closed = true;
      open = undefined;
    }
  }
  for (const t of found) {
    t.daysLeft = daysFrom(today, t.reassessBy);
    t.alert =
      t.progress !== 'NOT_STARTED' || t.closed
        ? null
        : t.daysLeft < 0
          ? 'OVERDUE'
          : t.daysLeft <= warnDays
            ? 'APPROACHING'
            : null;
  }
  return found;
}

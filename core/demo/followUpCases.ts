/**
 * The demo's follow-up cases, kept in one place: DMP's documentation-complete milestone on every assessment
 * by SLV/DMP, a temporary introduction whose reassessment date passes with nothing started (ID2023_024,
 * reassessBy 2026-11-18), and a paused assessment past its absolute deadline (ID2026_005).
 */
import type { Assignment } from '../../contracts/generated/types.ts';

/** The medicines agency starts its assessment once the documentation is complete: its clock starts then. */
export const recordsDocumentationComplete = (assignment: Assignment): boolean =>
  assignment.assignee === 'SLV' || assignment.assignee === 'SLV_AND_FHI';

/** Temporary introductions whose reassessment starts only 45-75 days after the date has passed. */
const lateReassessments: ReadonlySet<string> = new Set(['ID2023_024']);

/** Days to wait from the decision before the reassessment of a temporary introduction starts. */
export function reassessmentWait(methodId: string, daysLeft: number): [number, number] {
  return lateReassessments.has(methodId)
    ? [daysLeft + 45, daysLeft + 75]
    : [Math.max(30, daysLeft - 120), Math.max(31, daysLeft + 20)];
}

export interface ForcedPause {
  /** Days from the start to the pause. */
  after: [number, number];
  limitDays: number;
  /** Days from the pause to the simplified assessment, well past the deadline. */
  simplifiedAfter: [number, number];
}

/** Assessments that pause once and run past their absolute deadline before a simplified assessment. */
const pastDeadline: Readonly<Record<string, ForcedPause>> = {
  ID2026_005: { after: [10, 20], limitDays: 90, simplifiedAfter: [150, 170] },
};

export const forcedPauseOf = (methodId: string): ForcedPause | undefined => pastDeadline[methodId];

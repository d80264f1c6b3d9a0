/**
 * The implementation run of one flag (a method in one guideline): which status reports are allowed and
 * the record a report makes. Pure. A run moves forward: NOT_STARTED is only ever set by the hub (a new
 * flag, or a later decision); IMPLEMENTED or NOT_RELEVANT may be reopened as IN_PROGRESS.
 */
import { osloDateOf } from '../../core/time/oslo.ts';
import type { GuidelineFlag, ImplementationStatus } from '../../contracts/generated/types.ts';
import { ImplementationStatusValues } from '../../contracts/generated/types.ts';

export const reportableStatuses = ImplementationStatusValues.filter((s) => s !== 'NOT_STARTED');

export const allowedNext: Record<ImplementationStatus, readonly ImplementationStatus[]> = {
  NOT_STARTED: ['IN_PROGRESS', 'IMPLEMENTED', 'NOT_RELEVANT'],
  IN_PROGRESS: ['IMPLEMENTED', 'NOT_RELEVANT'],
  IMPLEMENTED: ['IN_PROGRESS'],
  NOT_RELEVANT: ['IN_PROGRESS'],
};

export interface StatusReport {
  methodId: string;
  guidelineId: string;
  status: ImplementationStatus;
  /** The local date (Europe/Oslo) the status took effect. */
  on: string;
  note?: string | null;
}

export type StatusVerdict =
  | { outcome: 'changed'; record: GuidelineFlag }
  | { outcome: 'unchanged'; record: GuidelineFlag }
  | { outcome: 'refused'; status: 409 | 422; code: string; reason: string };

/** Today's date in Norway. */
export const osloDate = (instant: number = Date.now()): string => osloDateOf(instant);

const isDate = (s: string): boolean =>
  /^\d{4}-\d{2}-\d{2}$/.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

export function judgeStatusReport(
  flag: GuidelineFlag,
  report: StatusReport,
  context: { now: number; reportedBy: string; eventId: string },
): StatusVerdict {
  const refuse = (status: 409 | 422, code: string, reason: string): StatusVerdict => ({
    outcome: 'refused',
    status,
    code,
    reason,
  });
  if (!flag.active) {
    return refuse(
      409,
      'FLAG_INACTIVE',
      `${flag.flagId} is no longer flagged (since ${flag.changedAt}); its implementation run is closed`,
    );
  }
  if (!isDate(report.on))
    return refuse(422, 'INVALID_STATUS_DATE', `"${report.on}" is not a date YYYY-MM-DD`);
  const today = osloDate(context.now);
  if (report.on > today)
    return refuse(422, 'INVALID_STATUS_DATE', `${report.on} is in the future (today is ${today} in Norway)`);
  const from = flag.implementationStatus;
  if (
    report.status === from &&
    report.on === flag.implementationStatusOn &&
    (report.note ?? null) === flag.statusNote
  )
    return { outcome: 'unchanged', record: flag };
  const restart = report.status === 'NOT_STARTED';
  if (restart || (report.status !== from && !allowedNext[from].includes(report.status))) {
    const allowed = allowedNext[from];
    return refuse(
      409,
      'ILLEGAL_STATUS_CHANGE',
      `${flag.flagId}: ${from} -> ${report.status} is not allowed; from ${from} the run may go to ${allowed.join(' or ')}` +
        (restart ? ' (only the hub sets NOT_STARTED: a new flag, or a new decision)' : ''),
    );
  }
  if (flag.implementationStatusOn && report.on < flag.implementationStatusOn) {
    return refuse(
      422,
      'INVALID_STATUS_DATE',
      `${report.on} is before the current status ${from} of ${flag.implementationStatusOn}; a run cannot go back in time`,
    );
  }
  return {
    outcome: 'changed',
    record: {
      ...flag,
      implementationStatus: report.status,
      implementationStatusOn: report.on,
      statusNote: report.note ?? null,
      reportedBy: context.reportedBy,
      trigger: 'IMPLEMENTATION_STATUS',
      change: 'IMPLEMENTATION_STATUS',
      causeEventId: context.eventId,
      changedAt: new Date(context.now).toISOString(),
    },
  };
}

/**
 * How long implementation runs take and which are late. The clock of a run starts at the method's latest
 * decision; a run still NOT_STARTED or IN_PROGRESS past its guideline's deadline is overdue and raised as
 * an alert three ways: the gauge below, one warning log line when it becomes overdue, and the alert list.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { GuidelineFlag } from '../../contracts/generated/types.ts';
import { metricsRegistry } from '../../core/metrics/registry.ts';
import type { Logger } from '../../core/log/logger.ts';
import { osloDate } from './implementationStatus.ts';
import type { RuleBook } from './rules.ts';

const DAY = 86_400_000;

export const implementationDays = new Histogram({
  name: 'metodehub_hdir_decision_to_implemented_days',
  help: 'Days from a decision to the guideline reporting it IMPLEMENTED, per guideline (observed as reports arrive).',
  labelNames: ['guideline'] as const,
  buckets: [7, 14, 30, 60, 90, 120, 180, 270, 365, 730],
  registers: [metricsRegistry],
});

export const overdueRuns = new Gauge({
  name: 'metodehub_hdir_overdue_runs',
  help: 'Implementation runs past their deadline (decision + deadline days, not yet implemented), per guideline.',
  labelNames: ['guideline'] as const,
  registers: [metricsRegistry],
});

export const notificationsSent = new Counter({
  name: 'metodehub_hdir_notifications_total',
  help: "Notification attempts to Helsedirektoratet's endpoint, by outcome (delivered, duplicate, failed, rejected).",
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY);

const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

export interface RunView {
  deadlineDays: number;
  /** The date the run should be implemented by; null before any decision. */
  deadline: string | null;
  daysSinceDecision: number | null;
  /** Decision to IMPLEMENTED, once implemented. */
  daysToImplemented: number | null;
  overdue: boolean;
  daysOverdue: number;
}

export function deadlineDaysOf(guidelineId: string, book: RuleBook, defaultDays: number): number {
  return book.guidelines.get(guidelineId)?.deadlineDays ?? defaultDays;
}

export function runOf(flag: GuidelineFlag, book: RuleBook, defaultDays: number, today: string): RunView {
  const deadlineDays = deadlineDaysOf(flag.guidelineId, book, defaultDays);
  if (!flag.decidedOn) {
    return {
      deadlineDays,
      deadline: null,
      daysSinceDecision: null,
      daysToImplemented: null,
      overdue: false,
      daysOverdue: 0,
    };
  }
  const deadline = addDays(flag.decidedOn, deadlineDays);
  const open = flag.implementationStatus === 'NOT_STARTED' || flag.implementationStatus === 'IN_PROGRESS';
  const overdue = flag.active && open && today > deadline;
  return {
    deadlineDays,
    deadline,
    daysSinceDecision: daysBetween(flag.decidedOn, today),
    daysToImplemented:
      flag.implementationStatus === 'IMPLEMENTED' && flag.implementationStatusOn
        ? daysBetween(flag.decidedOn, flag.implementationStatusOn)
        : null,
    overdue,
    daysOverdue: overdue ? daysBetween(deadline, today) : 0,
  };
}

export interface GuidelineTimes {
  guidelineId: string;
  guidelineName: string | null;
  implemented: number;
  medianDays: number | null;
  p90Days: number | null;
  maxDays: number | null;
  open: number;
  overdue: number;
}

const quantile = (sorted: number[], q: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

/** Time from decision to implemented, per guideline, over the active flags that have a decision. */
export function implementationTimes(
  flags: Iterable<GuidelineFlag>,
  book: RuleBook,
  defaultDays: number,
  today: string,
): GuidelineTimes[] {
  const groups = new Map<string, { days: number[]; open: number; overdue: number }>();
  for (const flag of flags) {
    if (!flag.active || !flag.decidedOn) continue;
    const group = groups.get(flag.guidelineId) ?? { days: [], open: 0, overdue: 0 };
    groups.set(flag.guidelineId, group);
    const run = runOf(flag, book, defaultDays, today);
    if (run.daysToImplemented !== null) group.days.push(run.daysToImplemented);
    else if (flag.implementationStatus !== 'NOT_RELEVANT') group.open++;
    if (run.overdue) group.overdue++;
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([guidelineId, g]) => {
      const sorted = [...g.days].sort((a, b) => a - b);
      return {
        guidelineId,
        guidelineName: book.guidelines.get(guidelineId)?.name ?? null,
        implemented: sorted.length,
        medianDays: quantile(sorted, 0.5),
        p90Days: quantile(sorted, 0.9),
        maxDays: sorted.at(-1) ?? null,
        open: g.open,
        overdue: g.overdue,
      };
    });
}

export interface OverdueAlert {
  flagId: string;
  methodId: string;
  methodName: string | null;
  guidelineId: string;
  implementationStatus: string;
  decidedOn: string;
  deadline: string;
  daysOverdue: number;
}

/** What one flag counts for in the overdue gauge. */
interface Standing {
  guidelineId: string;
  /** Active with a decision: its guideline is on the gauge, at 0 when nothing is overdue. */
  counted: boolean;
  overdue: boolean;
}

/**
 * Keeps the overdue gauge current and logs each run once, when it first is seen overdue. `check` looks at
 * every flag (at start, on the clock, for the alert list); `update` looks at one new record, so a stream of
 * flag records costs O(1) each instead of O(flags).
 */
export class OverdueWatch {
  private readonly raised = new Set<string>();
  private readonly standing = new Map<string, Standing>();
  /** Per guideline on the gauge: its counted flags and how many of them are overdue. */
  private readonly perGuideline = new Map<string, { counted: number; overdue: number }>();

  constructor(
    private readonly book: () => RuleBook,
    private readonly defaultDays: number,
    private readonly log: Logger,
  ) {}

  check(flags: Iterable<GuidelineFlag>, now: number = Date.now()): OverdueAlert[] {
    const today = osloDate(now);
    const alerts: OverdueAlert[] = [];
    this.standing.clear();
    this.perGuideline.clear();
    overdueRuns.reset();
    for (const flag of flags) {
      const alert = this.judge(flag, today);
      if (alert) alerts.push(alert);
    }
    return alerts.sort((a, b) => b.daysOverdue - a.daysOverdue || a.flagId.localeCompare(b.flagId));
  }

  /** One flag record, new or replacing its earlier version: the gauge of its guideline follows. */
  update(flag: GuidelineFlag, now: number = Date.now()): void {
    this.judge(flag, osloDate(now));
  }

  private judge(flag: GuidelineFlag, today: string): OverdueAlert | undefined {
    const run = runOf(flag, this.book(), this.defaultDays, today);
    const next: Standing = {
      guidelineId: flag.guidelineId,
      counted: flag.active && Boolean(flag.decidedOn),
      overdue: run.overdue,
    };
    const previous = this.standing.get(flag.flagId);
    if (previous) this.count(previous, -1);
    this.standing.set(flag.flagId, next);
    this.count(next, +1);
    if (!run.overdue) {
      this.raised.delete(flag.flagId);
      return undefined;
    }
    const alert: OverdueAlert = {
      flagId: flag.flagId,
      methodId: flag.methodId,
      methodName: flag.methodName,
      guidelineId: flag.guidelineId,
      implementationStatus: flag.implementationStatus,
      decidedOn: flag.decidedOn!,
      deadline: run.deadline!,
      daysOverdue: run.daysOverdue,
    };
    if (!this.raised.has(flag.flagId)) {
      this.raised.add(flag.flagId);
      this.log.warn(
        { alert: 'HDIR_IMPLEMENTATION_OVERDUE', ...alert },
        `implementation of ${flag.methodId} in ${flag.guidelineId} is ${run.daysOverdue} day(s) past its deadline ${run.deadline} (decided ${flag.decidedOn}, status ${flag.implementationStatus})`,
      );
    }
    return alert;
  }

  private count(standing: Standing, sign: 1 | -1): void {
    if (!standing.counted) return; // an overdue run is active and decided, so it is counted too
    const { guidelineId } = standing;
    const totals = this.perGuideline.get(guidelineId) ?? { counted: 0, overdue: 0 };
    totals.counted += sign;
    if (standing.overdue) totals.overdue += sign;
    if (totals.counted <= 0) {
      this.perGuideline.delete(guidelineId);
      overdueRuns.remove({ guideline: guidelineId });
      return;
    }
    this.perGuideline.set(guidelineId, totals);
    overdueRuns.set({ guideline: guidelineId }, totals.overdue);
  }
}

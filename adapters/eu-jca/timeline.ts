/**
 * Where each JCA stands against the regulation's milestones: for each step, when it is due, when it was
 * reached, and whether it is done, overdue, upcoming or later. Due dates: the PICO scope a set number of days
 * after EMA's first clock stop, after which the scoping starts (art. 8 and 10), else after scoping started; the dossier on the day the notification names, else a set number of
 * days before the expected CHMP opinion; the draft reports endorsed within a set number of days after the
 * Commission's marketing authorisation, and published within a set number of working days after the
 * endorsement (counted from the day it came, else from the day it was due)
 * (Regulation (EU) 2021/2282 art. 11-12). Pure: "today" is passed in (a Europe/Oslo calendar day).
 */
import { osloDateOf } from '../../core/time/oslo.ts';
import type { JcaNotification } from '../../contracts/generated/types.ts';
import { MILESTONE_RANK, type Procedure } from './procedures.ts';

export interface TimelineRules {
  scopeDueDays: number;
  /** The PICO scope is expected this many days after EMA's first clock stop (art. 8 and 10). */
  scopeDaysAfterClockStop: number;
  dossierDaysBeforeOpinion: number;
  /** Draft reports endorsed within this many days after the marketing authorisation (art. 12). */
  endorsementDaysAfterAuthorisation: number;
  /** The Commission publishes within this many working days after the endorsement (art. 12). */
  publicationWorkingDaysAfterEndorsement: number;
}

/** The timeline's steps in regulation order: the notification milestones, with the endorsement between. */
export const TIMELINE_STEPS = [
  'SCOPING_STARTED',
  'PICO_SCOPE_AGREED',
  'DOSSIER_SUBMITTED',
  'REPORT_ENDORSED',
  'REPORT_PUBLISHED',
] as const;
const STEP_RANK = MILESTONE_RANK;

export type StepState = 'DONE' | 'OVERDUE' | 'UPCOMING' | 'LATER' | 'NOT_DUE_YET_KNOWN' | 'CANCELLED';

export interface TimelineStep {
  milestone: string;
  /** When it is due, or null when nothing known yet fixes the date. */
  dueOn: string | null;
  /** How the due date was found. */
  dueRule: string | null;
  /** When it was reached; null when not, or when only a later milestone shows it was. */
  reachedOn: string | null;
  state: StepState;
  /** Reached after its due date. */
  late: boolean;
  /** Days past due (OVERDUE) or until due (UPCOMING, LATER). */
  days: number | null;
}

export interface ProcedureTimeline {
  procedureId: string;
  procedureVersion: number;
  inn: string | null;
  atcCode: string | null;
  indication: string;
  /** The furthest milestone reached. */
  stage: string;
  withdrawn: boolean;
  linkedMethodIds: string[];
  nationalComplementNeeded: string[];
  steps: TimelineStep[];
}

export interface TimelineEntry {
  procedureId: string;
  milestone: string;
  dueOn: string;
  days: number;
  inn: string | null;
  linkedMethodIds: string[];
}

const DAY_MS = 86_400_000;
export const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

/** The date `days` working days (Monday to Friday) after `date`; EU institution holidays are not counted out. */
export function addWorkingDays(date: string, days: number): string {
  let day = date;
  for (let left = days; left > 0; ) {
    day = addDays(day, 1);
    const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6) left--;
  }
  return day;
}

/** Today's calendar day in Norway. */
export const osloToday = (now: Date = new Date()): string => osloDateOf(now);

type DateField = keyof NonNullable<JcaNotification['dates']>;

/** A date from the highest version that gives it. */
function latestDate(procedure: Procedure, field: DateField): string | null {
  for (let i = procedure.versions.length - 1; i >= 0; i--) {
    const value = procedure.versions[i]!.dates?.[field];
    if (value) return value;
  }
  return null;
}

const reachedField: Record<string, DateField> = {
  SCOPING_STARTED: 'scopingStartedOn',
  PICO_SCOPE_AGREED: 'scopeAgreedOn',
  DOSSIER_SUBMITTED: 'dossierSubmittedOn',
  REPORT_ENDORSED: 'reportEndorsedOn',
  REPORT_PUBLISHED: 'reportPublishedOn',
};

export function timelineOf(
  procedure: Procedure,
  today: string,
  upcomingDays: number,
  rules: TimelineRules,
): ProcedureTimeline {
  const latest = procedure.latest;
  const withdrawn = latest.milestone === 'WITHDRAWN';
  const reachedOn = new Map<string, string>();
  for (const n of procedure.versions) {
    const earlier = reachedOn.get(n.milestone);
    if (!earlier || n.milestoneOn < earlier) reachedOn.set(n.milestone, n.milestoneOn);
  }
  for (const [milestone, field] of Object.entries(reachedField)) {
    const date = latestDate(procedure, field);
    if (date && !reachedOn.has(milestone)) reachedOn.set(milestone, date);
  }
  const furthestRank = Math.max(
    0,
    ...procedure.versions.map((n) => MILESTONE_RANK[n.milestone] ?? 0),
    ...[...reachedOn.keys()].map((m) => MILESTONE_RANK[m] ?? 0),
  );
  const scopingStarted = reachedOn.get('SCOPING_STARTED') ?? null;
  const clockStop = latestDate(procedure, 'firstClockStopOn');
  const endorsedOn = reachedOn.get('REPORT_ENDORSED') ?? null;
  const opinion = latestDate(procedure, 'expectedChmpOpinionOn');
  const authorisation = latestDate(procedure, 'marketingAuthorisationOn');
  const dossierDue = latestDate(procedure, 'dossierDueOn');
  const endorsementDue = authorisation
    ? addDays(authorisation, rules.endorsementDaysAfterAuthorisation)
    : null;
  const due: Record<string, [string | null, string | null]> = {
    SCOPING_STARTED: [null, null],
    PICO_SCOPE_AGREED: clockStop
      ? [
          addDays(clockStop, rules.scopeDaysAfterClockStop),
          `${rules.scopeDaysAfterClockStop} days after EMA's first clock stop, after which the scoping starts (2021/2282 art. 8 and 10)`,
        ]
      : scopingStarted
        ? [addDays(scopingStarted, rules.scopeDueDays), `${rules.scopeDueDays} days after scoping started`]
        : [null, null],
    DOSSIER_SUBMITTED: dossierDue
      ? [dossierDue, 'the due date in the notification']
      : opinion
        ? [
            addDays(opinion, -rules.dossierDaysBeforeOpinion),
            `${rules.dossierDaysBeforeOpinion} days before the expected CHMP opinion`,
          ]
        : [null, null],
    REPORT_ENDORSED: endorsementDue
      ? [
          endorsementDue,
          `${rules.endorsementDaysAfterAuthorisation} days after the marketing authorisation (2021/2282 art. 12)`,
        ]
      : [null, null],
    REPORT_PUBLISHED: endorsedOn
      ? [
          addWorkingDays(endorsedOn, rules.publicationWorkingDaysAfterEndorsement),
          `${rules.publicationWorkingDaysAfterEndorsement} working days after the endorsement on ${endorsedOn} (2021/2282 art. 12)`,
        ]
      : endorsementDue
        ? [
            addWorkingDays(endorsementDue, rules.publicationWorkingDaysAfterEndorsement),
            `${rules.publicationWorkingDaysAfterEndorsement} working days after the endorsement is due (2021/2282 art. 12)`,
          ]
        : [null, null],
  };
  const steps = TIMELINE_STEPS.map((milestone): TimelineStep => {
    const [dueOn, dueRule] = due[milestone]!;
    const reached = reachedOn.get(milestone) ?? null;
    const done = reached !== null || (STEP_RANK[milestone] ?? 0) <= furthestRank;
    const base = { milestone, dueOn, dueRule, reachedOn: reached, late: false, days: null };
    if (done) return { ...base, state: 'DONE', late: Boolean(reached && dueOn && reached > dueOn) };
    if (withdrawn) return { ...base, state: 'CANCELLED' };
    if (!dueOn) return { ...base, state: 'NOT_DUE_YET_KNOWN' };
    const days = daysBetween(today, dueOn);
    if (days < 0) return { ...base, state: 'OVERDUE', days: -days };
    return { ...base, state: days <= upcomingDays ? 'UPCOMING' : 'LATER', days };
  });
  const stage = withdrawn
    ? 'WITHDRAWN'
    : (Object.entries(MILESTONE_RANK).find(([, rank]) => rank === furthestRank)?.[0] ?? latest.milestone);
  return {
    procedureId: procedure.procedureId,
    procedureVersion: latest.procedureVersion,
    inn: latest.inn,
    atcCode: latest.atcCode,
    indication: latest.indication,
    stage,
    withdrawn,
    linkedMethodIds: procedure.linkedMethodIds,
    nationalComplementNeeded: latest.nationalComplementNeeded,
    steps,
  };
}

/** The overdue steps of every procedure (longest overdue first) and the upcoming ones (soonest first). */
export function timelineLists(timelines: ProcedureTimeline[]): {
  overdue: TimelineEntry[];
  upcoming: TimelineEntry[];
} {
  const entries = (state: StepState) =>
    timelines.flatMap((t) =>
      t.steps
        .filter((s) => s.state === state)
        .map((s) => ({
          procedureId: t.procedureId,
          milestone: s.milestone,
          dueOn: s.dueOn!,
          days: s.days!,
          inn: t.inn,
          linkedMethodIds: t.linkedMethodIds,
        })),
    );
  return {
    overdue: entries('OVERDUE').sort((a, b) => b.days - a.days || a.procedureId.localeCompare(b.procedureId)),
    upcoming: entries('UPCOMING').sort(
      (a, b) => a.days - b.days || a.procedureId.localeCompare(b.procedureId),
    ),
  };
}

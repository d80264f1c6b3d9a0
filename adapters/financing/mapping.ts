/**
 * Pure functions from a method's state to its records in the financing feed: which records a medicine
 * decision or phase-out (utfasing) gives, what makes one unpublishable, and the deterministic record ids
 * that let a restart publish nothing twice.
 */
import { osloDateOf } from '../../core/time/oslo.ts';
import { createHash } from 'node:crypto';
import type { DrugDecision, MethodDetails } from '../../contracts/generated/types.ts';
import { atcCodeError } from '../../core/lifecycle/identifiers.ts';

/** A record before it is published: everything but the publishing instant. */
export type DecisionDraft = Omit<DrugDecision, 'publishedAt'>;

export type Change = 'DECISION' | 'PHASE_OUT' | 'CORRECTION';

/** The latest decision on a method, as the financing feed needs it. */
export interface DecisionFact {
  outcome: string;
  decidedOn: string;
  effectiveFrom: string | null;
  indication: string | null;
  eventId: string;
}

/** A phase-out of the whole method (subGroup null) or of a sub-group. */
export interface PhaseOutFact {
  subGroup: string | null;
  /** The Europe/Oslo day the phase-out was recorded: the phase-out event carries no decision date. */
  decidedOn: string;
  effectiveFrom: string;
  eventId: string;
}

/** What the feed knows of one method's decisions. */
export interface MethodFacts {
  decision: DecisionFact | null;
  /** Phase-outs by sub-group ('' for the whole method); a new decision clears the whole-method one. */
  phaseOuts: Map<string, PhaseOutFact>;
}

export const emptyFacts = (): MethodFacts => ({ decision: null, phaseOuts: new Map() });

/** Decision outcomes the feed publishes; UNKNOWN (a symbol newer than this hub) is refused. */
const KNOWN_OUTCOMES = new Set([
  'INTRODUCED',
  'INTRODUCED_WITH_CONDITIONS',
  'TEMPORARILY_INTRODUCED',
  'NOT_INTRODUCED',
]);

/** Nye metoder decisions start in 2013; anything before 2010 is no date at all (1970-01-01 is day 0). */
const EARLIEST_DECISION = '2010-01-01';

/** Why a date field cannot be a decision date, or null. */
export function decisionDateProblem(
  methodId: string,
  field: string,
  date: string | null | undefined,
): string | null {
  if (date === null || date === undefined || date === '')
    return `MISSING_DECISION_DATE: ${methodId} has a decision without ${field}; the feed needs the date it was decided`;
  if (!isCalendarDate(date))
    return `INVALID_DECISION_DATE: ${methodId} ${field} "${date}" is not a calendar date (YYYY-MM-DD)`;
  if (date < EARLIEST_DECISION) {
    return (
      `MISSING_DECISION_DATE: ${methodId} ${field} is ${date}, before any Nye metoder decision ` +
      '(1970-01-01 is day 0 of the date type: the source sent no date); resend the decision with its date'
    );
  }
  return null;
}

export function isCalendarDate(text: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** Why a medicine's details cannot go into the feed: every reason at once. */
export function detailsProblems(methodId: string, details: MethodDetails): string[] {
  const problems: string[] = [];
  if (details.atcCodes.length === 0)
    problems.push(`MISSING_ATC_CODE: ${methodId} is a medicine without an ATC code; the feed is keyed by it`);
  for (const code of details.atcCodes) {
    const error = atcCodeError(code, 5);
    if (error) problems.push(`${error.code}: ${methodId} ${error.reason}`);
  }
  if (details.hPrescription === null || details.hPrescription === undefined) {
    problems.push(
      `UNKNOWN_H_PRESCRIPTION: ${methodId} does not say whether it is an H-prescription medicine (H-resept); ` +
        'set details.hPrescription to true or false',
    );
  }
  if (details.substances.length === 0)
    problems.push(`MISSING_SUBSTANCE: ${methodId} names no active substance (virkestoff)`);
  return problems;
}

export function factsProblems(methodId: string, facts: MethodFacts): string[] {
  const problems: string[] = [];
  const d = facts.decision;
  if (d) {
    const date = decisionDateProblem(methodId, 'decidedOn', d.decidedOn);
    if (date) problems.push(date);
    if (!KNOWN_OUTCOMES.has(d.outcome))
      problems.push(`UNKNOWN_OUTCOME: ${methodId} decision outcome ${d.outcome} is not one this feed knows`);
  }
  for (const p of facts.phaseOuts.values()) {
    const date = decisionDateProblem(methodId, 'phasedOut.effectiveFrom', p.effectiveFrom);
    if (date) problems.push(date);
  }
  return problems;
}

/** Which record of a method a record continues: one per ATC code and sub-group. */
export const lineageOf = (atcCode: string, subGroup: string | null): string => `${atcCode}|${subGroup ?? ''}`;

/** A name-based UUID (version 5 layout over SHA-1): the same source event and lineage give the same id. */
export function recordIdFor(sourceEventId: string, lineage: string): string {
  const bytes = createHash('sha1')
    .update(`metodehub-financing:${sourceEventId}:${lineage}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The substance for the index-th ATC code: paired by position when the lists match, else all of them. */
function substanceFor(details: MethodDetails, index: number): string {
  return details.substances.length === details.atcCodes.length
    ? details.substances[index]!
    : details.substances.join(' + ');
}

/**
 * The records a method should have in the feed now, by lineage, each without id or supersedes yet: one
 * per ATC code for the decision (or its whole-method phase-out), and one per ATC code and phased-out sub-group.
 */
export function wantedRecords(
  methodId: string,
  details: MethodDetails,
  facts: MethodFacts,
  reportUrl: string | null,
): Map<
  string,
  Omit<DecisionDraft, 'recordId' | 'supersedes' | 'change' | 'sourceEventId'> & { basedOn: string }
> {
  const wanted = new Map<
    string,
    Omit<DecisionDraft, 'recordId' | 'supersedes' | 'change' | 'sourceEventId'> & { basedOn: string }
  >();
  const common = (index: number) => ({
    methodId,
    atcCode: details.atcCodes[index]!,
    substance: substanceFor(details, index),
    hPrescription: details.hPrescription === true,
    assessmentUrl: details.assessmentUrl ?? reportUrl,
    estimatedPatientsPerYear: details.estimatedPatientsPerYear ?? null,
  });
  details.atcCodes.forEach((atcCode, index) => {
    const whole = facts.phaseOuts.get('');
    if (whole) {
      wanted.set(lineageOf(atcCode, null), {
        ...common(index),
        outcome: 'PHASED_OUT',
        decidedOn: whole.decidedOn,
        effectiveFrom: whole.effectiveFrom,
        indication: facts.decision?.indication ?? details.indication ?? null,
        subGroup: null,
        basedOn: whole.eventId,
      });
    } else if (facts.decision) {
      const d = facts.decision;
      wanted.set(lineageOf(atcCode, null), {
        ...common(index),
        outcome: d.outcome,
        decidedOn: d.decidedOn,
        effectiveFrom: d.effectiveFrom,
        indication: d.indication ?? details.indication ?? null,
        subGroup: null,
        basedOn: d.eventId,
      });
    }
    for (const [key, p] of facts.phaseOuts) {
      if (key === '') continue;
      wanted.set(lineageOf(atcCode, p.subGroup), {
        ...common(index),
        outcome: 'PHASED_OUT',
        decidedOn: p.decidedOn,
        effectiveFrom: p.effectiveFrom,
        indication: p.subGroup,
        subGroup: p.subGroup,
        basedOn: p.eventId,
      });
    }
  });
  return wanted;
}

const CONTENT_FIELDS = [
  'methodId',
  'atcCode',
  'substance',
  'outcome',
  'decidedOn',
  'effectiveFrom',
  'hPrescription',
  'indication',
  'assessmentUrl',
  'estimatedPatientsPerYear',
  'subGroup',
] as const;

/** Whether two records say the same thing (ids, links and reasons aside). */
export function sameContent(a: Partial<DecisionDraft>, b: Partial<DecisionDraft>): boolean {
  return CONTENT_FIELDS.every((field) => (a[field] ?? null) === (b[field] ?? null));
}

/**
 * The new records that bring a method's feed from `current` to `wanted` (both by lineage): a changed
 * or new lineage gets a record superseding its predecessor; a lineage whose ATC code went away is
 * superseded by the new code's record of the same sub-group.
 */
export function recordsToPublish(
  current: ReadonlyMap<string, DecisionDraft>,
  wanted: ReturnType<typeof wantedRecords>,
  sourceEventId: string,
): DecisionDraft[] {
  const orphans = [...current.entries()].filter(([lineage]) => !wanted.has(lineage));
  const drafts: DecisionDraft[] = [];
  for (const [lineage, record] of wanted) {
    const before = current.get(lineage);
    if (before && sameContent(before, record)) continue;
    let predecessor = before;
    if (!predecessor) {
      const index = orphans.findIndex(([, r]) => (r.subGroup ?? null) === record.subGroup);
      if (index >= 0) predecessor = orphans.splice(index, 1)[0]![1];
    }
    const { basedOn, ...content } = record;
    // A record made from an older decision is a correction, unless the feed had none yet (its details were fixed).
    const change: Change =
      basedOn === sourceEventId || !predecessor
        ? record.outcome === 'PHASED_OUT'
          ? 'PHASE_OUT'
          : 'DECISION'
        : 'CORRECTION';
    drafts.push({
      ...content,
      recordId: recordIdFor(sourceEventId, lineage),
      supersedes: predecessor?.recordId ?? null,
      change,
      sourceEventId,
    });
  }
  return drafts;
}

export { osloDateOf };

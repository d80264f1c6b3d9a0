/**
 * Method events to guideline-flag records: pure. Given a method's current flags, the event, the rule book
 * and what the hub knows of the method, it gives the records to append to `hdir.guideline-flags.v1`,
 * each saying what it changed (FLAGGED, DECISION, ...). An empty list means nothing to say.
 */
import type {
  FlagChange,
  GuidelineFlag,
  MethodDetails,
  MethodEvent,
  MethodState,
} from '../../contracts/generated/types.ts';
import { guidelinesFor, type RuleBook } from './rules.ts';

/** The changes Helsedirektoratet is notified of. */
export const notifiedChanges: readonly FlagChange[] = [
  'FLAGGED',
  'UNFLAGGED',
  'DECISION',
  'TEMPORARY_INTRODUCTION',
  'REASSESSMENT',
  'PHASE_OUT',
  'REASSESSMENT_APPROACHING',
  'REASSESSMENT_OVERDUE',
];

export const flagIdOf = (methodId: string, guidelineId: string): string => `${methodId}/${guidelineId}`;

/** What the hub already knows of a method (its state may trail the event at hand). */
function knownOf(state: MethodState | undefined) {
  const decision = state?.decision;
  return {
    decidedOn: decision?.decidedOn ?? null,
    decisionOutcome: decision?.outcome ?? null,
    reassessBy: decision?.temporaryIntroduction?.reassessBy ?? null,
    assessmentUrl: state?.assessmentDelivered?.reportUrl ?? state?.details.assessmentUrl ?? null,
    publicPriceNoteUrl: state?.priceAgreement?.publicPriceNoteUrl ?? null,
  };
}

function fromEvent(event: MethodEvent, change: FlagChange) {
  return { trigger: event.type, causeEventId: event.eventId, changedAt: event.occurredAt, change };
}

function detailsOf(event: MethodEvent): MethodDetails | undefined {
  return event.registered?.details ?? event.detailsChanged?.details ?? undefined;
}

/**
 * The records an event makes for one method. `current` holds the method's latest record per guideline
 * (active or not).
 */
export function flagRecordsFor(
  current: readonly GuidelineFlag[],
  event: MethodEvent,
  book: RuleBook,
  state?: MethodState,
): GuidelineFlag[] {
  const byGuideline = new Map(current.map((f) => [f.guidelineId, f]));
  const active = current.filter((f) => f.active);
  const details = detailsOf(event);
  if (details) return reflag(byGuideline, event, details, book, state);
  switch (event.type) {
    case 'DECISION_MADE': {
      const decision = event.decision!;
      const temporary = decision.outcome === 'TEMPORARILY_INTRODUCED';
      return active.map((flag) => {
        // A later decision (after a re-assessment) starts a new implementation run.
        const newRun = flag.decidedOn !== null && flag.decidedOn !== decision.decidedOn;
        return {
          ...flag,
          ...fromEvent(event, temporary ? 'TEMPORARY_INTRODUCTION' : 'DECISION'),
          decidedOn: decision.decidedOn,
          decisionOutcome: decision.outcome,
          reassessBy: decision.temporaryIntroduction?.reassessBy ?? null,
          ...(newRun
            ? {
                implementationStatus: 'NOT_STARTED' as const,
                implementationStatusOn: decision.decidedOn,
                statusNote: 'new run after a later decision',
                reportedBy: 'metodehub',
              }
            : {}),
        };
      });
    }
    case 'REASSESSMENT_STARTED':
      return active.map((flag) => ({ ...flag, ...fromEvent(event, 'REASSESSMENT') }));
    case 'PHASED_OUT':
      return active.map((flag) => ({ ...flag, ...fromEvent(event, 'PHASE_OUT') }));
    case 'ASSESSMENT_DELIVERED': {
      const url = event.assessmentDelivered?.reportUrl ?? null;
      return active
        .filter((flag) => url !== null && flag.assessmentUrl !== url)
        .map((flag) => ({ ...flag, ...fromEvent(event, 'UPDATED'), assessmentUrl: url }));
    }
    case 'PRICE_NEGOTIATION_CONCLUDED': {
      const url = event.priceNegotiationConcluded?.publicPriceNoteUrl ?? null;
      return active
        .filter((flag) => url !== null && flag.publicPriceNoteUrl !== url)
        .map((flag) => ({ ...flag, ...fromEvent(event, 'UPDATED'), publicPriceNoteUrl: url }));
    }
    default:
      return [];
  }
}

function reflag(
  byGuideline: Map<string, GuidelineFlag>,
  event: MethodEvent,
  details: MethodDetails,
  book: RuleBook,
  state: MethodState | undefined,
): GuidelineFlag[] {
  const known = knownOf(state);
  const wanted = guidelinesFor(details, book);
  const wantedIds = new Set(wanted.map((w) => w.guidelineId));
  const records: GuidelineFlag[] = [];
  for (const reason of wanted) {
    const before = byGuideline.get(reason.guidelineId);
    const assessmentUrl = details.assessmentUrl ?? before?.assessmentUrl ?? known.assessmentUrl;
    if (!before || !before.active) {
      records.push({
        flagId: flagIdOf(event.methodId, reason.guidelineId),
        methodId: event.methodId,
        guidelineId: reason.guidelineId,
        origin: reason.origin,
        ruleId: reason.ruleId,
        active: true,
        implementationStatus: before?.implementationStatus ?? 'NOT_STARTED',
        implementationStatusOn: before?.implementationStatusOn ?? null,
        methodName: details.name,
        decisionOutcome: before?.decisionOutcome ?? known.decisionOutcome,
        decidedOn: before?.decidedOn ?? known.decidedOn,
        reassessBy: before?.reassessBy ?? known.reassessBy,
        assessmentUrl,
        publicPriceNoteUrl: before?.publicPriceNoteUrl ?? known.publicPriceNoteUrl,
        statusNote: before?.statusNote ?? null,
        reportedBy: before?.reportedBy ?? null,
        ...fromEvent(event, 'FLAGGED'),
      });
      continue;
    }
    const changed =
      before.origin !== reason.origin ||
      before.ruleId !== reason.ruleId ||
      before.methodName !== details.name ||
      before.assessmentUrl !== assessmentUrl;
    if (changed) {
      records.push({
        ...before,
        origin: reason.origin,
        ruleId: reason.ruleId,
        methodName: details.name,
        assessmentUrl,
        ...fromEvent(event, 'UPDATED'),
      });
    }
  }
  for (const before of byGuideline.values()) {
    if (before.active && !wantedIds.has(before.guidelineId))
      records.push({ ...before, active: false, ...fromEvent(event, 'UNFLAGGED') });
  }
  return records;
}

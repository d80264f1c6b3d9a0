/**
 * The change log of a method's history: for each applied event, the status move and every text of the
 * method's details that changed, as a reader of the case file wants to see them.
 */
import type { MethodDetails, MethodState, MethodStatus } from '../../contracts/generated/types.ts';
import type { LedgerEntry } from './ledger.ts';

export interface TextChange {
  field: string;
  from: string | null;
  to: string | null;
}

export interface ChangeLogEntry {
  eventId: string;
  type: string;
  occurredAt: string;
  actor: string | null;
  source: string;
  version: number;
  status: { from: MethodStatus | null; to: MethodStatus } | null;
  textChanges: TextChange[];
}

/** The details shown in the change log; the confidential note never is. */
const loggedDetails: (keyof MethodDetails)[] = [
  'name',
  'shortDescription',
  'methodType',
  'level',
  'specialty',
  'indication',
  'substances',
  'atcCodes',
  'marketingAuthorisation',
  'supplier',
  'hPrescription',
  'estimatedPatientsPerYear',
  'guidelineFlags',
  'assessmentUrl',
];

const asText = (value: unknown): string | null => {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.length === 0 ? null : value.join(', ');
  return String(value);
};

export function textChanges(before: MethodDetails | undefined, after: MethodDetails): TextChange[] {
  const changes: TextChange[] = [];
  for (const field of loggedDetails) {
    const from = before ? asText(before[field]) : null;
    const to = asText(after[field]);
    if (from !== to) changes.push({ field: `details.${field}`, from, to });
  }
  return changes;
}

export function changeLogOf(entries: LedgerEntry[]): ChangeLogEntry[] {
  let previous: MethodState | undefined;
  return entries.map(({ event, state }) => {
    const changes = textChanges(previous?.details, state.details);
    if (event.note) changes.push({ field: `note.${event.note.subject}`, from: null, to: event.note.text });
    if (event.decision)
      changes.push({
        field: 'decision.outcome',
        from: previous?.decision?.outcome ?? null,
        to: event.decision.outcome,
      });
    if (event.statusChanged?.reason)
      changes.push({ field: 'statusChanged.reason', from: null, to: event.statusChanged.reason });
    const entry: ChangeLogEntry = {
      eventId: event.eventId,
      type: event.type,
      occurredAt: event.occurredAt,
      actor: event.actor,
      source: event.source,
      version: state.version,
      status: previous?.status === state.status ? null : { from: previous?.status ?? null, to: state.status },
      textChanges: changes,
    };
    previous = state;
    return entry;
  });
}

export interface DecisionRound {
  eventId: string;
  occurredAt: string;
  /** 1 for the first decision, 2 for the next, ... */
  round: number;
  forum: string;
  outcome: string;
  decidedOn: string;
  withoutDocumentation: boolean;
  withoutDocumentationReason: string | null;
  /** The status the method left for this decision. */
  decidedFrom: MethodStatus | null;
  /** What led to a new decision: a new price offer after NOT_INTRODUCED, or a re-assessment; null for the first. */
  after: 'NEW_PRICE_OFFER' | 'REASSESSMENT' | null;
}

/** Every decision of a method in order, with what led to each new one. */
export function decisionRoundsOf(entries: LedgerEntry[]): DecisionRound[] {
  const rounds: DecisionRound[] = [];
  let previous: MethodState | undefined;
  let after: DecisionRound['after'] = null;
  for (const { event, state } of entries) {
    if (previous?.status === 'DECIDED' && state.status === 'PRICE_NEGOTIATION') after = 'NEW_PRICE_OFFER';
    else if (rounds.length > 0 && state.status === 'REASSESSMENT' && after === null) after = 'REASSESSMENT';
    const d = event.type === 'DECISION_MADE' ? event.decision : null;
    if (d) {
      rounds.push({
        eventId: event.eventId,
        occurredAt: event.occurredAt,
        round: rounds.length + 1,
        forum: d.forum,
        outcome: d.outcome,
        decidedOn: d.decidedOn,
        withoutDocumentation: d.withoutDocumentation,
        withoutDocumentationReason: d.withoutDocumentationReason ?? null,
        decidedFrom: previous?.status ?? null,
        after: rounds.length === 0 ? null : after,
      });
      after = null;
    }
    previous = state;
  }
  return rounds;
}

/**
 * Folds the method-event log into what the financing feed should hold: per method its state (by the same
 * state machine as every other reader) and its current records, and per relevant event the records it
 * gives or why it gives none. Deterministic: the same log always gives the same records and ids, so a
 * restart can fold the log again and publish only what the feed lacks.
 */
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { verdictOn } from '../../core/lifecycle/ledger.ts';
import {
  type DecisionDraft,
  detailsProblems,
  emptyFacts,
  factsProblems,
  type MethodFacts,
  osloDateOf,
  recordsToPublish,
  wantedRecords,
} from './mapping.ts';

/** What one event means for the feed: records to publish, or the reason it cannot be published. */
export interface FeedOutcome {
  records: DecisionDraft[];
  problem: string | null;
}

const RELEVANT = new Set(['DECISION_MADE', 'PHASED_OUT', 'DETAILS_CHANGED']);

export class DecisionFold {
  private readonly states = new Map<string, MethodState>();
  private readonly facts = new Map<string, MethodFacts>();
  private readonly current = new Map<string, Map<string, DecisionDraft>>();
  private readonly seen = new Set<string>();
  private readonly outcomes = new Map<string, FeedOutcome>();
  /** Events the state machine refused (the projection dead-letters them; the feed ignores them). */
  refused = 0;

  /**
   * Folds an event (once; a known event id only returns its outcome again). Null when the event means
   * nothing for the feed: not a medicine, not a decision, or refused by the state machine.
   */
  offer(event: MethodEvent): FeedOutcome | null {
    if (this.seen.has(event.eventId)) return this.outcomes.get(event.eventId) ?? null;
    const verdict = verdictOn(this.states.get(event.methodId), event);
    if (verdict.outcome === 'rejected') {
      this.refused++;
      return null;
    }
    this.seen.add(event.eventId);
    if (verdict.outcome === 'duplicate') return null;
    const state = verdict.state;
    this.states.set(event.methodId, state);
    if (!RELEVANT.has(event.type) || state.details.methodType !== 'MEDICINE') return null;
    // The facts are what the case system decided, kept even when the feed cannot publish them yet: a later
    // correction of the details then publishes the decision.
    const facts = nextFacts(this.facts.get(event.methodId) ?? emptyFacts(), event);
    this.facts.set(event.methodId, facts);
    if (!facts.decision && facts.phaseOuts.size === 0) return null; // details of an undecided medicine
    const outcome = this.outcomeFor(event, state, facts);
    this.outcomes.set(event.eventId, outcome);
    return outcome;
  }

  private outcomeFor(event: MethodEvent, state: MethodState, facts: MethodFacts): FeedOutcome {
    const problems = [
      ...detailsProblems(event.methodId, state.details),
      ...factsProblems(event.methodId, facts),
    ];
    if (problems.length > 0) return { records: [], problem: problems.join('; ') };
    const current = this.current.get(event.methodId) ?? new Map<string, DecisionDraft>();
    const wanted = wantedRecords(
      event.methodId,
      state.details,
      facts,
      state.assessmentDelivered?.reportUrl ?? null,
    );
    const records = recordsToPublish(current, wanted, event.eventId);
    const next = new Map(current);
    for (const record of records) {
      if (record.supersedes) {
        for (const [lineage, r] of next) if (r.recordId === record.supersedes) next.delete(lineage);
      }
      next.set(`${record.atcCode}|${record.subGroup ?? ''}`, record);
    }
    this.current.set(event.methodId, next);
    return { records, problem: null };
  }

  /** The outcome of an event folded before, if it meant anything for the feed. */
  outcomeOf(eventId: string): FeedOutcome | undefined {
    return this.outcomes.get(eventId);
  }

  get methods(): number {
    return this.states.size;
  }
}

/** The facts after an event, as a new value. */
function nextFacts(before: MethodFacts, event: MethodEvent): MethodFacts {
  const facts: MethodFacts = { decision: before.decision, phaseOuts: new Map(before.phaseOuts) };
  const d = event.decision;
  if (event.type === 'DECISION_MADE' && d) {
    facts.decision = {
      outcome: d.outcome,
      decidedOn: d.decidedOn,
      effectiveFrom: d.effectiveFrom ?? null,
      indication: d.indication ?? null,
      eventId: event.eventId,
    };
    facts.phaseOuts.delete(''); // a new decision on the whole method replaces its phase-out
  }
  const p = event.phasedOut;
  if (event.type === 'PHASED_OUT' && p) {
    facts.phaseOuts.set(p.subGroup ?? '', {
      subGroup: p.subGroup ?? null,
      decidedOn: osloDateOf(event.occurredAt),
      effectiveFrom: p.effectiveFrom,
      eventId: event.eventId,
    });
  }
  return facts;
}

/**
 * A generated but plausible history of Nye metoder since 2016: hundreds of methods, each with the events the
 * case system would have sent, from proposal to decision, re-assessment and phase-out. Same seed, same
 * history (ids included), so replaying it twice adds nothing the second time; a later `until` only adds
 * events at the end of each method's history.
 */
import type { DecisionOutcome, MethodEvent, MethodEventType } from '../../contracts/generated/types.ts';
import { methodLife } from './methodLife.ts';
import { planMethods } from './plan.ts';
import { seededRandom } from './random.ts';

export interface DemoOptions {
  /** Same seed, same history. Default 2016. */
  seed?: number;
  /** How many methods to generate. Default 320. */
  methods?: number;
  /** Leave out what happens after this instant or date (a date means its whole day). Default: now. */
  until?: string;
}

export const DEFAULT_SEED = 2016;
export const DEFAULT_METHODS = 320;
/** Serials have three digits: more methods than this would not fit in a year. */
const MAX_METHODS = 9000;

/** Every event of the demo up to `until`, sorted by occurredAt; events at the same instant keep method order. */
export function demoHistory(options: DemoOptions = {}): MethodEvent[] {
  const seed = options.seed ?? DEFAULT_SEED;
  const count = options.methods ?? DEFAULT_METHODS;
  if (!Number.isInteger(seed)) throw new RangeError(`demo seed must be an integer, got ${seed}`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_METHODS) {
    throw new RangeError(`demo methods must be an integer from 1 to ${MAX_METHODS}, got ${count}`);
  }
  const until = untilInstant(options.until);
  const plans = planMethods(count, seededRandom(seed));
  const events = plans.flatMap((plan) => methodLife(plan, seed)).filter((event) => event.occurredAt <= until);
  return events.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
}

/** The cut-off as an ISO instant; a plain date 'YYYY-MM-DD' includes that whole day. */
function untilInstant(until: string | undefined): string {
  if (until === undefined) return new Date().toISOString();
  const instant = /^\d{4}-\d{2}-\d{2}$/.test(until)
    ? Date.parse(`${until}T23:59:59.999Z`)
    : Date.parse(until);
  if (Number.isNaN(instant)) {
    throw new RangeError(`until "${until}" is neither a date (YYYY-MM-DD) nor an ISO instant`);
  }
  return new Date(instant).toISOString();
}

export interface DemoSummary {
  methods: number;
  events: number;
  /** occurredAt of the first and last event; empty strings when there are none. */
  firstOccurredAt: string;
  lastOccurredAt: string;
  /** Methods by the year in their ID (the year they were registered). */
  methodsByYear: Record<string, number>;
  eventsByType: Partial<Record<MethodEventType, number>>;
  /** Every DECISION_MADE, re-decisions included, by outcome. */
  decisionsByOutcome: Partial<Record<DecisionOutcome, number>>;
}

/** What a list of demo events holds, for a CLI to print what it loads. */
export function demoSummary(events: readonly MethodEvent[]): DemoSummary {
  const methodIds = new Set(events.map((e) => e.methodId));
  const methodsByYear: Record<string, number> = {};
  for (const id of methodIds) {
    const year = id.slice(2, 6);
    methodsByYear[year] = (methodsByYear[year] ?? 0) + 1;
  }
  const eventsByType: Partial<Record<MethodEventType, number>> = {};
  const decisionsByOutcome: Partial<Record<DecisionOutcome, number>> = {};
  let first = '';
  let last = '';
  for (const event of events) {
    eventsByType[event.type] = (eventsByType[event.type] ?? 0) + 1;
    if (event.decision) {
      const outcome = event.decision.outcome;
      decisionsByOutcome[outcome] = (decisionsByOutcome[outcome] ?? 0) + 1;
    }
    if (first === '' || event.occurredAt < first) first = event.occurredAt;
    if (event.occurredAt > last) last = event.occurredAt;
  }
  return {
    methods: methodIds.size,
    events: events.length,
    firstOccurredAt: first,
    lastOccurredAt: last,
    methodsByYear,
    eventsByType,
    decisionsByOutcome,
  };
}

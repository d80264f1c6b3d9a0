/**
 * A method's ledger: every event applied to it, in log order, with the state after each one. It answers
 * "what is it now", "what was it at instant T" (time travel, by the event's occurredAt) and "what happened".
 * The verdict on a new event is the same pure rule everywhere (ingress, projection, read model), so every
 * reader of the event log folds it to the same states.
 */
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { applyEvent } from './applyEvent.ts';
import type { DomainError } from './errors.ts';

export type Verdict =
  | { outcome: 'applied'; state: MethodState }
  | { outcome: 'duplicate'; state: MethodState }
  | { outcome: 'rejected'; errors: DomainError[] };

/** Where an event sits in the log, when it came from there. */
export interface LogPosition {
  partition: number;
  offset: string;
}

export interface LedgerEntry {
  event: MethodEvent;
  /** The method's state right after the event. */
  state: MethodState;
  /** occurredAt in epoch millis, for the binary search of time travel. */
  at: number;
  position: LogPosition | null;
}

/**
 * The verdict on one event given the method's state: a resent event id (one of the state's recent ids)
 * is a harmless duplicate; anything else goes through the state machine.
 */
export function verdictOn(state: MethodState | undefined, event: MethodEvent): Verdict {
  if (state?.recentEventIds.includes(event.eventId)) return { outcome: 'duplicate', state };
  const result = applyEvent(state, event);
  return result.ok
    ? { outcome: 'applied', state: result.value }
    : { outcome: 'rejected', errors: result.errors };
}

export class MethodLedger {
  readonly entries: LedgerEntry[] = [];
  private readonly ids = new Set<string>();

  constructor(readonly methodId: string) {}

  get current(): MethodState | undefined {
    return this.entries.at(-1)?.state;
  }

  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }

  /** The event with this id, when this method has one. */
  eventWithId(eventId: string): MethodEvent | undefined {
    return this.ids.has(eventId) ? this.entries.find((e) => e.event.eventId === eventId)?.event : undefined;
  }

  /** Judges an event without recording it; a duplicate of any earlier event of this method is caught. */
  judge(event: MethodEvent): Verdict {
    const current = this.current;
    if (current && this.ids.has(event.eventId)) return { outcome: 'duplicate', state: current };
    return verdictOn(current, event);
  }

  /** Judges and, when it applies, records the event. */
  offer(event: MethodEvent, position: LogPosition | null = null): Verdict {
    const verdict = this.judge(event);
    if (verdict.outcome === 'applied') {
      this.entries.push({ event, state: verdict.state, at: Date.parse(event.occurredAt), position });
      this.ids.add(event.eventId);
    }
    return verdict;
  }

  /** How many entries had occurred by `instant` (epoch millis); entries are in occurredAt order. */
  private countUntil(instant: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.at <= instant) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The state as things stood at `instant`; undefined before the method was registered. */
  stateAsOf(instant: number): MethodState | undefined {
    const n = this.countUntil(instant);
    return n === 0 ? undefined : this.entries[n - 1]!.state;
  }

  /** The entries that had occurred by `instant` (all when omitted). */
  entriesUntil(instant?: number): LedgerEntry[] {
    return instant === undefined ? this.entries : this.entries.slice(0, this.countUntil(instant));
  }
}

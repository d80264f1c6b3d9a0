/**
 * A method's ledger: every event applied to it, in log order, with the state after each one. It answers
 * "what is it now", "what was it at instant T" (time travel, by the event's occurredAt) and "what happened".
 * The verdict on a new event is the same pure rule everywhere (ingress, projection, read model), so every
 * reader of the event log folds it to the same states.
 */
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { countAtOrBelow } from '../collections/sorted.ts';
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
  readonly event: MethodEvent;
  /** The method's state right after the event. */
  readonly state: MethodState;
  /** occurredAt in epoch millis, for the binary search of time travel. */
  readonly at: number;
  readonly position: LogPosition | null;
}

/**
 * Every how many entries the state after one is kept. The others' states are folded again from the nearest kept
 * one when asked for (at most CHECKPOINT_EVERY - 1 events through the same pure state machine): a state per entry
 * was nearly half the read model's memory (1,450 bytes an entry, 667 of them states, for 8,000 bench methods).
 */
export const CHECKPOINT_EVERY = 8;

class Entry implements LedgerEntry {
  /** The state after this entry, when kept: every CHECKPOINT_EVERY-th entry's, and the last one's. */
  kept: MethodState | undefined;

  constructor(
    private readonly ledger: MethodLedger,
    private readonly index: number,
    readonly event: MethodEvent,
    state: MethodState,
    readonly at: number,
    readonly position: LogPosition | null,
  ) {
    this.kept = state;
  }

  get state(): MethodState {
    return this.kept ?? this.ledger.stateAfter(this.index);
  }
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

  /** The state after entry `index`: folded again from the nearest kept state before it. */
  stateAfter(index: number): MethodState {
    let from = index;
    while (from >= 0 && (this.entries[from] as Entry).kept === undefined) from--;
    let state = from >= 0 ? (this.entries[from] as Entry).kept : undefined;
    for (let i = from + 1; i <= index; i++) {
      const result = applyEvent(state, this.entries[i]!.event);
      // The same pure rule applied the same events in this order before; anything else is a bug here.
      if (!result.ok) throw new Error(`LEDGER_REFOLD: ${this.methodId} entry ${i} no longer applies`);
      state = result.value;
    }
    return state!;
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
      const previous = this.entries.at(-1) as Entry | undefined;
      if (previous && this.entries.length % CHECKPOINT_EVERY !== 0) previous.kept = undefined;
      this.entries.push(
        new Entry(this, this.entries.length, event, verdict.state, Date.parse(event.occurredAt), position),
      );
      this.ids.add(event.eventId);
    }
    return verdict;
  }

  /** How many entries had occurred by `instant` (epoch millis); entries are in occurredAt order. */
  private countUntil(instant: number): number {
    return countAtOrBelow(this.entries, (e) => e.at, instant);
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

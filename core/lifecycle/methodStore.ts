/**
 * The read model: every method's ledger, folded from the event log. Serves current state, time travel
 * (`asOf`), history and filtered lists, and judges a batch of new events as if appended in order, so
 * ingress can refuse a whole batch before anything is written.
 */
import type {
  AssessmentLevel,
  MethodEvent,
  MethodState,
  MethodType,
} from '../../contracts/generated/types.ts';
import { type DomainError, domainError } from './errors.ts';
import { type LogPosition, MethodLedger, type Verdict, verdictOn } from './ledger.ts';

export interface MethodFilter {
  status?: string[];
  /** Case-insensitive, exact specialty (fagområde). */
  specialty?: string;
  /** An ATC code or a prefix of one: L01 finds every L01... medicine. */
  atc?: string;
  /** Case-insensitive part of an active substance name. */
  substance?: string;
  type?: MethodType;
  /** NATIONAL assessments or LOCAL mini-HTAs; both when omitted. */
  level?: AssessmentLevel;
}

export interface FoldCounts {
  applied: number;
  duplicate: number;
  rejected: number;
}

/** Two events are the same when their JSON is: a resend of an id with other content is a client error. */
const sameEvent = (a: MethodEvent, b: MethodEvent): boolean => JSON.stringify(a) === JSON.stringify(b);

/** How many refused event ids the store remembers, so a writer can learn what became of its events. */
const REMEMBERED_REJECTIONS = 10_000;

export type Settlement =
  | { outcome: 'applied'; state: MethodState }
  | { outcome: 'rejected'; errors: DomainError[] };

export class MethodStore {
  private readonly ledgers = new Map<string, MethodLedger>();
  private readonly ownerOfEvent = new Map<string, string>();
  private readonly rejections = new Map<string, DomainError[]>();
  private readonly listeners = new Set<() => void>();
  readonly counts: FoldCounts = { applied: 0, duplicate: 0, rejected: 0 };

  get size(): number {
    return this.ledgers.size;
  }

  ledger(methodId: string): MethodLedger | undefined {
    return this.ledgers.get(methodId);
  }

  /** Folds one event from the log into its method's ledger. */
  offer(event: MethodEvent, position: LogPosition | null = null): Verdict {
    let ledger = this.ledgers.get(event.methodId);
    if (!ledger) {
      ledger = new MethodLedger(event.methodId);
      if (event.type === 'METHOD_REGISTERED') this.ledgers.set(event.methodId, ledger);
    }
    const verdict = ledger.offer(event, position);
    this.counts[verdict.outcome]++;
    if (verdict.outcome === 'applied') this.ownerOfEvent.set(event.eventId, event.methodId);
    else if (ledger.entries.length === 0) this.ledgers.delete(event.methodId);
    if (verdict.outcome === 'rejected') this.rememberRejection(event.eventId, verdict.errors);
    for (const listener of this.listeners) listener();
    return verdict;
  }

  private rememberRejection(eventId: string, errors: DomainError[]): void {
    this.rejections.set(eventId, errors);
    if (this.rejections.size > REMEMBERED_REJECTIONS) {
      this.rejections.delete(this.rejections.keys().next().value!);
    }
  }

  /** What the fold made of an event id: applied (with the method's state then) or rejected; undefined if not seen. */
  settlementOf(eventId: string): Settlement | undefined {
    const owner = this.ownerOfEvent.get(eventId);
    if (owner !== undefined) {
      const entry = this.ledgers.get(owner)?.entries.find((e) => e.event.eventId === eventId);
      if (entry) return { outcome: 'applied', state: entry.state };
    }
    const errors = this.rejections.get(eventId);
    return errors ? { outcome: 'rejected', errors } : undefined;
  }

  /** Waits until the fold has settled every one of these event ids; false on timeout. */
  whenSettled(eventIds: string[], timeoutMs: number): Promise<boolean> {
    const settled = () => eventIds.every((id) => this.ownerOfEvent.has(id) || this.rejections.has(id));
    if (settled()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(value);
      };
      const check = () => {
        if (settled()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.listeners.add(check);
    });
  }

  /**
   * The verdict on each event of a batch as if the batch were appended in order, without recording any.
   * Stricter than the fold: an event id already used for a different event is refused.
   */
  judgeBatch(events: MethodEvent[]): Verdict[] {
    return this.judge().next(events);
  }

  /**
   * A judge for batches in sequence (the ingress's group commit): each batch is judged as if appended after every
   * batch given to `keep`, so one refused batch leaves the others' verdicts as they were.
   */
  judge(): {
    next: (events: MethodEvent[]) => Verdict[];
    keep: (events: MethodEvent[], verdicts: Verdict[]) => void;
  } {
    const kept = new Map<string, MethodState>();
    const keptEvents = new Map<string, MethodEvent>();
    return {
      next: (events) => this.judgeAfter(events, kept, keptEvents),
      keep: (events, verdicts) =>
        verdicts.forEach((v, i) => {
          if (v.outcome !== 'applied') return;
          kept.set(events[i]!.methodId, v.state);
          keptEvents.set(events[i]!.eventId, events[i]!);
        }),
    };
  }

  private judgeAfter(
    events: MethodEvent[],
    before: ReadonlyMap<string, MethodState>,
    beforeEvents: ReadonlyMap<string, MethodEvent>,
  ): Verdict[] {
    const pending = new Map(before);
    const pendingEvents = new Map(beforeEvents);
    return events.map((event) => {
      const earlier = pendingEvents.get(event.eventId) ?? this.eventWithId(event.eventId);
      const state = pending.get(event.methodId) ?? this.ledgers.get(event.methodId)?.current;
      if (earlier) {
        if (earlier.methodId === event.methodId && sameEvent(earlier, event) && state)
          return { outcome: 'duplicate', state };
        return {
          outcome: 'rejected',
          errors: [
            domainError(
              'EVENT_ID_REUSED',
              `event id ${event.eventId} was already used for a different event (${earlier.type} of ${earlier.methodId}); give each event its own id`,
            ),
          ],
        };
      }
      const verdict = verdictOn(state, event);
      if (verdict.outcome === 'applied') {
        pending.set(event.methodId, verdict.state);
        pendingEvents.set(event.eventId, event);
      }
      return verdict;
    });
  }

  eventWithId(eventId: string): MethodEvent | undefined {
    const owner = this.ownerOfEvent.get(eventId);
    return owner === undefined ? undefined : this.ledgers.get(owner)?.eventWithId(eventId);
  }

  /** A method's state now, or as it stood at `asOf` (epoch millis). */
  stateOf(methodId: string, asOf?: number): MethodState | undefined {
    const ledger = this.ledgers.get(methodId);
    if (!ledger) return undefined;
    return asOf === undefined ? ledger.current : ledger.stateAsOf(asOf);
  }

  /** Every method's state now or at `asOf`, in method-ID order; methods not yet registered then are left out. */
  states(asOf?: number): MethodState[] {
    const result: MethodState[] = [];
    for (const id of [...this.ledgers.keys()].sort()) {
      const state = this.stateOf(id, asOf);
      if (state) result.push(state);
    }
    return result;
  }

  list(filter: MethodFilter, asOf?: number): MethodState[] {
    return this.states(asOf).filter(matches(filter));
  }
}

export function matches(filter: MethodFilter): (state: MethodState) => boolean {
  const specialty = filter.specialty?.toLocaleLowerCase('nb');
  const atc = filter.atc?.toUpperCase();
  const substance = filter.substance?.toLocaleLowerCase('nb');
  return (state) => {
    const d = state.details;
    if (filter.status && filter.status.length > 0 && !filter.status.includes(state.status)) return false;
    if (specialty && d.specialty?.toLocaleLowerCase('nb') !== specialty) return false;
    if (filter.type && d.methodType !== filter.type) return false;
    if (filter.level && (d.level ?? 'NATIONAL') !== filter.level) return false;
    if (atc && !d.atcCodes.some((code) => code.toUpperCase().startsWith(atc))) return false;
    if (substance && !d.substances.some((s) => s.toLocaleLowerCase('nb').includes(substance))) return false;
    return true;
  };
}

/**
 * Every method's history, folded by the state machine from `nyemetoder.method-events.v1` (the hub's method log),
 * followed from the start: what became of an event and the method's state right after it. The flagger judges each event on
 * that state, not on the latest one: after a restart or a lag it reads events the projection folded long
 * ago, and the latest state would lend an earlier record links (assessment, price note) from later events.
 */
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { describeErrors } from '../../core/lifecycle/errors.ts';
import type { MethodLog } from '../../core/lifecycle/methodLog.ts';
import type { MethodStore } from '../../core/lifecycle/methodStore.ts';
import { TransientError } from '../../core/bus/errors.ts';

export type EventFate =
  | { fate: 'applied'; state: MethodState }
  /** The same event id applied earlier in the log: this copy changes nothing. */
  | { fate: 'copy' }
  | { fate: 'refused'; reason: string }
  | { fate: 'pending' };

export class MethodHistory {
  private readonly store: MethodStore;

  /** The history is the hub's one fold of the event log: its ledgers keep every event with its position. */
  constructor(private readonly log: MethodLog) {
    this.store = log.store;
  }

  async start(timeoutMs = 120_000): Promise<void> {
    await this.log.start();
    if (!(await this.log.waitUntilCaughtUp(timeoutMs)))
      throw new TransientError(`could not read the method-events topic to its end in ${timeoutMs} ms`);
  }

  /** The log is the hub's: it goes on for the others. */
  stop(): Promise<void> {
    return this.log.stop();
  }

  /**
   * What the fold made of the event at this log position: applied (with the state right after it), a copy
   * of an event applied at another position, refused (with the state machine's reason), or still pending
   * after `timeoutMs` (the fold has not read that far).
   */
  async fateOf(
    event: MethodEvent,
    at: { partition: number; offset: string },
    timeoutMs: number,
  ): Promise<EventFate> {
    if (!(await this.store.whenSettled([event.eventId], timeoutMs))) return { fate: 'pending' };
    const settled = this.store.settlementOf(event.eventId);
    if (!settled) return { fate: 'pending' };
    if (settled.outcome === 'rejected') return { fate: 'refused', reason: describeErrors(settled.errors) };
    const entry = this.store.ledger(event.methodId)?.entries.find((e) => e.event.eventId === event.eventId);
    const position = entry?.position;
    if (position && (position.partition !== at.partition || position.offset !== at.offset))
      return { fate: 'copy' };
    return { fate: 'applied', state: settled.state };
  }
}

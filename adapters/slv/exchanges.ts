/**
 * The history of what was exchanged with SLV, per method, with a change log of texts and statuses. Built
 * from the logs (method events Nye metoder sends, case updates read from SLV), so it survives restarts:
 * an outbound write is `pending` until delivered, and `confirmed` once SLV's change tracking shows it back.
 */
import type { MethodEvent, SlvCaseUpdate } from '../../contracts/generated/types.ts';
import type { LogPosition } from '../../core/lifecycle/ledger.ts';
import type { SlvCaseChanges } from './client.ts';
import type { SlvWork } from './mapping.ts';

export interface FieldChange {
  field: string;
  from: string | null;
  to: string | null;
}

export interface Exchange {
  direction: 'to-slv' | 'from-slv';
  /** When it happened at the source (event occurredAt, or SLV's modifiedon). */
  at: string;
  /** The method event id (to SLV) or SLV's change id (from SLV). */
  id: string;
  /** The method event type, or SLV's change kind. */
  what: string;
  /** The values sent or read: status, text, name, track, deadline, note, reportUrl. */
  values: Record<string, string | null>;
  /** What changed against the values known before. */
  changes: FieldChange[];
  /**
   * To SLV: pending, delivered (SLV accepted the write), confirmed (seen back in SLV's change tracking),
   * dead-lettered (refused for good; on the dead-letter topic with the reason in `outcome`).
   */
  delivery?: 'pending' | 'delivered' | 'confirmed' | 'dead-lettered';
  deliveredAt?: string;
  /** From SLV: the method event it became, or why none. */
  outcome?: string;
}

const columnNames: Record<keyof SlvCaseChanges, string | null> = {
  nm_status: 'status',
  nm_statusreason: 'text',
  nm_name: 'name',
  nm_track: 'track',
  nm_assignmentdate: 'assignmentDate',
  nm_deadline: 'deadline',
  nm_substance: 'substance',
  nm_atccodes: 'atcCodes',
  nm_indication: 'indication',
  nm_absolutedeadline: 'absoluteDeadline',
  nm_sourceeventid: null,
};

export class ExchangeLog {
  private readonly byMethod = new Map<string, Exchange[]>();
  private readonly current = new Map<string, Record<string, string | null>>();
  private readonly outbound = new Map<
    string,
    { exchange: Exchange; work: SlvWork; position?: LogPosition }
  >();
  /** Ids of the writes still pending, kept beside `outbound` so health need not count them all per probe. */
  private readonly pendingIds = new Set<string>();

  /** Moves a write on from wherever it was; the pending set follows. */
  private setDelivery(eventId: string, exchange: Exchange, delivery: Exchange['delivery']): void {
    exchange.delivery = delivery;
    if (delivery === 'pending') this.pendingIds.add(eventId);
    else this.pendingIds.delete(eventId);
  }

  /**
   * After a restart: a write whose event lies before the outbound consumer's committed offset was accepted
   * by SLV before (the offset is committed only then).
   */
  markDeliveredBefore(committed: Map<number, bigint>): void {
    for (const [eventId, { exchange, position }] of this.outbound) {
      if (exchange.delivery !== 'pending' || !position) continue;
      const next = committed.get(position.partition);
      if (next !== undefined && BigInt(position.offset) < next)
        this.setDelivery(eventId, exchange, 'delivered');
    }
  }

  /** Records work for SLV when its event is folded; outbound asks for it by event id. */
  recordOutbound(event: MethodEvent, work: SlvWork, position?: LogPosition): void {
    if (this.outbound.has(event.eventId)) return;
    const values: Record<string, string | null> = {};
    if (work.kind === 'note') values.note = `${work.subject}: ${work.text}`;
    else
      for (const [column, value] of Object.entries(work.changes)) {
        const name = columnNames[column as keyof SlvCaseChanges];
        if (name) values[name] = value ?? null;
      }
    const exchange = this.add(event.methodId, {
      direction: 'to-slv',
      at: event.occurredAt,
      id: event.eventId,
      what: event.type,
      values,
      delivery: 'pending',
    });
    this.outbound.set(event.eventId, { exchange, work, ...(position ? { position } : {}) });
    this.pendingIds.add(event.eventId);
  }

  workFor(eventId: string): SlvWork | undefined {
    return this.outbound.get(eventId)?.work;
  }

  markDelivered(eventId: string, outcome?: string): void {
    const entry = this.outbound.get(eventId);
    if (!entry || entry.exchange.delivery === 'confirmed') return;
    this.setDelivery(eventId, entry.exchange, 'delivered');
    entry.exchange.deliveredAt = new Date().toISOString();
    if (outcome) entry.exchange.outcome = outcome;
  }

  /** A write that will not be sent (dead-lettered): no longer waiting. */
  markDeadLettered(eventId: string, reason: string): void {
    const entry = this.outbound.get(eventId);
    if (!entry || entry.exchange.delivery !== 'pending') return;
    this.setDelivery(eventId, entry.exchange, 'dead-lettered');
    entry.exchange.outcome = reason;
  }

  /** The write of the event at this position of the events topic, dead-lettered by the outbound runner. */
  markDeadLetteredAt(position: LogPosition, reason: string): void {
    for (const [eventId, entry] of this.outbound) {
      if (entry.position?.partition === position.partition && entry.position.offset === position.offset) {
        this.markDeadLettered(eventId, reason);
        return;
      }
    }
  }

  recordInbound(update: SlvCaseUpdate, outcome?: string): void {
    if (update.originEventId) {
      // Our own write, seen back: confirms it; not a change made at SLV.
      const entry = this.outbound.get(update.originEventId);
      if (entry) {
        this.setDelivery(update.originEventId, entry.exchange, 'confirmed');
        entry.exchange.deliveredAt ??= update.changedAt;
      }
      return;
    }
    const list = this.byMethod.get(update.methodId);
    if (list?.some((e) => e.direction === 'from-slv' && e.id === update.changeId)) return;
    this.add(update.methodId, {
      direction: 'from-slv',
      at: update.changedAt,
      id: update.changeId,
      what: update.kind,
      values: { status: update.slvStatus, text: update.text, reportUrl: update.reportUrl },
      ...(outcome ? { outcome } : {}),
    });
  }

  /** Sets what became of an SLV change, once the mapper has judged it. */
  settleInbound(methodId: string, changeId: string, outcome: string): void {
    const entry = this.byMethod.get(methodId)?.find((e) => e.direction === 'from-slv' && e.id === changeId);
    if (entry) entry.outcome = outcome;
  }

  exchangesOf(methodId: string): Exchange[] {
    return this.byMethod.get(methodId) ?? [];
  }

  /** Writes to SLV not yet accepted: the backlog. */
  get pending(): number {
    return this.pendingIds.size;
  }

  private add(methodId: string, exchange: Omit<Exchange, 'changes'>): Exchange {
    const known = this.current.get(methodId) ?? {};
    const changes: FieldChange[] = [];
    for (const [field, to] of Object.entries(exchange.values)) {
      if (field === 'note') {
        changes.push({ field, from: null, to });
        continue;
      }
      const from = known[field] ?? null;
      if (from !== to) changes.push({ field, from, to });
      known[field] = to;
    }
    this.current.set(methodId, known);
    const full = { ...exchange, changes };
    const list = this.byMethod.get(methodId) ?? [];
    list.push(full);
    this.byMethod.set(methodId, list);
    return full;
  }
}

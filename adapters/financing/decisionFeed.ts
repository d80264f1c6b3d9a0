/**
 * The feed as published, read back from `financing.drug-decisions.v1`: every record ever written, so a
 * period can be asked for as the feed stood at any instant (`asOf`): a record counts once it was published
 * and until a record superseding it was.
 */
import type { DrugDecision } from '../../contracts/generated/types.ts';

export type PeriodBy = 'decision' | 'effective';

export interface PeriodQuery {
  from: string;
  to: string;
  by: PeriodBy;
  /** An ISO instant: the feed as it stood then. */
  asOf: string;
  /** Also list records superseded by asOf (each marked with what superseded it). */
  includeSuperseded: boolean;
  limit: number;
  offset: number;
}

export interface FeedEntry extends DrugDecision {
  /** The record that superseded this one by asOf, or null while it is current. */
  supersededBy: string | null;
}

/** One method's current H-prescription flag for a substance. */
export interface HPrescriptionFlag {
  methodId: string;
  atcCode: string;
  hPrescription: boolean;
  recordId: string;
  decidedOn: string;
}

/** Methods of one substance whose H-prescription flags disagree, though the flag belongs to the medicine. */
export interface HPrescriptionConflict {
  substance: string;
  methods: HPrescriptionFlag[];
}

export interface PeriodPage {
  total: number;
  decisions: FeedEntry[];
}

/** The day a record falls on: its decision date, or the date it may be taken into use (the decision date when none is named). */
export const dayOf = (record: DrugDecision, by: PeriodBy): string =>
  by === 'decision' ? record.decidedOn : (record.effectiveFrom ?? record.decidedOn);

export class DecisionFeed {
  private readonly records: DrugDecision[] = [];
  private readonly byId = new Map<string, DrugDecision>();
  /** recordId -> the records that supersede it (normally one). */
  private readonly successors = new Map<string, DrugDecision[]>();

  /** Adds a record read from the topic; a record id seen before (a republished record) is ignored. */
  offer(record: DrugDecision): void {
    if (this.byId.has(record.recordId)) return;
    this.byId.set(record.recordId, record);
    this.records.push(record);
    if (record.supersedes) {
      const list = this.successors.get(record.supersedes) ?? [];
      list.push(record);
      this.successors.set(record.supersedes, list);
    }
  }

  has(recordId: string): boolean {
    return this.byId.has(recordId);
  }

  get(recordId: string): DrugDecision | undefined {
    return this.byId.get(recordId);
  }

  get size(): number {
    return this.records.length;
  }

  /** The record superseding `recordId` as of an instant, or null. */
  supersededBy(recordId: string, asOf: string): string | null {
    const successor = (this.successors.get(recordId) ?? []).find((r) => r.publishedAt <= asOf);
    return successor?.recordId ?? null;
  }

  /**
   * Substances whose current records disagree on H-prescription: Helsedirektoratet finances a medicine as
   * H-prescription whatever the indication, so methods of one substance must carry the same flag.
   */
  hPrescriptionConflicts(asOf: string = new Date().toISOString()): HPrescriptionConflict[] {
    const bySubstance = new Map<string, Map<string, HPrescriptionFlag>>();
    for (const record of this.records) {
      if (record.publishedAt > asOf || this.supersededBy(record.recordId, asOf)) continue;
      const substance = record.substance.trim().toLocaleLowerCase('nb');
      const flags = bySubstance.get(substance) ?? new Map<string, HPrescriptionFlag>();
      bySubstance.set(substance, flags);
      const key = `${record.methodId}|${record.atcCode}`;
      const known = flags.get(key);
      if (known && known.decidedOn > record.decidedOn) continue;
      flags.set(key, {
        methodId: record.methodId,
        atcCode: record.atcCode,
        hPrescription: record.hPrescription,
        recordId: record.recordId,
        decidedOn: record.decidedOn,
      });
    }
    const conflicts: HPrescriptionConflict[] = [];
    for (const [substance, flags] of bySubstance) {
      const methods = [...flags.values()].sort(
        (a, b) => compare(a.methodId, b.methodId) || compare(a.atcCode, b.atcCode),
      );
      if (new Set(methods.map((m) => m.hPrescription)).size > 1) conflicts.push({ substance, methods });
    }
    return conflicts.sort((a, b) => compare(a.substance, b.substance));
  }

  query(q: PeriodQuery): PeriodPage {
    const matching: FeedEntry[] = [];
    for (const record of this.records) {
      if (record.publishedAt > q.asOf) continue;
      const day = dayOf(record, q.by);
      if (day < q.from || day > q.to) continue;
      const supersededBy = this.supersededBy(record.recordId, q.asOf);
      if (supersededBy && !q.includeSuperseded) continue;
      matching.push({ ...record, supersededBy });
    }
    matching.sort(
      (a, b) =>
        compare(dayOf(a, q.by), dayOf(b, q.by)) ||
        compare(a.methodId, b.methodId) ||
        compare(a.atcCode, b.atcCode) ||
        compare(a.publishedAt, b.publishedAt) ||
        compare(a.recordId, b.recordId),
    );
    return { total: matching.length, decisions: matching.slice(q.offset, q.offset + q.limit) };
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

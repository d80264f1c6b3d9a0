/**
 * The condition catalogue as vendors see it: the latest `fest.vilkar.v1` record per condition, withdrawn
 * ones included (an incremental extract must say what was withdrawn). Entries are never changed in place,
 * so an extract can stream a snapshot while the catalogue moves on.
 */
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { countAtOrBelow } from '../../core/collections/sorted.ts';

export class VilkarCatalogue {
  private readonly entries = new Map<string, FestVilkar>();
  /**
   * Every entry taken, in catalogueVersion order; an entry since replaced stays until it is swept. `since` finds
   * where a vendor's cursor is by binary search instead of going through every condition per delivery.
   */
  private readonly byVersion: FestVilkar[] = [];
  /** How many of byVersion have been replaced. */
  private replaced = 0;
  private readonly listeners = new Set<() => void>();
  /** The highest catalogueVersion seen: the version of the catalogue. */
  version = 0;
  /** The latest changedAt seen (epoch ms): a new entry is never stamped earlier. */
  latestChangedAt = 0;
  /** The highest VilkarNr given so far. */
  highestVilkarNr = 0;
  /** When a batch being published was stamped, until it is in the catalogue (epoch ms). */
  publishingSince: number | undefined;

  get(vilkarId: string): FestVilkar | undefined {
    return this.entries.get(vilkarId);
  }

  /** Takes a record (from the topic or just published); an older version of what is there is ignored. */
  offer(entry: FestVilkar): void {
    const known = this.entries.get(entry.vilkarId);
    if (known && known.catalogueVersion >= entry.catalogueVersion) return;
    this.entries.set(entry.vilkarId, entry);
    if (known) this.replaced++;
    this.takeInOrder(entry);
    if (entry.catalogueVersion > this.version) this.version = entry.catalogueVersion;
    if (entry.vilkarNr !== null && entry.vilkarNr > this.highestVilkarNr)
      this.highestVilkarNr = entry.vilkarNr;
    const changedAt = Date.parse(entry.changedAt);
    if (changedAt > this.latestChangedAt) this.latestChangedAt = changedAt;
    for (const listener of this.listeners) listener();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every condition in force (withdrawn ones left out), in a stable order: the full extract. */
  active(): FestVilkar[] {
    const out: FestVilkar[] = [];
    for (const entry of this.entries.values()) if (!entry.withdrawn) out.push(entry);
    return out.sort((a, b) => (a.vilkarId < b.vilkarId ? -1 : a.vilkarId > b.vilkarId ? 1 : 0));
  }

  /** What changed or was withdrawn after `version`, oldest change first, at most `limit` entries. */
  since(version: number, limit = Number.POSITIVE_INFINITY): FestVilkar[] {
    const out: FestVilkar[] = [];
    for (let i = this.firstAfter(version); i < this.byVersion.length && out.length < limit; i++) {
      const entry = this.byVersion[i]!;
      if (this.entries.get(entry.vilkarId) === entry) out.push(entry);
    }
    return out;
  }

  /** The index in byVersion of the first entry with a catalogueVersion above `version`. */
  private firstAfter(version: number): number {
    return countAtOrBelow(this.byVersion, (e) => e.catalogueVersion, version);
  }

  /** Puts an entry in byVersion where its version goes (at the end, unless partitions were read out of order). */
  private takeInOrder(entry: FestVilkar): void {
    const at = this.firstAfter(entry.catalogueVersion);
    if (at === this.byVersion.length) this.byVersion.push(entry);
    else this.byVersion.splice(at, 0, entry);
    if (this.replaced > 1024 && this.replaced > this.byVersion.length / 2) {
      let kept = 0;
      for (const e of this.byVersion) if (this.entries.get(e.vilkarId) === e) this.byVersion[kept++] = e;
      this.byVersion.length = kept;
      this.replaced = 0;
    }
  }

  /**
   * What changed or was withdrawn at or after an instant (epoch ms), oldest change first: the incremental
   * extract. At, not after: an extract's HentetDato is to the second, and a repeat is harmless where a miss is not.
   */
  changedSince(instantMs: number): FestVilkar[] {
    const out: FestVilkar[] = [];
    for (const entry of this.entries.values()) if (Date.parse(entry.changedAt) >= instantMs) out.push(entry);
    return out.sort((a, b) => a.catalogueVersion - b.catalogueVersion);
  }

  /**
   * The instant an extract taken now is complete to: now, or when a batch still on its way to Kafka was stamped,
   * so that asking for what changed since it never misses that batch.
   */
  completeTo(now = Date.now()): number {
    return Math.min(now, this.publishingSince ?? now);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The condition catalogue as vendors see it: the latest `fest.vilkar.v1` record per condition, withdrawn
 * ones included (an incremental extract must say what was withdrawn). Entries are never changed in place,
 * so an extract can stream a snapshot while the catalogue moves on.
 */
import type { FestVilkar } from '../../contracts/generated/types.ts';

export class VilkarCatalogue {
  private readonly entries = new Map<string, FestVilkar>();
  private readonly listeners = new Set<() => void>();
  /** The highest catalogueVersion seen: the version of the catalogue. */
  version = 0;

  get(vilkarId: string): FestVilkar | undefined {
    return this.entries.get(vilkarId);
  }

  /** Takes a record (from the topic or just published); an older version of what is there is ignored. */
  offer(entry: FestVilkar): void {
    const known = this.entries.get(entry.vilkarId);
    if (known && known.catalogueVersion >= entry.catalogueVersion) return;
    this.entries.set(entry.vilkarId, entry);
    if (entry.catalogueVersion > this.version) this.version = entry.catalogueVersion;
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
    for (const entry of this.entries.values()) if (entry.catalogueVersion > version) out.push(entry);
    out.sort((a, b) => a.catalogueVersion - b.catalogueVersion);
    return out.length > limit ? out.slice(0, limit) : out;
  }

  get size(): number {
    return this.entries.size;
  }
}

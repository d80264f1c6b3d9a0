/** The catalogue's incremental read (`since`), as webhook deliveries and extracts use it. */
import { describe, expect, it } from 'vitest';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { VilkarCatalogue } from './catalogue.ts';

const entry = (vilkarId: string, catalogueVersion: number) =>
  ({
    vilkarId,
    catalogueVersion,
    vilkarNr: null,
    withdrawn: catalogueVersion % 7 === 0,
    changedAt: new Date(Date.UTC(2026, 0, 1) + catalogueVersion * 1000).toISOString(),
  }) as unknown as FestVilkar;

/** What `since` is to answer: the latest entry of each condition above the version, oldest change first. */
function expected(latest: Map<string, FestVilkar>, version: number, limit: number): string[] {
  return [...latest.values()]
    .filter((e) => e.catalogueVersion > version)
    .sort((a, b) => a.catalogueVersion - b.catalogueVersion)
    .slice(0, limit)
    .map((e) => `${e.vilkarId}@${e.catalogueVersion}`);
}

describe('VilkarCatalogue.since', () => {
  it('gives the latest entry of each condition changed after a version, oldest first, at most limit', () => {
    const catalogue = new VilkarCatalogue();
    const latest = new Map<string, FestVilkar>();
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    // 5,000 versions over 300 conditions (so most are replaced, and the replaced are swept more than once),
    // taken in small out-of-order runs as records from different partitions are, some offered twice.
    const versions = Array.from({ length: 5000 }, (_, i) => i + 1);
    for (let i = 0; i < versions.length - 1; i++)
      if (random() < 0.2) [versions[i], versions[i + 1]] = [versions[i + 1]!, versions[i]!];
    for (const v of versions) {
      const e = entry(`V${Math.floor(random() * 300)}`, v);
      for (const offered of random() < 0.05 ? [e, e] : [e]) {
        catalogue.offer(offered);
        const known = latest.get(offered.vilkarId);
        if (!known || known.catalogueVersion < offered.catalogueVersion)
          latest.set(offered.vilkarId, offered);
      }
      if (v % 250 === 0)
        for (const [from, limit] of [
          [0, Number.POSITIVE_INFINITY],
          [v - 100, 20],
          [v, 5],
          [Math.floor(random() * v), 50],
        ] as const) {
          const got = catalogue.since(from, limit).map((x) => `${x.vilkarId}@${x.catalogueVersion}`);
          expect(got, `since(${from}, ${limit}) after version ${v}`).toEqual(expected(latest, from, limit));
        }
    }
    expect(catalogue.size).toBe(latest.size);
  });

  it('ignores an older version of a condition it holds', () => {
    const catalogue = new VilkarCatalogue();
    catalogue.offer(entry('V1', 5));
    catalogue.offer(entry('V1', 3));
    expect(catalogue.since(0).map((e) => e.catalogueVersion)).toEqual([5]);
    expect(catalogue.since(5)).toEqual([]);
  });
});

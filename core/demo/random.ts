/**
 * A small seeded pseudo-random generator (mulberry32). The demo history must be the same for the same seed,
 * on every machine and every run, so nothing in core/demo may use Math.random.
 */
import { createHash } from 'node:crypto';

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  between(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A key drawn in proportion to its weight. */
  weighted<K extends string>(weights: Readonly<Partial<Record<K, number>>>): K;
  /** A copy of the items in a random order. */
  shuffled<T>(items: readonly T[]): T[];
}

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const between = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new Error('cannot pick from an empty list');
    return items[Math.floor(next() * items.length)]!;
  };
  return {
    next,
    between,
    chance: (probability) => next() < probability,
    pick,
    weighted<K extends string>(weights: Readonly<Partial<Record<K, number>>>): K {
      const entries = (Object.entries(weights) as [K, number | undefined][]).flatMap(([key, weight]) =>
        weight ? [[key, weight] as [K, number]] : [],
      );
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let roll = next() * total;
      for (const [key, weight] of entries) {
        roll -= weight;
        if (roll < 0) return key;
      }
      return entries[entries.length - 1]![0];
    },
    shuffled<T>(items: readonly T[]): T[] {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      }
      return copy;
    },
  };
}

/** A 32-bit seed derived from several parts, so each method gets its own stream from the demo seed. */
export function derivedSeed(...parts: (string | number)[]): number {
  return createHash('sha1').update(parts.join('\u0000')).digest().readUInt32BE(0);
}

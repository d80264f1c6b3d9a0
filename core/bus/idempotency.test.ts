import { describe, expect, it } from 'vitest';
import { ProcessedIds } from './idempotency.ts';

describe('ProcessedIds', () => {
  it('forgets the oldest id first and keeps exactly its capacity, through many turns of its ring', () => {
    const ids = new ProcessedIds(3);
    for (let i = 0; i < 10; i++) ids.add(`e${i}`);
    expect(ids.size).toBe(3);
    expect(['e6', 'e7', 'e8', 'e9'].map((id) => ids.has(id))).toEqual([false, true, true, true]);
  });

  it('takes an id it holds again without forgetting another', () => {
    const ids = new ProcessedIds(2);
    ids.add('a');
    ids.add('b');
    ids.add('a');
    expect([ids.has('a'), ids.has('b'), ids.size]).toEqual([true, true, 2]);
    ids.add('c');
    expect([ids.has('a'), ids.has('b'), ids.has('c')]).toEqual([false, true, true]);
  });

  it('with a capacity of one remembers the last id only', () => {
    const ids = new ProcessedIds(1);
    ids.add('a');
    ids.add('b');
    expect([ids.has('a'), ids.has('b'), ids.size]).toEqual([false, true, 1]);
  });
});

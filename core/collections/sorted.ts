/** Helpers for arrays kept sorted by a numeric key. */

/**
 * How many leading items of `items` (sorted ascending by `keyOf`) have a key at or below `limit`: the index of
 * the first item above it. A binary search.
 */
export function countAtOrBelow<T>(items: readonly T[], keyOf: (item: T) => number, limit: number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (keyOf(items[mid]!) <= limit) low = mid + 1;
    else high = mid;
  }
  return low;
}

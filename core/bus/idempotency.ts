/**
 * Remembers the event ids a consumer has processed, so a redelivered message has no second effect.
 * Bounded: the oldest ids are forgotten first. It covers redeliveries within one process's life (a
 * rebalance, a retried batch); after a restart, handlers rely on the state they keep (the method-state
 * projection, for one, knows every event id it has applied).
 */
export class ProcessedIds {
  private readonly ids = new Set<string>();
  /**
   * The ids in the order added, as a ring: the oldest is forgotten in constant time. (Taking a Set's first
   * value after many deletes walks over every deleted slot; at 100,000 ids that was 6% of a rebuild's CPU.)
   */
  private readonly order: string[] = [];
  private oldest = 0;

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.order.length < this.capacity) {
      this.order.push(id);
      return;
    }
    this.ids.delete(this.order[this.oldest]!);
    this.order[this.oldest] = id;
    this.oldest = (this.oldest + 1) % this.capacity;
  }

  get size(): number {
    return this.ids.size;
  }
}

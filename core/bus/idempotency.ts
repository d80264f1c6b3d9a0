/**
 * Remembers the event ids a consumer has processed, so a redelivered message has no second effect.
 * Bounded: the oldest ids are forgotten first. It covers redeliveries within one process's life (a
 * rebalance, a retried batch); after a restart, handlers rely on the state they keep (the method-state
 * projection, for one, knows every event id it has applied).
 */
export class ProcessedIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

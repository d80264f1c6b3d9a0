/**
 * A consumer's offsets, committed a moment after their effects, in one request for every partition done meanwhile.
 *
 * kafkajs's own auto-commit sends one OffsetCommit per batch; at a steady trickle a batch is one message, so each of a
 * hub's dozen groups sent one request (and the broker one log append) per event. Here a batch done marks its partition's
 * next offset, and one commit for all of them leaves `delayMs` later, also when the flow has stopped, so lag reaches 0.
 * Commits run one after another, so a later position is never overwritten by an earlier one.
 *
 * A commit lost (a crash, a rebalance) means those messages are read again by the partition's next owner: the same as
 * a crash between an effect and its commit, which every consumer already makes harmless.
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from '../log/logger.ts';

export class LaterCommits {
  private readonly pending = new Map<string, { topic: string; partition: number; offset: string }>();
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** The batches being handled now: `finish` waits for them before it commits. */
  private readonly batches = new Set<Promise<void>>();
  /** Commit requests sent and offsets they carried, for tests and health. */
  readonly counts = { requests: 0, offsets: 0, failed: 0 };

  /** Commits for `consumer`, which must run with `autoCommit: false` and hand each batch to `track`. */
  constructor(
    private readonly consumer: Consumer,
    private readonly delayMs: number,
    private readonly log: Logger,
  ) {
    // Before partitions move, what is done is committed, so their next owner need not read it again.
    consumer.on(consumer.events.REBALANCING, () => void this.flush());
    // Batches of only transaction markers (or aborted messages) are not handed to eachBatch but are done all the same.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0)
        void this.done(payload.topic, payload.partition, String(BigInt(payload.lastOffset) + 1n));
    });
  }

  /** Runs one batch's handling, known until it ends, so a stop can wait for it. */
  async track(batch: Promise<void>): Promise<void> {
    this.batches.add(batch);
    try {
      await batch;
    } finally {
      this.batches.delete(batch);
    }
  }

  /** For a stop: waits for the batches at hand, then commits what they and the others did. */
  async finish(): Promise<void> {
    await Promise.allSettled([...this.batches]);
    await this.flush();
  }

  /**
   * A batch whose messages up to `last` have had their effects (undefined: none). Handled to its last message, it is
   * done up to its last offset, past any transaction marker after that message. Resolves that offset for kafkajs and
   * marks the next one for the commit.
   */
  handled(payload: EachBatchPayload, last: string | undefined): Promise<void> {
    const { batch } = payload;
    const upTo = last !== undefined && last === batch.messages.at(-1)?.offset ? batch.lastOffset() : last;
    if (upTo === undefined) return Promise.resolve();
    payload.resolveOffset(upTo);
    return this.done(batch.topic, batch.partition, String(BigInt(upTo) + 1n));
  }

  /** Everything before `nextOffset` in this partition has had its effect. With no delay, commits now. */
  done(topic: string, partition: number, nextOffset: string): Promise<void> {
    this.pending.set(`${topic}\u0000${partition}`, { topic, partition, offset: nextOffset });
    if (this.delayMs <= 0) return this.flush();
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
    return Promise.resolve();
  }

  /** Commits what is marked done now; resolves once every commit asked so far has been answered. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size > 0) {
      const offsets = [...this.pending.values()];
      this.pending.clear();
      this.chain = this.chain.then(async () => {
        try {
          this.counts.requests++;
          this.counts.offsets += offsets.length;
          await this.consumer.commitOffsets(offsets);
        } catch (error) {
          // A rebalance took the partition: its next owner reads those messages again and drops what it has seen.
          this.counts.failed++;
          this.log.info(
            { err: (error as Error).message, offsets },
            'could not commit; the next owner reads them again',
          );
        }
      });
    }
    return this.chain;
  }
}

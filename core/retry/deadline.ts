/**
 * Work given a deadline: the answer is the work's, or `late()`'s error when the deadline comes first. The work
 * goes on behind the answer (a Kafka write cannot be called back); what it does after the deadline changes
 * nothing. One helper for the producer's transaction budget and the follower's read to the end of the log.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

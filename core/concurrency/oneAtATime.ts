/**
 * Work that must not overlap (a read-judge-write of one door, a delivery ledger's check-then-send) run one at a
 * time, in the order asked. A piece of work that fails fails only its own caller: the next one still runs.
 */
export type OneAtATime = <T>(work: () => Promise<T>) => Promise<T>;

export function oneAtATime(): OneAtATime {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };
}

/** The hub's clock: what "now" is for alerts and deadlines, so a test or a demo can set it. */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock standing at one instant (ISO string or epoch ms) until moved; for tests and replays. */
export function fixedClock(at: string | number): Clock & { set(to: string | number): void } {
  let current = typeof at === 'number' ? at : Date.parse(at);
  return {
    now: () => current,
    set(to) {
      current = typeof to === 'number' ? to : Date.parse(to);
    },
  };
}

import { describe, expect, it } from 'vitest';
import { childTraceparent, newTraceparent } from './headers.ts';

describe('traceparents', () => {
  it('are W3C-shaped and not repeated, also across a refill of the random pool', () => {
    const seen = new Set<string>();
    // 4 kB of pool is 170 traceparents of 24 random bytes: 1,000 cross several refills.
    for (let i = 0; i < 1000; i++) {
      const t = newTraceparent();
      expect(t).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      seen.add(t.slice(3, 35));
      seen.add(t.slice(36, 52));
    }
    expect(seen.size).toBe(2000);
  });

  it('a child keeps the trace id and flags, with a span id of its own', () => {
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
    const child = childTraceparent(parent);
    expect(child).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
    expect(child.slice(36, 52)).not.toBe('b7ad6b7169203331');
  });
});

import { expect, it } from 'vitest';
import { oneAtATime } from './oneAtATime.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('runs work one at a time, in the order asked, and a failure fails only its own caller', async () => {
  const serial = oneAtATime();
  const trace: string[] = [];
  let running = 0;
  const job = (name: string, ms: number, fail = false) =>
    serial(async () => {
      running++;
      trace.push(`${name}:${running}`);
      await tick(ms);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return name;
    });
  const results = await Promise.allSettled([job('a', 20), job('b', 5, true), job('c', 1)]);
  expect(trace).toEqual(['a:1', 'b:1', 'c:1']);
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
    'a',
    'b failed',
    'c',
  ]);
});

it('keeps separate queues apart', async () => {
  const first = oneAtATime();
  const second = oneAtATime();
  const order: string[] = [];
  await Promise.all([
    first(async () => {
      await tick(20);
      order.push('slow');
    }),
    second(async () => {
      order.push('fast');
    }),
  ]);
  expect(order).toEqual(['fast', 'slow']);
});

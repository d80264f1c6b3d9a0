import { afterEach, expect, it } from 'vitest';
import { withDeadline } from './deadline.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unhandled: unknown[] = [];
const note = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', note);
afterEach(() => {
  unhandled.length = 0;
});

it("answers with the work's result when it comes in time", async () => {
  expect(
    await withDeadline(
      sleep(5).then(() => 'done'),
      1_000,
      () => new Error('late'),
    ),
  ).toBe('done');
});

it("answers with the work's own error when it fails in time", async () => {
  await expect(
    withDeadline(Promise.reject(new Error('refused')), 1_000, () => new Error('late')),
  ).rejects.toThrow('refused');
});

it('answers late at the deadline, and a failure of the work after it changes nothing and is held', async () => {
  const work = sleep(40).then(() => {
    throw new Error('KafkaJSNonRetriableError: Connection error: connect ECONNREFUSED');
  });
  await expect(withDeadline(work, 10, () => new Error('the write took more than 10 ms'))).rejects.toThrow(
    'more than 10 ms',
  );
  await sleep(80);
  expect(unhandled).toEqual([]);
});

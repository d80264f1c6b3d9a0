/**
 * Issue 16, seen in CI: with the broker SIGKILLed while the hub started, the FEST role was gained, its gain
 * listener (read the vendors' webhooks, then what the last leader published) failed on the dead broker, and the
 * instance went on leading without publishing anything. A gain listener that asks for it (FEST's does) is tried
 * again while the instance leads, and not after the role is lost; one that does not is run once, as before.
 */
import { afterAll, expect, it } from 'vitest';
import { Leadership } from '../../core/bus/leadership.ts';
import { deleteTopics, eventually, testKafka, uniqueName } from '../support/kafka.ts';

const kafka = testKafka();
const topic = uniqueName('test.leadership');
const leaderships: Leadership[] = [];
afterAll(async () => {
  for (const l of leaderships) await l.stop();
  await deleteTopics(kafka, [topic]);
});

const lead = (role: string) => {
  const leadership = new Leadership({
    kafka,
    role,
    groupId: uniqueName(`test.${role}.leadership`),
    topic,
    sessionTimeoutMs: 6_000,
  });
  leaderships.push(leadership);
  return leadership;
};

it('tries a failed gain listener again until it succeeds, while this instance leads', async () => {
  let calls = 0;
  let done = false;
  const leadership = lead('fest').onGain(
    async () => {
      calls++;
      if (calls < 3) throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
      done = true;
    },
    { retry: true },
  );
  await leadership.start();
  expect(leadership.isLeader).toBe(true);
  await eventually(() => done, 15_000, 'the gain listener succeeding');
  expect(calls).toBe(3);
}, 60_000);

it('stops trying once the role is lost', async () => {
  let calls = 0;
  const leadership = lead('slv').onGain(
    async () => {
      calls++;
      throw new Error('the partner is away');
    },
    { retry: true },
  );
  await leadership.start();
  await eventually(() => calls >= 1, 10_000, 'a first call');
  await leadership.stop();
  const after = calls;
  await new Promise((r) => setTimeout(r, 2_000));
  expect(calls).toBe(after);
}, 60_000);

it('runs a gain listener that did not ask to be tried again once, failure or not', async () => {
  let calls = 0;
  const leadership = lead('case-events').onGain(async () => {
    calls++;
    throw new Error('not safe to repeat');
  });
  await leadership.start();
  await eventually(() => calls >= 1, 10_000, 'a first call');
  await new Promise((r) => setTimeout(r, 2_000));
  expect(calls).toBe(1);
}, 60_000);

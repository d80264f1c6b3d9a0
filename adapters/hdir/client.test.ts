/**
 * Issue 20: one circuit-breaker policy for every partner client. Helsedirektoratet's client had none: while the
 * endpoint was down every notification's every retry went out. Now, after HDIR_CIRCUIT_FAILURES transient failures
 * in a row, no request goes out for HDIR_CIRCUIT_OPEN_MS (the notifier is told how long to wait), then one trial.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type HdirStandIn, startHdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { HdirClient, HdirUnavailable } from './client.ts';

let hdir: HdirStandIn;
beforeAll(async () => {
  hdir = await startHdirStandIn({ port: 0 });
});
afterAll(() => hdir.close());

const client = (openMs: number) =>
  new HdirClient({
    url: hdir.notifyUrl,
    token: '',
    timeoutMs: 5_000,
    circuitFailures: 3,
    circuitOpenMs: openMs,
  });
const notification = { flagId: 'f-1', change: 'CREATED' };

it('opens after the failures in a row, sends nothing while open, and closes on a trial that succeeds', async () => {
  const hub = client(300);
  hdir.down(503);
  for (let i = 0; i < 3; i++)
    await expect(hub.deliver(notification, `key-${i}`)).rejects.toBeInstanceOf(HdirUnavailable);
  expect(hub.circuit).toBe('open');
  const sent = hdir.attempts;
  const refused = await hub.deliver(notification, 'key-3').catch((error: HdirUnavailable) => error);
  expect(refused).toBeInstanceOf(HdirUnavailable);
  expect((refused as HdirUnavailable).message).toMatch(/^CIRCUIT_OPEN: Helsedirektoratet failed 3 times/);
  expect((refused as HdirUnavailable).retryAfterMs).toBeGreaterThan(0);
  expect((refused as HdirUnavailable).retryAfterMs).toBeLessThanOrEqual(300);
  expect(hdir.attempts).toBe(sent); // nothing went out

  hdir.up();
  await new Promise((resolve) => setTimeout(resolve, 320));
  expect(hub.circuit).toBe('half-open');
  await expect(hub.deliver(notification, 'key-4')).resolves.toMatchObject({ status: expect.any(Number) });
  expect(hub.circuit).toBe('closed');
  expect(hdir.attempts).toBe(sent + 1);
});

it('counts a refusal (4xx) as an answer: the partner is up, the circuit stays closed', async () => {
  const hub = client(60_000);
  for (let i = 0; i < 4; i++) {
    hdir.rejectNext(422, 'ikke gyldig');
    await expect(hub.deliver(notification, `refused-${i}`)).rejects.toThrow(/refused notification/);
  }
  expect(hub.circuit).toBe('closed');
});

it('opens again when the trial fails', async () => {
  const hub = client(200);
  hdir.down(503);
  for (let i = 0; i < 3; i++) await hub.deliver(notification, `t-${i}`).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 220));
  await expect(hub.deliver(notification, 'trial')).rejects.toBeInstanceOf(HdirUnavailable);
  expect(hub.circuit).toBe('open');
  hdir.up();
});

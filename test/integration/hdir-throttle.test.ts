/** Helsedirektoratet's Retry-After is honoured: after a 429 the notification waits at least as long as asked. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { startHdirStandIn, type HdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

let h: TestHub;
let hdir: HdirStandIn;

beforeAll(async () => {
  hdir = await startHdirStandIn();
  // Backoff alone would retry within 200 ms; only Retry-After makes it wait longer.
  h = await startTestHub(
    ['api', 'projection', 'hdir'],
    { HDIR_NOTIFY_URL: hdir.notifyUrl, HDIR_RETRY_BASE_MS: '50', HDIR_RETRY_MAX_MS: '200' },
    { adapters: [hdirAdapter], topics: ['hdir.guideline-flags.v1'] },
  );
});
afterAll(async () => {
  await h?.close();
  await hdir?.close();
});

describe('Helsedirektoratet throttling', () => {
  it('waits as Retry-After says before sending again', async () => {
    hdir.throttleNext(1, 2);
    const r = await h.call('/api/v1/case-events', {
      method: 'POST',
      json: methodEvent('METHOD_REGISTERED', 'ID2026_611', {
        details: medicineDetails({ guidelineFlags: ['HP-LUNGE'] }),
      }),
    });
    expect(r.status).toBe(200);
    await expect.poll(() => hdir.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    const throttledAt = hdir.lastThrottledAt!;
    const deliveredAt = Date.parse(hdir.received[0]!.receivedAt);
    expect(throttledAt).toBeDefined();
    expect(deliveredAt - throttledAt).toBeGreaterThanOrEqual(1900);
  });
});

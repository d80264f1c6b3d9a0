/**
 * The flow picture behind the dashboard with a real adapter and its partner's stand-in: when
 * Helsedirektoratet goes down, its edge turns red and the notifier's backlog grows; when it comes back,
 * the backlog drains and the edge is green again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import type { FlowEdge, FlowPicture } from '../../core/ops/flow.ts';
import { startHdirStandIn, type HdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

let h: TestHub;
let hdir: HdirStandIn;

beforeAll(async () => {
  hdir = await startHdirStandIn();
  h = await startTestHub(
    ['api', 'projection', 'hdir'],
    {
      HDIR_NOTIFY_URL: hdir.notifyUrl,
      HDIR_RETRY_BASE_MS: '100',
      HDIR_RETRY_MAX_MS: '300',
      OPS_SAMPLE_MS: '300',
    },
    { adapters: [hdirAdapter], topics: ['hdir.guideline-flags.v1'] },
  );
});
afterAll(async () => {
  await h?.close();
  await hdir?.close();
});

const PARTNER_EDGE = 'component:hdir->partner:Helsedirektoratet';
const BACKLOG_EDGE = 'topic:hdir.guideline-flags.v1->component:hdir';

async function picture(): Promise<FlowPicture> {
  const r = await h.call('/ops/api/flow');
  expect(r.status).toBe(200);
  return (await r.json()) as FlowPicture;
}
const edge = (p: FlowPicture, id: string): FlowEdge | undefined => p.edges.find((e) => e.id === id);

async function register(n: number): Promise<void> {
  const events = Array.from({ length: n }, (_, i) =>
    methodEvent('METHOD_REGISTERED', `ID2026_${String(300 + serial++).padStart(3, '0')}`, {
      details: medicineDetails({ guidelineFlags: ['HP-LUNGE'], name: `Lungekreftmiddel nr. ${i + 1}` }),
    }),
  );
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: events });
  expect(r.status, await r.clone().text()).toBe(200);
}
let serial = 0;

describe('flow picture with a partner going down and coming back', () => {
  it('draws the adapter, its topics and its partner, green while the partner answers', async () => {
    await register(1);
    await expect.poll(() => hdir.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(async () => edge(await picture(), PARTNER_EDGE)?.state, { timeout: 10_000 }).toBe('ok');
    const p = await picture();
    expect(p.nodes.map((n) => n.id)).toEqual(
      expect.arrayContaining([
        'component:hdir',
        'partner:Helsedirektoratet',
        'topic:hdir.guideline-flags.v1',
      ]),
    );
  });

  it('turns the partner edge red and lets the backlog grow while it is down, then drains it', async () => {
    hdir.down();
    const before = hdir.received.length;
    await register(4);
    await expect
      .poll(async () => edge(await picture(), PARTNER_EDGE)?.state, { timeout: 30_000, interval: 300 })
      .toBe('down');
    await expect
      .poll(async () => edge(await picture(), BACKLOG_EDGE)?.lag ?? 0, { timeout: 30_000, interval: 300 })
      .toBeGreaterThanOrEqual(3);
    const down = await picture();
    expect(edge(down, PARTNER_EDGE)?.note).toMatch(/unreachable/i);
    expect(down.nodes.find((n) => n.id === 'partner:Helsedirektoratet')?.health?.ok).toBe(false);
    expect(hdir.received.length).toBe(before);

    hdir.up();
    // Each registration makes at least its explicit flag; configured rules may add more.
    await expect.poll(() => hdir.received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(before + 4);
    await expect
      .poll(async () => edge(await picture(), BACKLOG_EDGE)?.lag, { timeout: 30_000, interval: 300 })
      .toBe(0);
    await expect
      .poll(async () => edge(await picture(), PARTNER_EDGE)?.state, { timeout: 30_000, interval: 300 })
      .toBe('ok');
    const metrics = await (await h.call('/metrics')).text();
    expect(metrics).toMatch(/metodehub_partner_up\{component="hdir"\} 1/);
  });
});

/**
 * The operations dashboard as a person sees it: headless Chromium opens /ops/ on a hub on the real stack,
 * the flow is drawn, the numbers move when case events flow, and a screenshot is kept in test/output/.
 * Without Chromium the test is skipped locally (with the reason) and fails under CI.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { browserMissing, chromiumPath, launchBrowser } from '../support/browser.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { produceMethodEvents } from '../support/kafka.ts';

const haveBrowser = chromiumPath() !== undefined;
if (!haveBrowser && process.env.CI) throw new Error(browserMissing);
if (!haveBrowser) process.stderr.write(`[ops-dashboard] skipped: ${browserMissing}\n`);

const outputDir = resolve(import.meta.dirname, '../output');

describe.skipIf(!haveBrowser)('operations dashboard in a browser', () => {
  let h: TestHub;
  let browser: Browser;
  beforeAll(async () => {
    h = await startTestHub(
      ['api', 'projection'],
      { OPS_SAMPLE_MS: '500' },
      { topics: ['ops.dead-letter-audit.v1'] },
    );
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('asks for a token when it has none, and refuses one without the ops scope', async () => {
    const page = await browser.newPage();
    await page.goto(`${h.url}/ops/`);
    await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
    const readOnly = await h.hub.devToken(['nyemetoder:methods:read']);
    await page.goto(`${h.url}/ops/#token=${readOnly}`);
    await expect.poll(() => page.locator('#status').textContent()).toContain('drift-scope');
    await page.close();
  });

  it('shows nothing but the login without a token, and never says nothing waits while dead letters wait', async () => {
    // Five poison events: status changes for methods the hub never heard of.
    await produceMethodEvents(
      h.events,
      Array.from({ length: 5 }, (_, n) =>
        methodEvent('STATUS_CHANGED', `ID2026_${600 + n}`, {
          from: 'PROPOSAL_RECEIVED',
          to: 'HORIZON_SCANNING',
          reason: 'Metodevarsel utarbeides',
        }),
      ),
    );
    await expect
      .poll(
        async () => {
          const r = await h.call('/ops/api/dead-letters?pending=true');
          return ((await r.json()) as { count: number }).count;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(5);

    const anonymous = await browser.newPage();
    await anonymous.goto(`${h.url}/ops/`);
    await expect.poll(() => anonymous.locator('#login').isVisible()).toBe(true);
    expect(await anonymous.locator('#board').isVisible()).toBe(false);
    const seen = await anonymous.locator('body').innerText();
    expect(seen).not.toContain('Døde brev');
    expect(seen).not.toContain('Ingen');
    expect(seen).not.toContain('alt flyter');
    expect(await anonymous.locator('[data-node]').count()).toBe(0);
    await anonymous.close();

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${h.url}/ops/#token=${h.token}`);
    await expect.poll(() => page.locator('#dlqCount').textContent(), { timeout: 20_000 }).toBe('(5)');
    await expect.poll(() => page.locator('#status').textContent()).toContain('5 døde brev venter');
    expect(await page.locator('#dlqEmpty').isVisible()).toBe(false);
    // Once the dead letters stop growing the edges are ok again; the header still says five wait.
    await page.waitForTimeout(2500);
    const header = await page.locator('#status').textContent();
    expect(header).not.toContain('alt flyter');
    expect(header).toContain('5 døde brev venter');
    await page.close();
    // Settle them so the other tests here start from an empty list.
    const { entries } = (await (await h.call('/ops/api/dead-letters?pending=true')).json()) as {
      entries: { entryId: string }[];
    };
    for (const e of entries)
      await h.call(`/ops/api/dead-letters/${encodeURIComponent(e.entryId)}/discard`, {
        method: 'POST',
        json: { note: 'testdata' },
      });
  });

  it('draws the flow and its numbers change while case events flow; a screenshot is kept', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${h.url}/ops/#token=${h.token}`);
    // The token left the address bar once read.
    await expect.poll(() => page.url()).not.toContain('token=');
    await expect.poll(() => page.locator('#board').isVisible()).toBe(true);
    await expect.poll(() => page.locator('[data-node="partner:case system"]').count()).toBe(1);
    await expect.poll(() => page.locator('[data-node="topic:nyemetoder.method-events.v1"]').count()).toBe(1);
    await expect.poll(() => page.locator('[data-node="component:projection"]').count()).toBe(1);

    const eventsRow = page.locator(
      '[data-edge-row="component:api->topic:nyemetoder.method-events.v1"] [data-rate]',
    );
    await expect.poll(() => eventsRow.textContent()).toBe('0.0');

    // Messages flow: a method registered every 100 ms for a few seconds.
    let flowing = true;
    const feed = (async () => {
      for (let n = 0; flowing && n < 60; n++) {
        const id = `ID2026_${String(500 + n).padStart(3, '0')}`;
        await h.call('/api/v1/case-events', {
          method: 'POST',
          json: methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }),
        });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await expect
      .poll(async () => Number(await eventsRow.textContent()), { timeout: 20_000, interval: 250 })
      .toBeGreaterThan(0);
    const state = await page
      .locator('[data-edge="component:api->topic:nyemetoder.method-events.v1"]')
      .getAttribute('data-state');
    expect(state).toBe('ok');
    flowing = false;
    await feed;

    mkdirSync(outputDir, { recursive: true });
    const file = resolve(outputDir, 'ops-dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(await page.locator('#rateChart polyline').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('shows a poisoned message in the dead-letter view, and redrives it from there once fixed', async () => {
    const methodId = 'ID2026_777';
    // Poison: a status change for a method the hub has never heard of, produced straight to Kafka.
    const poison = methodEvent('STATUS_CHANGED', methodId, {
      from: 'PROPOSAL_RECEIVED',
      to: 'HORIZON_SCANNING',
      reason: 'Metodevarsel utarbeides',
    });
    await produceMethodEvents(h.events, [poison]);

    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.goto(`${h.url}/ops/#token=${h.token}`);
    const row = page.locator('[data-dead-letter]', { hasText: methodId });
    await expect.poll(() => row.count(), { timeout: 30_000, interval: 500 }).toBe(1);
    expect(await row.textContent()).toContain('DOMAIN_RULE');

    // The fix: the registration the status change needed.
    const fixed = await h.call('/api/v1/case-events', {
      method: 'POST',
      json: methodEvent(
        'METHOD_REGISTERED',
        methodId,
        { details: medicineDetails() },
        { occurredAt: new Date(Date.parse(poison.occurredAt) - 60_000).toISOString() },
      ),
    });
    expect(fixed.status).toBe(200);
    page.once('dialog', (dialog) => void dialog.accept('Registreringen er sendt'));
    await row.locator('button[data-action="redrive"]').click();
    // A settlement is a Kafka transaction of its own (fenced per entry): on a loaded machine it takes seconds.
    await expect
      .poll(() => page.locator('#dlqDetail').textContent(), { timeout: 20_000, interval: 250 })
      .toContain('"outcome": "redriven"');
    await expect.poll(() => row.count(), { timeout: 15_000, interval: 500 }).toBe(0);
    await expect
      .poll(
        async () => {
          const r = await h.call(`/api/v1/methods/${methodId}`);
          return r.ok ? ((await r.json()) as { state: { status: string } }).state.status : r.status;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe('HORIZON_SCANNING');
    await page.screenshot({ path: resolve(outputDir, 'ops-dead-letters.png'), fullPage: true });
    await page.close();
  });
});

/**
 * Follow-up on the hub's clock, end to end against the real broker and registry: a temporarily introduced
 * method nearing and passing its reassessBy date with no reassessment (API, metric, dashboard, and a
 * notification to Helsedirektoratet's stand-in, once each), and a paused assessment with its absolute
 * deadline and DMP's clock from the documentation-complete milestone sent through the case-event API.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { fixedClock } from '../../core/time/clock.ts';
import { startHdirStandIn, type HdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { browserMissing, chromiumPath, launchBrowser } from '../support/browser.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/kafka.ts';

let h: TestHub;
let hdir: HdirStandIn;
const clock = fixedClock('2026-01-10T12:00:00Z');
const TEMPORARY = 'ID2024_301';
const PAUSED = 'ID2024_302';

const at = (date: string) => `${date}T10:00:00.000Z`;
const event = (methodId: string, type: string, occurredOn: string, detail: Record<string, unknown>) => ({
  eventId: randomUUID(),
  methodId,
  type,
  occurredAt: at(occurredOn),
  source: 'case-system',
  ...detail,
});
const registration = (methodId: string) =>
  event(methodId, 'METHOD_REGISTERED', '2024-01-02', {
    registered: {
      details: {
        name: 'Osimertinib til adjuvant behandling av ikke-småcellet lungekreft',
        methodType: 'MEDICINE',
        specialty: 'Onkologi',
        indication: 'Ikke-småcellet lungekreft med EGFR-mutasjon',
        substances: ['osimertinib'],
        atcCodes: ['L01EB04'],
      },
    },
  });

async function post(body: unknown, status = 200) {
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: body });
  expect(r.status, await r.clone().text()).toBe(status);
  return r.json();
}

const get = async <T>(path: string): Promise<T> => {
  const r = await h.call(path);
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as T;
};

interface Alerts {
  today: string;
  reassessment: { items: { methodId: string; alert: string; daysLeft: number }[] };
  absoluteDeadlines: {
    items: { methodId: string; alert: string; daysLeft: number; absoluteDeadline: string }[];
  };
}

const metric = async (kind: string, state: string) => {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`metodehub_follow_up_alerts{kind="${kind}",state="${state}"}`));
  return line ? Number(line.split(' ').at(-1)) : undefined;
};

const received = (change: string) =>
  hdir.received.filter((n) => n.body.methodId === TEMPORARY && n.body.change === change);

beforeAll(async () => {
  hdir = await startHdirStandIn();
  h = await startTestHub(
    ['api', 'projection', 'hdir'],
    {
      HDIR_NOTIFY_URL: hdir.notifyUrl,
      HDIR_RETRY_BASE_MS: '100',
      HDIR_RETRY_MAX_MS: '400',
      HDIR_ALERT_CHECK_MS: '200',
    },
    { adapters: [hdirAdapter], topics: ['hdir.guideline-flags.v1'], clock },
  );
  await post([
    registration(TEMPORARY),
    event(TEMPORARY, 'DECISION_MADE', '2024-06-03', {
      decision: {
        forum: 'MEDICAL_DIRECTORS',
        outcome: 'TEMPORARILY_INTRODUCED',
        decidedOn: '2024-06-03',
        withoutDocumentation: true,
        temporaryIntroduction: {
          reassessBy: '2026-06-03',
          outcomeMeasures: ['Totaloverlevelse etter to år', 'Tid til tilbakefall'],
          dataPlan: 'Alle behandlede pasienter registreres i Kreftregisteret.',
          exitPlan: 'Uten dokumentert nytte avsluttes bruken for nye pasienter.',
        },
      },
    }),
  ]);
});
afterAll(async () => {
  await h?.close();
  await hdir?.close();
});

describe('temporary introductions', () => {
  it('lists the temporary introduction with its date, outcome measures and a reassessment not started', async () => {
    const list = await get<{ today: string; items: Record<string, unknown>[] }>(
      '/api/v1/follow-up/temporary-introductions',
    );
    expect(list.today).toBe('2026-01-10');
    expect(list.items).toEqual([
      expect.objectContaining({
        methodId: TEMPORARY,
        reassessBy: '2026-06-03',
        outcomeMeasures: ['Totaloverlevelse etter to år', 'Tid til tilbakefall'],
        progress: 'NOT_STARTED',
        daysLeft: 144,
        alert: null,
      }),
    ]);
    expect((await get<Alerts>('/api/v1/follow-up/alerts')).reassessment.items).toEqual([]);
  });

  it('raises APPROACHING within 90 days, on the API, the metric and to Helsedirektoratet where flagged', async () => {
    clock.set('2026-03-10T12:00:00Z');
    const alerts = await get<Alerts>('/api/v1/follow-up/alerts');
    expect(alerts.reassessment.items.map((a) => [a.methodId, a.alert, a.daysLeft])).toEqual([
      [TEMPORARY, 'APPROACHING', 85],
    ]);
    expect(await metric('reassessment', 'APPROACHING')).toBe(1);
    await eventually(
      () => received('REASSESSMENT_APPROACHING').length === 1,
      20_000,
      'an APPROACHING notification',
    );
    expect(received('REASSESSMENT_APPROACHING')[0]!.body).toMatchObject({
      guideline: { code: 'HP-LUNGE' },
      decision: { outcome: 'TEMPORARILY_INTRODUCED', reassessBy: '2026-06-03' },
    });
  });

  it('raises OVERDUE once the date has passed, and notifies each alert once', async () => {
    clock.set('2026-06-04T08:00:00Z');
    const alerts = await get<Alerts>('/api/v1/follow-up/alerts');
    expect(alerts.reassessment.items.map((a) => [a.methodId, a.alert])).toEqual([[TEMPORARY, 'OVERDUE']]);
    expect(await metric('reassessment', 'OVERDUE')).toBe(1);
    expect(await metric('reassessment', 'APPROACHING')).toBe(0);
    await eventually(() => received('REASSESSMENT_OVERDUE').length === 1, 20_000, 'an OVERDUE notification');
    await new Promise((r) => setTimeout(r, 1_000)); // five more checks
    expect(received('REASSESSMENT_OVERDUE')).toHaveLength(1);
    expect(received('REASSESSMENT_APPROACHING')).toHaveLength(1);
  });

  it('stops alerting once REASSESSMENT_STARTED arrives, and shows the reassessment started', async () => {
    await post(
      event(TEMPORARY, 'REASSESSMENT_STARTED', '2026-06-01', {
        reassessmentStarted: { startedOn: '2026-06-01' },
      }),
    );
    expect((await get<Alerts>('/api/v1/follow-up/alerts')).reassessment.items).toEqual([]);
    const list = await get<{ items: { progress: string; reassessmentStartedOn: string }[] }>(
      '/api/v1/follow-up/temporary-introductions?progress=STARTED',
    );
    expect(list.items.map((t) => [t.progress, t.reassessmentStartedOn])).toEqual([['STARTED', '2026-06-01']]);
  });
});

describe('absolute deadlines and the assessment clock', () => {
  it('takes the documentation-complete milestone through the API and refuses it while paused, with the reason', async () => {
    await post([
      registration(PAUSED),
      event(PAUSED, 'STATUS_CHANGED', '2024-01-03', { statusChanged: { to: 'AWAITING_ORDERING' } }),
      event(PAUSED, 'ASSIGNMENT_ORDERED', '2024-01-08', {
        assignment: { assignee: 'SLV', slvTrack: 'B', orderedOn: '2024-01-08' },
      }),
      event(PAUSED, 'ASSESSMENT_STARTED', '2024-01-15', { assessmentStarted: { startedOn: '2024-01-15' } }),
      event(PAUSED, 'DOCUMENTATION_COMPLETED', '2024-02-01', {
        documentationCompleted: { completedOn: '2024-02-01' },
      }),
      event(PAUSED, 'ASSESSMENT_PAUSED', '2024-03-01', {
        assessmentPaused: {
          pausedOn: '2024-03-01',
          waitingFor: 'Langtidsdata',
          absoluteDeadline: '2026-07-01',
        },
      }),
    ]);
    const state = await get<{ state: { documentationCompleted: unknown; clockStops: unknown[] } }>(
      `/api/v1/methods/${PAUSED}`,
    );
    expect(state.state.documentationCompleted).toEqual({ completedOn: '2024-02-01', note: null });
    expect(state.state.clockStops).toEqual([
      { pausedOn: '2024-03-01', resumedOn: null, absoluteDeadline: '2026-07-01' },
    ]);
    const refused = (await post(
      event(PAUSED, 'DOCUMENTATION_COMPLETED', '2024-03-05', {
        documentationCompleted: { completedOn: '2024-03-05' },
      }),
      422,
    )) as { errors: { code: string; reason: string }[] };
    expect(refused.errors[0]!.reason).toContain('send ASSESSMENT_RESUMED before DOCUMENTATION_COMPLETED');
  });

  it('raises the paused assessment as its deadline nears and once it has passed', async () => {
    clock.set('2026-06-10T12:00:00Z');
    let alerts = await get<Alerts>('/api/v1/follow-up/alerts');
    expect(alerts.absoluteDeadlines.items.map((a) => [a.methodId, a.alert, a.daysLeft])).toEqual([
      [PAUSED, 'APPROACHING', 21],
    ]);
    clock.set('2026-07-02T12:00:00Z');
    alerts = await get<Alerts>('/api/v1/follow-up/alerts');
    expect(alerts.absoluteDeadlines.items.map((a) => [a.methodId, a.alert, a.daysLeft])).toEqual([
      [PAUSED, 'OVERDUE', -1],
    ]);
    expect(await metric('absolute_deadline', 'OVERDUE')).toBe(1);
    const ops = await h.call('/ops/api/follow-up');
    expect(((await ops.json()) as Alerts).absoluteDeadlines.items.map((a) => a.methodId)).toEqual([PAUSED]);
  });

  it("counts DMP's clock in the stage statistics: stopped since the pause, beside calendar days", async () => {
    const stats = await get<{
      assessmentClock: { limitDays: number; running: Record<string, unknown>[] };
    }>('/api/v1/stats/stages');
    expect(stats.assessmentClock.limitDays).toBe(180);
    // 2024-02-01 .. 2026-07-02 is 882 days; paused since 2024-03-01 (853 days): 29 on the clock
    expect(stats.assessmentClock.running).toEqual([
      expect.objectContaining({
        methodId: PAUSED,
        calendarDays: 882,
        pausedDays: 853,
        clockDays: 29,
        paused: true,
      }),
    ]);
  });
});

describe('the command line', () => {
  const bin = resolve(import.meta.dirname, '../../bin/metodehub.mjs');
  const cli = async (args: string[]) =>
    (
      await promisify(execFile)(process.execPath, [bin, ...args, '--hub', h.url, '--token', h.token], {
        env: { ...process.env, LOG_LEVEL: 'silent' },
        timeout: 60_000,
      })
    ).stdout;

  it('lists the alerts and records the documentation milestone, with help text', async () => {
    const help = (await promisify(execFile)(process.execPath, [bin, 'follow-up', 'alerts', '--help'])).stdout;
    expect(help).toContain('absolute deadline');
    const alerts = await cli(['follow-up', 'alerts']);
    expect(alerts).toContain('Follow-up alerts on 2026-07-02');
    expect(alerts).toMatch(new RegExp(`absolute deadline\\s+OVERDUE\\s+${PAUSED}\\s+2026-07-01\\s+-1`));
    const listed = await cli(['follow-up', 'list', '--json']);
    expect((JSON.parse(listed) as { items: { methodId: string }[] }).items.map((t) => t.methodId)).toEqual([
      TEMPORARY,
    ]);
    const id = 'ID2024_303';
    await post([
      registration(id),
      event(id, 'STATUS_CHANGED', '2024-01-03', { statusChanged: { to: 'AWAITING_ORDERING' } }),
      event(id, 'ASSIGNMENT_ORDERED', '2024-01-08', {
        assignment: { assignee: 'SLV', slvTrack: 'C', orderedOn: '2024-01-08' },
      }),
    ]);
    expect(await cli(['follow-up', 'documentation-complete', id, '--on', '2024-02-05'])).toContain(
      `${id}: documentation complete on 2024-02-05`,
    );
    const state = await get<{ state: { documentationCompleted: { completedOn: string } } }>(
      `/api/v1/methods/${id}`,
    );
    expect(state.state.documentationCompleted.completedOn).toBe('2024-02-05');
  }, 300_000); // each run of the binary compiles the TypeScript on a shared two-core machine
});

describe.skipIf(!chromiumPath())('the dashboard', () => {
  it('shows the follow-up alerts', async () => {
    if (!chromiumPath()) throw new Error(browserMissing);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${h.url}/ops/#token=${h.token}`);
      await expect
        .poll(() => page.locator(`[data-follow-up="${PAUSED}"]`).count(), { timeout: 15_000 })
        .toBe(1);
      expect(await page.locator(`[data-follow-up="${PAUSED}"]`).getAttribute('data-alert')).toBe('OVERDUE');
      expect(await page.locator('#followUpCount').textContent()).toContain('per 2026-07-02');
    } finally {
      await browser.close();
    }
  });
});

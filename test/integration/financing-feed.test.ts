/**
 * The financing feed end to end against the real broker and registry: case events in through the HTTP
 * ingress, records out on financing.drug-decisions.v1, read back by period as JSON and CSV, corrections
 * superseding, the feed as it stood at any time, dead letters with reasons, and a restart that publishes
 * what is missing and nothing twice.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { financingAdapter } from '../../adapters/financing/adapter.ts';
import { financingCommand } from '../../adapters/financing/cli.ts';
import type { DecisionFeed, FeedEntry } from '../../adapters/financing/decisionFeed.ts';
import {
  dateOf,
  decisionEvent,
  detailsChanged,
  phasedOut,
  untilAwaitingDecision,
} from '../support/financingEvents.ts';
import type { DrugDecision, MethodDetails, MethodEvent } from '../../contracts/generated/types.ts';
import { readDeadLetterInfo } from '../../core/bus/deadLetter.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testBus, testKafka } from '../support/kafka.ts';

const FEED = 'financing.drug-decisions.v1';
const SCOPE = 'nyemetoder:financing:read';
let h: TestHub;
let reader: string;
let serial = 100;
const nextId = () => `ID2024_${String(serial++).padStart(3, '0')}`;

beforeAll(async () => {
  h = await startTestHub(
    ['api', 'projection', 'financing'],
    {},
    { adapters: [financingAdapter], topics: [FEED] },
  );
  reader = await h.hub.devToken([SCOPE]);
});
afterAll(async () => {
  await h?.close();
});

async function post(events: MethodEvent[]) {
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: events });
  expect(r.status, await r.clone().text()).toBe(200);
}

interface Page {
  total: number;
  next: string | null;
  asOf: string;
  decisions: FeedEntry[];
}

async function decisions(query: Record<string, string>, token: string | null = reader): Promise<Page> {
  const r = await h.call(`/financing/v1/decisions?${new URLSearchParams({ limit: '1000', ...query })}`, {
    token,
  });
  expect(r.status, await r.clone().text()).toBe(200);
  return (await r.json()) as Page;
}

const wholeYear = { from: '2024-01-01', to: '2026-12-31' };
const recordsOf = async (methodId: string, query: Record<string, string> = {}) =>
  (await decisions({ ...wholeYear, ...query })).decisions.filter((d) => d.methodId === methodId);

async function waitForRecords(methodId: string, count: number, query: Record<string, string> = {}) {
  let found: FeedEntry[] = [];
  await eventually(
    async () => {
      found = await recordsOf(methodId, { includeSuperseded: 'true', ...query });
      return found.length >= count;
    },
    30_000,
    `${count} record(s) of ${methodId} in the feed`,
  );
  return found;
}

async function financingDeadLetters(methodId: string) {
  const dead = await readAll(testKafka(), `${h.events}.dlq`);
  return dead
    .map((m) => ({ key: m.key?.toString(), info: readDeadLetterInfo(m.headers) }))
    .filter((d) => d.key === methodId && d.info.handler === 'financing');
}

describe('publishing', () => {
  it('publishes a medicine decision with its ATC code, H-prescription flag and dates, on the topic and by period', async () => {
    const id = nextId();
    await post([
      ...untilAwaitingDecision(id, {
        hPrescription: true,
        indication: 'Urotelialt karsinom; lokalavansert eller metastatisk',
        assessmentUrl: 'https://nyemetoder.no/metoder/pembrolizumab-keytruda-blaerekreft',
        estimatedPatientsPerYear: 120,
        supplierConfidentialNote: 'Rabatt på 31 prosent',
      }),
      decisionEvent(id, 40, 'INTRODUCED', { effectiveFrom: dateOf(55) }),
    ]);
    const [record] = await waitForRecords(id, 1);
    expect(record).toMatchObject({
      methodId: id,
      atcCode: 'L01FF02',
      substance: 'pembrolizumab',
      outcome: 'INTRODUCED',
      decidedOn: dateOf(40),
      effectiveFrom: dateOf(55),
      hPrescription: true,
      indication: 'Urotelialt karsinom; lokalavansert eller metastatisk',
      assessmentUrl: 'https://nyemetoder.no/metoder/pembrolizumab-keytruda-blaerekreft',
      estimatedPatientsPerYear: 120,
      change: 'DECISION',
      supersedes: null,
      supersededBy: null,
    });
    const kafka = testKafka();
    const { registry } = testBus(kafka);
    registry.alias(h.topics[FEED]!, FEED);
    const onTopic: DrugDecision[] = [];
    for (const m of await readAll(kafka, h.topics[FEED]!)) {
      const { value } = await registry.decode<DrugDecision>(h.topics[FEED]!, m.value);
      if (value.methodId === id) {
        onTopic.push(value);
        expect(m.key?.toString()).toBe(id);
      }
    }
    expect(onTopic.map((r) => r.recordId)).toEqual([record!.recordId]);
    expect(JSON.stringify(onTopic)).not.toContain('Rabatt');

    const day = dateOf(40);
    const inPeriod = await decisions({ from: day, to: day });
    expect(inPeriod.decisions.map((d) => d.methodId)).toContain(id);
    const before = await decisions({ from: dateOf(30), to: dateOf(39) });
    expect(before.decisions.map((d) => d.methodId)).not.toContain(id);
    const byEffective = await decisions({ from: dateOf(55), to: dateOf(55), by: 'effective' });
    expect(byEffective.decisions.map((d) => d.methodId)).toContain(id);
    const notByEffective = await decisions({ from: day, to: day, by: 'effective' });
    expect(notByEffective.decisions.map((d) => d.methodId)).not.toContain(id);
  });

  it('supersedes a temporary introduction by the permanent one, keeps both readable, and shows the feed as of any time', async () => {
    const id = nextId();
    await post([...untilAwaitingDecision(id), decisionEvent(id, 100, 'TEMPORARILY_INTRODUCED')]);
    const [temporary] = await waitForRecords(id, 1);
    const between = new Date().toISOString();
    await eventually(async () => Date.now() > Date.parse(between) + 5, 1000); // publishedAt strictly after
    await post([decisionEvent(id, 400, 'INTRODUCED', { effectiveFrom: dateOf(410) })]);
    const all = await waitForRecords(id, 2);
    const permanent = all.find((r) => r.recordId !== temporary!.recordId)!;
    expect(permanent).toMatchObject({
      outcome: 'INTRODUCED',
      supersedes: temporary!.recordId,
      change: 'DECISION',
    });
    expect(all.find((r) => r.recordId === temporary!.recordId)!.supersededBy).toBe(permanent.recordId);

    expect((await recordsOf(id)).map((r) => r.outcome)).toEqual(['INTRODUCED']);
    expect((await recordsOf(id, { asOf: between })).map((r) => [r.outcome, r.supersededBy])).toEqual([
      ['TEMPORARILY_INTRODUCED', null],
    ]);
    expect(await recordsOf(id, { asOf: '2020-01-01' })).toEqual([]);
  });

  it('publishes a correction of the details as a new record that supersedes, and a phase-out', async () => {
    const id = nextId();
    await post([...untilAwaitingDecision(id, { hPrescription: false }), decisionEvent(id, 50, 'INTRODUCED')]);
    const [first] = await waitForRecords(id, 1);
    await post([detailsChanged(id, 60, { hPrescription: true })]);
    const corrected = (await waitForRecords(id, 2)).find((r) => r.change === 'CORRECTION')!;
    expect(corrected).toMatchObject({
      hPrescription: true,
      outcome: 'INTRODUCED',
      decidedOn: dateOf(50),
      supersedes: first!.recordId,
    });

    await post([phasedOut(id, 200, 'Pasienter over 80 år'), phasedOut(id, 300, null, 330)]);
    // The sub-group phase-out alone also leaves two current records: wait for the whole-method one.
    const current = await eventually(
      async () => (await recordsOf(id)).some((r) => r.change === 'PHASE_OUT' && r.subGroup === null),
      30_000,
      'the whole-method phase-out',
    ).then(() => recordsOf(id));
    expect(current.map((r) => [r.outcome, r.subGroup, r.change, r.decidedOn, r.effectiveFrom])).toEqual([
      ['PHASED_OUT', 'Pasienter over 80 år', 'PHASE_OUT', dateOf(200), dateOf(230)],
      ['PHASED_OUT', null, 'PHASE_OUT', dateOf(300), dateOf(330)],
    ]);
    expect(current[1]!.supersedes).toBe(corrected.recordId);
  });

  it('flags methods of one substance whose H-prescription flags disagree, on its health and in its API', async () => {
    const [hospitalUse, homeUse] = [nextId(), nextId()];
    const substance = { substances: ['nusinersen'], atcCodes: ['M09AX07'] };
    await post([
      ...untilAwaitingDecision(hospitalUse, {
        ...substance,
        hPrescription: false,
        indication: 'Spinal muskelatrofi type 1',
      }),
      decisionEvent(hospitalUse, 40, 'INTRODUCED'),
      ...untilAwaitingDecision(homeUse, {
        ...substance,
        hPrescription: true,
        indication: 'Spinal muskelatrofi type 2',
      }),
      decisionEvent(homeUse, 41, 'INTRODUCED'),
    ]);
    await waitForRecords(hospitalUse, 1);
    await waitForRecords(homeUse, 1);
    const r = await h.call('/financing/v1/h-prescription-conflicts', { token: reader });
    expect(r.status, await r.clone().text()).toBe(200);
    const body = (await r.json()) as {
      conflicts: { substance: string; methods: { methodId: string; hPrescription: boolean }[] }[];
    };
    const conflict = body.conflicts.find((c) => c.substance === 'nusinersen');
    expect(conflict?.methods.map((m) => [m.methodId, m.hPrescription])).toEqual([
      [hospitalUse, false],
      [homeUse, true],
    ]);
    const before = await h.call('/financing/v1/h-prescription-conflicts?asOf=2020-01-01', { token: reader });
    expect(((await before.json()) as { count: number }).count).toBe(0);
    const ready = (await (await h.call('/readyz')).json()) as {
      adapters: Record<string, { ok: boolean; detail: string }>;
    };
    expect(ready.adapters.financing?.ok).toBe(true);
    expect(ready.adapters.financing?.detail).toContain(`nusinersen (${hospitalUse} not H, ${homeUse} H)`);
    // agreeing again once the case system corrects the flag
    await post([
      detailsChanged(hospitalUse, 60, {
        ...substance,
        hPrescription: true,
        indication: 'Spinal muskelatrofi type 1',
      }),
    ]);
    await waitForRecords(hospitalUse, 2);
    const after = (await (
      await h.call('/financing/v1/h-prescription-conflicts', { token: reader })
    ).json()) as { conflicts: { substance: string }[] };
    expect(after.conflicts.map((c) => c.substance)).not.toContain('nusinersen');
  });

  it('publishes nothing for a method that is not a medicine', async () => {
    const medicine = nextId();
    const procedure = nextId();
    await post([
      ...untilAwaitingDecision(procedure, {
        methodType: 'PROCEDURE',
        atcCodes: [],
        substances: [],
        hPrescription: null,
      }),
      decisionEvent(procedure, 70, 'INTRODUCED'),
      ...untilAwaitingDecision(medicine),
      decisionEvent(medicine, 70, 'INTRODUCED'),
    ]);
    await waitForRecords(medicine, 1); // same partition or not, the procedure's decision came first
    expect(await recordsOf(procedure, { includeSuperseded: 'true' })).toEqual([]);
  });
});

describe('validation', () => {
  it('refuses an implausible decision date (1970) at the door, naming the field, so the feed never sees it', async () => {
    const id = nextId();
    const r = await h.call('/api/v1/case-events', {
      method: 'POST',
      json: [
        ...untilAwaitingDecision(id, {}),
        decisionEvent(id, 80, 'INTRODUCED', { decidedOn: '1970-01-01' }),
      ],
    });
    expect(r.status).toBe(400);
    const problem = (await r.json()) as { errors: { path: string; reason: string }[] };
    expect(problem.errors).toContainEqual(
      expect.objectContaining({ path: 'decision.decidedOn', reason: '1970-01-01 is before 2013-01-01' }),
    );
  });

  it.each([
    ['an ATC code that is not level 5', { atcCodes: ['L01FF'] }, {}, 'INVALID_ATC_CODE', 'level-4'],
    ['an unknown H-prescription flag', { hPrescription: null }, {}, 'UNKNOWN_H_PRESCRIPTION', 'H-resept'],
  ] as [string, Partial<MethodDetails>, { decidedOn?: string }, string, string][])(
    'dead-letters a decision with %s, naming the reason',
    async (_what, details, decision, code, words) => {
      const id = nextId();
      await post([...untilAwaitingDecision(id, details), decisionEvent(id, 80, 'INTRODUCED', decision)]);
      let dead: Awaited<ReturnType<typeof financingDeadLetters>> = [];
      await eventually(
        async () => {
          dead = await financingDeadLetters(id);
          return dead.length > 0;
        },
        30_000,
        `a financing dead letter for ${id}`,
      );
      expect(dead).toHaveLength(1);
      expect(dead[0]!.info.errorClass).toBe('DOMAIN_RULE');
      expect(dead[0]!.info.reason).toContain(code);
      expect(dead[0]!.info.reason).toContain(id);
      expect(dead[0]!.info.reason).toContain(words);
      expect(await recordsOf(id, { includeSuperseded: 'true' })).toEqual([]);
    },
  );
});

describe('the HTTP answer', () => {
  it('answers CSV that opens in a spreadsheet: BOM, separator, quoting, Norwegian letters', async () => {
    const id = nextId();
    await post([
      ...untilAwaitingDecision(id, {
        substances: ['nivolumab'],
        atcCodes: ['L01FF01'],
        indication: 'Ikke-småcellet lungekreft; "førstelinje" for pasienter på sykehus i Tromsø',
      }),
      decisionEvent(id, 500, 'INTRODUCED_WITH_CONDITIONS'),
    ]);
    await waitForRecords(id, 1);
    const r = await h.call(`/financing/v1/decisions?from=${dateOf(500)}&to=${dateOf(500)}`, {
      token: reader,
      headers: { accept: 'text/csv' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(r.headers.get('content-disposition')).toContain('.csv');
    const bytes = Buffer.from(await r.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').split('\r\n');
    expect(lines[0]!.split(';')).toContain('hPrescription');
    const row = lines.find((l) => l.includes(id))!;
    expect(row).toContain(';L01FF01;nivolumab;INTRODUCED_WITH_CONDITIONS;');
    expect(row).toContain(';"Ikke-småcellet lungekreft; ""førstelinje"" for pasienter på sykehus i Tromsø";');
    expect(lines.at(-1)).toBe('');
  });

  it('pages with limit and offset, and links the next page with the same asOf', async () => {
    const ids = [nextId(), nextId(), nextId()];
    await post(ids.flatMap((id) => [...untilAwaitingDecision(id), decisionEvent(id, 600, 'NOT_INTRODUCED')]));
    for (const id of ids) await waitForRecords(id, 1);
    const day = dateOf(600);
    const first = await decisions({ from: day, to: day, limit: '2' });
    expect(first.total).toBe(3);
    expect(first.decisions).toHaveLength(2);
    expect(first.next).toContain(`asOf=${encodeURIComponent(first.asOf)}`);
    const second = (await (await h.call(first.next!, { token: reader })).json()) as Page;
    expect(second.decisions).toHaveLength(1);
    expect(second.next).toBeNull();
    expect([...first.decisions, ...second.decisions].map((d) => d.methodId).sort()).toEqual([...ids].sort());
  });

  it('refuses missing tokens, the wrong scope and a bad period with problem details', async () => {
    const path = '/financing/v1/decisions?from=2024-01-01&to=2024-12-31';
    expect((await h.call(path, { token: null })).status).toBe(401);
    const wrongScope = await h.call(path, { token: await h.hub.devToken(['nyemetoder:methods:read']) });
    expect(wrongScope.status).toBe(403);
    const backwards = await h.call('/financing/v1/decisions?from=2024-12-31&to=2024-01-01', {
      token: reader,
    });
    expect(backwards.status).toBe(400);
    expect(backwards.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await backwards.json()) as { code: string; detail: string };
    expect(problem.code).toBe('INVALID_PERIOD');
    expect(problem.detail).toContain('before it starts');
    const notADate = await h.call('/financing/v1/decisions?from=2024-02-30&to=2024-03-01', { token: reader });
    expect(((await notADate.json()) as { detail: string }).detail).toContain(
      '"2024-02-30" is not a calendar date',
    );
    const missing = await h.call('/financing/v1/decisions?from=2024-01-01', { token: reader });
    expect(missing.status).toBe(400);
    const badBy = await h.call('/financing/v1/decisions?from=2024-01-01&to=2024-02-01&by=week', {
      token: reader,
    });
    expect(badBy.status).toBe(400);
  });
});

describe('the CLI export', () => {
  it('writes every page of a period to a CSV or JSON file', async () => {
    const ids = [nextId(), nextId(), nextId()];
    await post(ids.flatMap((id) => [...untilAwaitingDecision(id), decisionEvent(id, 650, 'INTRODUCED')]));
    for (const id of ids) await waitForRecords(id, 1);
    const dir = await mkdtemp(join(tmpdir(), 'financing-export-'));
    const day = dateOf(650);
    const run = (format: string, out: string, token = reader) =>
      financingCommand()
        .exitOverride()
        .parseAsync(
          ['export', '--from', day, '--to', day, '--format', format, '--out', out, '--page-size', '2'].concat(
            ['--hub', h.url, '--token', token, '--no-progress'],
          ),
          { from: 'user' },
        );
    await run('csv', join(dir, 'decisions.csv'));
    const csv = await readFile(join(dir, 'decisions.csv'), 'utf8');
    expect(csv.startsWith('\uFEFFrecordId;')).toBe(true);
    const rows = csv.split('\r\n').filter((l) => l.includes('ID2024_'));
    expect(rows.map((r) => r.split(';')[4]).sort()).toEqual([...ids].sort());
    await run('json', join(dir, 'decisions.json'));
    const json = JSON.parse(await readFile(join(dir, 'decisions.json'), 'utf8')) as {
      total: number;
      decisions: FeedEntry[];
    };
    expect(json.total).toBe(3);
    expect(json.decisions.map((d) => d.methodId).sort()).toEqual([...ids].sort());
    await expect(run('csv', join(dir, 'refused.csv'), 'not-a-token')).rejects.toThrow(/401/);
    expect(existsSync(join(dir, 'refused.csv'))).toBe(false);
    expect(existsSync(join(dir, 'refused.csv.partial'))).toBe(false);
  });
});

describe('restart', () => {
  it('folds the log again, publishes what came while it was away, once, and nothing it had published before', async () => {
    const id = nextId();
    await post([...untilAwaitingDecision(id), decisionEvent(id, 700, 'TEMPORARILY_INTRODUCED')]);
    const [temporary] = await waitForRecords(id, 1);
    const running = h.hub.adapters.get('financing')!;
    const before = await decisions({ ...wholeYear, includeSuperseded: 'true' });
    await running.stop();
    // Only the new decision arrives while it is away: the restarted adapter must know the method from the log.
    await post([decisionEvent(id, 900, 'INTRODUCED')]);
    const again = await financingAdapter.create(h.hub.context());
    await again.start();
    try {
      const feed = (again as unknown as { feed: DecisionFeed }).feed;
      const currentOf = () =>
        feed
          .query({
            ...wholeYear,
            by: 'decision',
            asOf: new Date().toISOString(),
            includeSuperseded: false,
            limit: 1000,
            offset: 0,
          })
          .decisions.filter((r) => r.methodId === id);
      await eventually(
        () => currentOf()[0]?.outcome === 'INTRODUCED',
        30_000,
        `the decision made while away in the restarted feed (feed has ${feed.size}, had ${before.total})`,
      );
      expect(currentOf()).toMatchObject([{ outcome: 'INTRODUCED', supersedes: temporary!.recordId }]);
      expect(feed.size).toBe(before.total + 1);
      const kafka = testKafka();
      const { registry } = testBus(kafka);
      registry.alias(h.topics[FEED]!, FEED);
      const ids: string[] = [];
      for (const m of await readAll(kafka, h.topics[FEED]!))
        ids.push((await registry.decode<DrugDecision>(h.topics[FEED]!, m.value)).value.recordId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(before.total + 1);
    } finally {
      await again.stop();
    }
  });
});

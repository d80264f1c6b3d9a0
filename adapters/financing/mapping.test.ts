import { describe, expect, it } from 'vitest';
import type { DrugDecision, MethodDetails } from '../../contracts/generated/types.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { decisionEvent, dayAt, untilAwaitingDecision } from '../../test/support/financingEvents.ts';
import { BOM, csvDocument, csvField } from './csv.ts';
import { DecisionFeed } from './decisionFeed.ts';
import { DecisionFold } from './decisionFold.ts';
import { decisionDateProblem, detailsProblems, osloDateOf, recordIdFor } from './mapping.ts';
import { asOfInstant, wantsCsv } from './routes.ts';

describe('what makes a medicine unpublishable', () => {
  it.each([
    [{}, []],
    [{ atcCodes: ['L01FF'] }, ['INVALID_ATC_CODE']],
    [{ atcCodes: ['X01FF02'] }, ['INVALID_ATC_CODE']],
    [{ atcCodes: [] }, ['MISSING_ATC_CODE']],
    [{ hPrescription: null }, ['UNKNOWN_H_PRESCRIPTION']],
    [{ substances: [] }, ['MISSING_SUBSTANCE']],
    [{ atcCodes: ['L01'], hPrescription: null }, ['INVALID_ATC_CODE', 'UNKNOWN_H_PRESCRIPTION']],
  ] as const)('%j gives %j', (overrides, codes) => {
    const problems = detailsProblems('ID2024_001', medicineDetails(overrides as never));
    expect(problems.map((p) => p.split(':')[0])).toEqual(codes);
  });

  it.each([
    ['2024-05-13', null],
    ['', 'MISSING_DECISION_DATE'],
    ['1970-01-01', 'MISSING_DECISION_DATE'],
    ['2024-02-30', 'INVALID_DECISION_DATE'],
  ])('decision date %s', (date, code) => {
    expect(decisionDateProblem('ID2024_001', 'decidedOn', date)?.split(':')[0] ?? null).toBe(code);
  });
});

describe('record ids and dates', () => {
  it('are deterministic per source event and lineage', () => {
    expect(recordIdFor('e1', 'L01FF02|')).toBe(recordIdFor('e1', 'L01FF02|'));
    expect(recordIdFor('e1', 'L01FF02|')).not.toBe(recordIdFor('e2', 'L01FF02|'));
    expect(recordIdFor('e1', 'L01FF02|')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
  it('takes the Oslo day of an instant', () => {
    expect(osloDateOf('2024-06-30T22:30:00.000Z')).toBe('2024-07-01');
    expect(osloDateOf('2024-01-15T22:59:00.000Z')).toBe('2024-01-15');
  });
});

const id = 'ID2024_001';
const at = dayAt;
const lifeUntilDecision = (details: Partial<MethodDetails> = {}) => untilAwaitingDecision(id, details);
const decision = (day: number, outcome: string, extra: { effectiveFrom?: string | null } = {}) =>
  decisionEvent(id, day, outcome, extra);

describe('the fold', () => {
  it('publishes a decision, supersedes it with a new one and with a correction, and a phase-out', () => {
    const fold = new DecisionFold();
    for (const e of lifeUntilDecision()) expect(fold.offer(e)).toBeNull();
    const first = fold.offer(decision(100, 'TEMPORARILY_INTRODUCED'))!;
    expect(first.problem).toBeNull();
    expect(first.records).toMatchObject([
      {
        atcCode: 'L01FF02',
        outcome: 'TEMPORARILY_INTRODUCED',
        supersedes: null,
        change: 'DECISION',
        hPrescription: false,
      },
    ]);
    const permanent = fold.offer(decision(300, 'INTRODUCED', { effectiveFrom: at(310).slice(0, 10) }))!;
    expect(permanent.records).toMatchObject([
      {
        outcome: 'INTRODUCED',
        supersedes: first.records[0]!.recordId,
        change: 'DECISION',
        effectiveFrom: at(310).slice(0, 10),
      },
    ]);
    const corrected = fold.offer(
      methodEvent(
        'DETAILS_CHANGED',
        id,
        { details: medicineDetails({ hPrescription: true }) },
        { occurredAt: at(320) },
      ),
    )!;
    expect(corrected.records).toMatchObject([
      {
        outcome: 'INTRODUCED',
        hPrescription: true,
        change: 'CORRECTION',
        supersedes: permanent.records[0]!.recordId,
      },
    ]);
    const unchanged = fold.offer(
      methodEvent(
        'DETAILS_CHANGED',
        id,
        { details: medicineDetails({ hPrescription: true, name: 'Nytt navn' }) },
        { occurredAt: at(321) },
      ),
    )!;
    expect(unchanged.records).toEqual([]);
    const sub = fold.offer(
      methodEvent(
        'PHASED_OUT',
        id,
        { effectiveFrom: at(400).slice(0, 10), subGroup: 'Pasienter over 80 år', reason: null },
        { occurredAt: at(390) },
      ),
    )!;
    expect(sub.records).toMatchObject([
      { outcome: 'PHASED_OUT', subGroup: 'Pasienter over 80 år', supersedes: null, change: 'PHASE_OUT' },
    ]);
  });

  it('refuses a decision it cannot publish, and publishes it once the details are corrected', () => {
    const fold = new DecisionFold();
    for (const e of lifeUntilDecision({ hPrescription: null })) fold.offer(e);
    const refused = fold.offer(decision(100, 'INTRODUCED'))!;
    expect(refused.records).toEqual([]);
    expect(refused.problem).toContain('UNKNOWN_H_PRESCRIPTION');
    const fixed = fold.offer(
      methodEvent(
        'DETAILS_CHANGED',
        id,
        { details: medicineDetails({ hPrescription: true }) },
        { occurredAt: at(120) },
      ),
    )!;
    expect(fixed.records).toMatchObject([
      { outcome: 'INTRODUCED', hPrescription: true, change: 'DECISION', supersedes: null },
    ]);
  });

  it('ignores methods that are not medicines and events the state machine refuses', () => {
    const fold = new DecisionFold();
    for (const e of lifeUntilDecision({ methodType: 'PROCEDURE', atcCodes: [], hPrescription: null }))
      fold.offer(e);
    expect(fold.offer(decision(100, 'INTRODUCED'))).toBeNull();
    const other = new DecisionFold();
    other.offer(methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }, { occurredAt: at(0) }));
    expect(other.offer(decision(5, 'INTRODUCED'))).toBeNull(); // no assessment ordered: illegal
    expect(other.refused).toBe(1);
  });

  it('gives the same outcome for an event folded again', () => {
    const fold = new DecisionFold();
    for (const e of lifeUntilDecision()) fold.offer(e);
    const d = decision(100, 'INTRODUCED');
    const once = fold.offer(d);
    expect(fold.offer(d)).toBe(once);
  });
});

const record = (over: Partial<DrugDecision>): DrugDecision => ({
  recordId: 'r1',
  supersedes: null,
  methodId: id,
  atcCode: 'L01FF02',
  substance: 'pembrolizumab',
  outcome: 'INTRODUCED',
  decidedOn: '2024-03-01',
  effectiveFrom: null,
  hPrescription: true,
  indication: null,
  assessmentUrl: null,
  estimatedPatientsPerYear: null,
  publishedAt: '2024-03-01T10:00:00.000Z',
  change: 'DECISION',
  subGroup: null,
  sourceEventId: null,
  ...over,
});

describe('the feed', () => {
  const feed = new DecisionFeed();
  feed.offer(record({}));
  feed.offer(
    record({
      recordId: 'r2',
      supersedes: 'r1',
      effectiveFrom: '2024-04-01',
      publishedAt: '2024-03-05T10:00:00.000Z',
      change: 'CORRECTION',
    }),
  );
  feed.offer(record({ recordId: 'r1', outcome: 'NOT_INTRODUCED' })); // republished: ignored
  const q = {
    from: '2024-01-01',
    to: '2024-12-31',
    by: 'decision' as const,
    includeSuperseded: false,
    limit: 10,
    offset: 0,
  };

  it('shows the current records, or the feed as it stood at asOf', () => {
    expect(feed.query({ ...q, asOf: '2024-12-31T00:00:00.000Z' }).decisions.map((d) => d.recordId)).toEqual([
      'r2',
    ]);
    expect(feed.query({ ...q, asOf: '2024-03-02T00:00:00.000Z' }).decisions.map((d) => d.recordId)).toEqual([
      'r1',
    ]);
    expect(feed.query({ ...q, asOf: '2024-02-01T00:00:00.000Z' }).total).toBe(0);
    const all = feed.query({ ...q, asOf: '2024-12-31T00:00:00.000Z', includeSuperseded: true });
    expect(all.decisions.map((d) => [d.recordId, d.supersededBy, d.outcome])).toEqual([
      ['r1', 'r2', 'INTRODUCED'],
      ['r2', null, 'INTRODUCED'],
    ]);
  });

  it('filters by the effective date, the decision date standing in when none is named', () => {
    const asOf = '2024-12-31T00:00:00.000Z';
    expect(feed.query({ ...q, asOf, by: 'effective', from: '2024-04-01', to: '2024-04-30' }).total).toBe(1);
    expect(
      feed
        .query({ ...q, asOf, by: 'effective', from: '2024-03-01', to: '2024-03-01', includeSuperseded: true })
        .decisions.map((d) => d.recordId),
    ).toEqual(['r1']);
  });
});

describe('CSV', () => {
  it.each([
    ['plain', 'plain'],
    ['a;b', '"a;b"'],
    ['sier "nei"', '"sier ""nei"""'],
    ['to\nlinjer', '"to\nlinjer"'],
    ['blærekreft, avansert', 'blærekreft, avansert'],
    [null, ''],
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+47 22 00 00 00', "'+47 22 00 00 00"],
    ['@SUM(A1)', "'@SUM(A1)"],
    [-3, '-3'],
  ])('quotes %j as %j', (value, expected) => {
    expect(csvField(value, ';')).toBe(expected);
  });

  it('starts with a BOM and a header and ends rows with CRLF', () => {
    const text = csvDocument(
      [{ ...record({ indication: 'Lungekreft; ikke-småcellet' }), supersededBy: null }],
      ';',
    );
    expect(text.startsWith(`${BOM}recordId;supersedes;`)).toBe(true);
    expect(text.split('\r\n')).toHaveLength(3);
    expect(text).toContain(';"Lungekreft; ikke-småcellet";');
  });

  it.each([
    ['text/csv', true],
    ['text/csv;q=0.9, application/json', false],
    ['application/json', false],
    ['text/csv, */*;q=0.1', true],
    [undefined, false],
  ])('Accept %s -> CSV %s', (accept, csv) => {
    expect(wantsCsv(accept)).toBe(csv);
  });

  it('reads asOf as an instant or the end of a day', () => {
    expect(asOfInstant('2024-03-01')).toBe('2024-03-01T22:59:59.999Z'); // the end of the day in Oslo (UTC+1)
    expect(asOfInstant('2024-07-01')).toBe('2024-07-01T21:59:59.999Z'); // summer: UTC+2
    expect(asOfInstant('2024-03-01T10:00:00+01:00')).toBe('2024-03-01T09:00:00.000Z');
    expect(asOfInstant('nonsense')).toBeNull();
    expect(asOfInstant('2024-02-30')).toBeNull();
  });
});

describe('the README', () => {
  it('lists every setting as declared', async () => {
    const { readFile } = await import('node:fs/promises');
    const { settingsTable } = await import('../../core/config/spec.ts');
    const { financingSettings } = await import('./settings.ts');
    const readme = await readFile(new URL('./README.md', import.meta.url), 'utf8');
    expect(readme).toContain(settingsTable(financingSettings));
  });
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { GuidelineFlag, MethodEvent } from '../../contracts/generated/types.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { judgeStatusReport, osloDate } from './implementationStatus.ts';
import { flagRecordsFor } from './mapping.ts';
import { implementationTimes, OverdueWatch, overdueRuns, runOf } from './monitoring.ts';
import { defaultRulesFile, guidelinesFor, loadRules, parseRules, RulesError } from './rules.ts';
import { loggerFor } from '../../core/log/logger.ts';

const book = loadRules(defaultRulesFile);

function event(type: MethodEvent['type'], fields: Partial<MethodEvent>): MethodEvent {
  return {
    eventId: randomUUID(),
    methodId: 'ID2024_001',
    type,
    occurredAt: '2024-03-01T10:00:00.000Z',
    source: 'case-system',
    actor: null,
    sourceSequence: null,
    registered: null,
    detailsChanged: null,
    statusChanged: null,
    assignment: null,
    assessmentStarted: null,
    assessmentPaused: null,
    assessmentResumed: null,
    documentationCompleted: null,
    assessmentDelivered: null,
    priceNegotiationStarted: null,
    priceNegotiationConcluded: null,
    decision: null,
    reassessmentStarted: null,
    phasedOut: null,
    exception: null,
    link: null,
    note: null,
    closed: null,
    ...fields,
  };
}

const registered = (overrides: Parameters<typeof medicineDetails>[0] = {}) =>
  event('METHOD_REGISTERED', { registered: { details: medicineDetails(overrides) } });

const decided = (decidedOn: string, outcome: 'INTRODUCED' | 'TEMPORARILY_INTRODUCED' = 'INTRODUCED') =>
  event('DECISION_MADE', {
    decision: {
      forum: 'BESLUTNINGSFORUM',
      outcome,
      decidedOn,
      effectiveFrom: null,
      indication: null,
      conditions: [],
      withoutDocumentation: false,
      withoutDocumentationReason: null,
      temporaryIntroduction:
        outcome === 'TEMPORARILY_INTRODUCED'
          ? { reassessBy: '2026-01-01', outcomeMeasures: [], dataPlan: 'register', exitPlan: 'stopp' }
          : null,
    },
  });

describe('rules', () => {
  it.each([
    [{ indication: 'Urotelialt karsinom' }, ['HP-BLAERE']],
    [
      { atcCodes: ['A10BJ06'], indication: null, name: 'Semaglutid', specialty: 'Endokrinologi' },
      ['NFR-DIABETES'],
    ],
    [{ guidelineFlags: ['NFR-LAR'], indication: 'Urotelialt karsinom' }, ['HP-BLAERE', 'NFR-LAR']],
    [{ atcCodes: ['J01DH02'], methodType: 'PROCEDURE' as const, indication: null, name: 'x' }, []],
    [{ specialty: 'palliasjon', indication: null, name: 'Morfin' }, ['HP-PALLIASJON']],
  ])('flags %j for %j', (details, expected) => {
    expect(guidelinesFor(medicineDetails(details), book).map((r) => r.guidelineId)).toEqual(expected);
  });

  it('lets an explicit flag win over a rule for the same guideline', () => {
    const [reason] = guidelinesFor(medicineDetails({ guidelineFlags: ['HP-BLAERE'] }), book);
    expect(reason).toEqual({ guidelineId: 'HP-BLAERE', origin: 'EXPLICIT', ruleId: null });
  });

  it('lists every problem of a bad rules file', () => {
    expect(() =>
      parseRules(
        {
          guidelines: [{ code: 'A', kind: 'PROGRAMME', name: 'A' }],
          rules: [
            { id: 'r1', when: {}, flag: 'B' },
            { id: 'r1', when: { atc: 'L01' }, flag: 'A' },
          ],
        },
        'test.json',
      ),
    ).toThrow(RulesError);
    try {
      parseRules(
        { guidelines: [], rules: [{ id: 'r1', when: { specialty: 'x' }, flag: 'NOPE' }] },
        'test.json',
      );
    } catch (error) {
      expect((error as Error).message).toContain(
        'rules[0] (r1): "flag" "NOPE" is not a declared guideline code',
      );
    }
  });
});

describe('flag records', () => {
  it('flags on registration, updates on a decision, and unflags what the details no longer name', () => {
    const first = flagRecordsFor([], registered({ guidelineFlags: ['NFR-LAR'] }), book);
    expect(first.map((r) => [r.guidelineId, r.change, r.origin])).toEqual([
      ['HP-BLAERE', 'FLAGGED', 'RULE'],
      ['NFR-LAR', 'FLAGGED', 'EXPLICIT'],
    ]);
    const decision = flagRecordsFor(first, decided('2024-05-01', 'TEMPORARILY_INTRODUCED'), book);
    expect(decision.map((r) => [r.change, r.decidedOn, r.reassessBy])).toEqual([
      ['TEMPORARY_INTRODUCTION', '2024-05-01', '2026-01-01'],
      ['TEMPORARY_INTRODUCTION', '2024-05-01', '2026-01-01'],
    ]);
    const changed = flagRecordsFor(
      decision,
      event('DETAILS_CHANGED', { detailsChanged: { details: medicineDetails() } }),
      book,
    );
    expect(changed.map((r) => [r.guidelineId, r.change, r.active])).toEqual([
      ['NFR-LAR', 'UNFLAGGED', false],
    ]);
  });

  it('starts a new run on a later decision and says nothing for events that change nothing', () => {
    const [flag] = flagRecordsFor([], registered(), book);
    const implemented: GuidelineFlag = {
      ...flag!,
      decidedOn: '2023-01-01',
      implementationStatus: 'IMPLEMENTED',
      implementationStatusOn: '2023-06-01',
    };
    const [again] = flagRecordsFor([implemented], decided('2024-05-01'), book);
    expect(again).toMatchObject({
      change: 'DECISION',
      implementationStatus: 'NOT_STARTED',
      implementationStatusOn: '2024-05-01',
    });
    expect(flagRecordsFor([implemented], event('NOTE_ATTACHED', {}), book)).toEqual([]);
    expect(flagRecordsFor([implemented], registered(), book)).toEqual([]);
  });
});

describe('implementation status', () => {
  const [flag] = flagRecordsFor([], registered(), book);
  const ctx = { now: Date.parse('2024-06-01T12:00:00Z'), reportedBy: 'hdir', eventId: 'e1' };
  const report = (status: GuidelineFlag['implementationStatus'], on: string) =>
    judgeStatusReport(flag!, { methodId: flag!.methodId, guidelineId: flag!.guidelineId, status, on }, ctx);

  it.each([
    ['IN_PROGRESS', '2024-05-01', 'changed'],
    ['IMPLEMENTED', '2024-05-01', 'changed'],
    ['NOT_STARTED', '2024-05-01', 'refused'],
    ['IN_PROGRESS', '2024-06-02', 'refused'],
    ['IN_PROGRESS', '2024-02-30', 'refused'],
  ] as const)('%s on %s is %s', (status, on, outcome) => {
    expect(report(status, on).outcome).toBe(outcome);
  });

  it('refuses going back to NOT_STARTED and reports from before the current status', () => {
    const inProgress = {
      ...flag!,
      implementationStatus: 'IN_PROGRESS' as const,
      implementationStatusOn: '2024-04-01',
    };
    const back = judgeStatusReport(
      inProgress,
      { methodId: '', guidelineId: '', status: 'NOT_STARTED', on: '2024-05-01' },
      ctx,
    );
    expect(back).toMatchObject({ outcome: 'refused', code: 'ILLEGAL_STATUS_CHANGE' });
    const earlier = judgeStatusReport(
      inProgress,
      { methodId: '', guidelineId: '', status: 'IMPLEMENTED', on: '2024-03-01' },
      ctx,
    );
    expect(earlier).toMatchObject({ outcome: 'refused', code: 'INVALID_STATUS_DATE' });
  });

  it('knows the date in Norway', () => {
    expect(osloDate(Date.parse('2024-12-31T23:30:00Z'))).toBe('2025-01-01');
  });
});

describe('monitoring', () => {
  const [flag] = flagRecordsFor([], registered(), book);
  const decidedFlag = { ...flag!, decidedOn: '2024-01-01' };

  it('counts a run overdue past the deadline until it is implemented', () => {
    expect(runOf(decidedFlag, book, 30, '2024-01-31')).toMatchObject({
      overdue: false,
      deadline: '2024-01-31',
    });
    expect(runOf(decidedFlag, book, 30, '2024-02-05')).toMatchObject({ overdue: true, daysOverdue: 5 });
    const done = {
      ...decidedFlag,
      implementationStatus: 'IMPLEMENTED' as const,
      implementationStatusOn: '2024-03-01',
    };
    expect(runOf(done, book, 30, '2024-06-01')).toMatchObject({ overdue: false, daysToImplemented: 60 });
    expect(runOf(flag!, book, 30, '2030-01-01').overdue).toBe(false);
  });

  it('uses a guideline deadline from the rules file over the default', () => {
    const diabetes = { ...decidedFlag, guidelineId: 'NFR-DIABETES' };
    expect(runOf(diabetes, book, 30, '2024-03-01')).toMatchObject({ deadlineDays: 240, overdue: false });
  });

  it('gives times per guideline and raises each overdue run once', () => {
    const done = {
      ...decidedFlag,
      flagId: 'x/HP-BLAERE',
      implementationStatus: 'IMPLEMENTED' as const,
      implementationStatusOn: '2024-01-11',
    };
    const times = implementationTimes([decidedFlag, done], book, 30, '2024-06-01');
    expect(times).toEqual([
      expect.objectContaining({
        guidelineId: 'HP-BLAERE',
        implemented: 1,
        medianDays: 10,
        open: 1,
        overdue: 1,
      }),
    ]);
    const warnings: unknown[] = [];
    const log = loggerFor('test');
    log.warn = ((...args: unknown[]) => void warnings.push(args)) as typeof log.warn;
    const watch = new OverdueWatch(() => book, 30, log);
    const now = Date.parse('2024-06-01T12:00:00Z');
    expect(watch.check([decidedFlag], now)).toHaveLength(1);
    expect(watch.check([decidedFlag], now)).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });

  it('keeps the overdue gauge per record as a full check over every flag would', async () => {
    const gauge = async () =>
      Object.fromEntries((await overdueRuns.get()).values.map((v) => [String(v.labels.guideline), v.value]));
    const log = loggerFor('test');
    const warnings: unknown[] = [];
    log.warn = ((...args: unknown[]) => void warnings.push(args)) as typeof log.warn;
    const now = Date.parse('2024-06-01T12:00:00Z');
    const second = { ...decidedFlag, flagId: 'y/HP-BLAERE', methodId: 'ID2024_002' };
    const watch = new OverdueWatch(() => book, 30, log);
    watch.check([], now);
    watch.update(decidedFlag, now);
    watch.update(second, now);
    expect(await gauge()).toEqual({ 'HP-BLAERE': 2 });
    expect(warnings).toHaveLength(2);
    const implemented = {
      ...second,
      implementationStatus: 'IMPLEMENTED' as const,
      implementationStatusOn: '2024-02-01',
    };
    watch.update(implemented, now);
    expect(await gauge()).toEqual({ 'HP-BLAERE': 1 });
    watch.update({ ...decidedFlag, active: false }, now);
    expect(await gauge()).toEqual({ 'HP-BLAERE': 0 });
    watch.update({ ...implemented, active: false }, now);
    expect(await gauge()).toEqual({});
    // The same records in one full check give the same gauge.
    watch.check([decidedFlag, second], now);
    expect(await gauge()).toEqual({ 'HP-BLAERE': 2 });
    watch.update(decidedFlag, now);
    expect(await gauge()).toEqual({ 'HP-BLAERE': 2 });
    expect(warnings).toHaveLength(4);
  });
});

import { describe, expect, it } from 'vitest';
import { JcaSender } from '../../test/emulators/eu-jca/sender.ts';
import { jcaDocument } from '../../test/emulators/eu-jca/documents.ts';
import { notificationOf } from './mapping.ts';
import { JcaProcedures } from './procedures.ts';
import { jcaSettings } from './settings.ts';
import { addWorkingDays, timelineLists, timelineOf } from './timeline.ts';

// The declared defaults, so a test of the rule is a test of the setting too.
const rules = {
  scopeDueDays: jcaSettings.JCA_SCOPE_DUE_DAYS.default,
  scopeDaysAfterClockStop: jcaSettings.JCA_SCOPE_DAYS_AFTER_CLOCK_STOP.default,
  dossierDaysBeforeOpinion: jcaSettings.JCA_DOSSIER_DAYS_BEFORE_OPINION.default,
  endorsementDaysAfterAuthorisation: jcaSettings.JCA_ENDORSEMENT_DAYS_AFTER_AUTHORISATION.default,
  publicationWorkingDaysAfterEndorsement: jcaSettings.JCA_PUBLICATION_WORKING_DAYS_AFTER_ENDORSEMENT.default,
};

function proceduresOf(...lives: ReturnType<typeof JcaSender.lifeOf>[]) {
  const procedures = new JcaProcedures();
  for (const life of lives)
    for (const doc of life) procedures.offer(notificationOf(doc, '2025-01-01T00:00:00.000Z'));
  return procedures;
}

describe('where a JCA stands', () => {
  it('judges each milestone against its due date', () => {
    const doc = jcaDocument({ dates: { expectedChmpOpinionOn: '2025-10-16' } });
    const procedures = proceduresOf(JcaSender.lifeOf(doc, 'SCOPING_STARTED'));
    const t = timelineOf(procedures.procedure(doc.procedureId)!, '2025-06-15', 30, rules);
    expect(t.stage).toBe('SCOPING_STARTED');
    expect(t.steps.map((s) => [s.milestone, s.state, s.dueOn])).toEqual([
      ['SCOPING_STARTED', 'DONE', null],
      ['PICO_SCOPE_AGREED', 'OVERDUE', '2025-06-01'],
      ['DOSSIER_SUBMITTED', 'LATER', '2025-09-01'],
      ['REPORT_ENDORSED', 'NOT_DUE_YET_KNOWN', null],
      ['REPORT_PUBLISHED', 'NOT_DUE_YET_KNOWN', null],
    ]);
    expect(t.steps[1]!.days).toBe(14);
  });

  it('counts the report from the marketing authorisation and marks late ones', () => {
    const doc = jcaDocument();
    const life = JcaSender.lifeOf(doc, 'REPORT_PUBLISHED');
    const t = timelineOf(proceduresOf(life).procedure(doc.procedureId)!, '2026-02-01', 30, rules);
    const report = t.steps.find((s) => s.milestone === 'REPORT_PUBLISHED')!;
    expect(report).toMatchObject({
      state: 'DONE',
      dueOn: '2026-01-30',
      reachedOn: '2026-01-15',
      late: false,
    });
    expect(t.steps.every((s) => s.state === 'DONE')).toBe(true);
  });

  it('gives the Commission 10 working days after the 30-day endorsement before publication is overdue (2021/2282 art. 12)', () => {
    const doc = jcaDocument({ dates: { marketingAuthorisationOn: '2025-12-18' } });
    const procedure = proceduresOf(JcaSender.lifeOf(doc, 'DOSSIER_SUBMITTED')).procedure(doc.procedureId)!;
    const on = (today: string) =>
      Object.fromEntries(timelineOf(procedure, today, 30, rules).steps.map((s) => [s.milestone, s]));
    const day31 = on('2026-01-18');
    expect(day31.REPORT_ENDORSED).toMatchObject({ dueOn: '2026-01-17', state: 'OVERDUE', days: 1 });
    expect(day31.REPORT_PUBLISHED).toMatchObject({ dueOn: '2026-01-30', state: 'UPCOMING', days: 12 });
    expect(day31.REPORT_ENDORSED!.dueRule).toMatch(/art\. 12/);
    expect(on('2026-01-30').REPORT_PUBLISHED!.state).toBe('UPCOMING');
    expect(on('2026-01-31').REPORT_PUBLISHED).toMatchObject({ state: 'OVERDUE', days: 1 });
    expect(jcaSettings.JCA_ENDORSEMENT_DAYS_AFTER_AUTHORISATION.description).toMatch(/2021\/2282 art\. 12/);
  });

  it("counts the scoping deadline from EMA's first clock stop, after which the scoping starts (2021/2282 art. 8 and 10)", () => {
    const doc = jcaDocument({
      dates: { scopingStartedOn: '2025-03-03', firstClockStopOn: '2025-04-10' },
    });
    const procedure = proceduresOf([doc]).procedure(doc.procedureId)!;
    const scope = timelineOf(procedure, '2025-05-15', 30, rules).steps.find(
      (s) => s.milestone === 'PICO_SCOPE_AGREED',
    )!;
    // 30 days after the clock stop, not 90 after scoping started (2025-06-01)
    expect(scope).toMatchObject({ dueOn: '2025-05-10', state: 'OVERDUE', days: 5 });
    expect(scope.dueRule).toMatch(/first clock stop.*art\. 8 and 10/);
    expect(jcaSettings.JCA_SCOPE_DAYS_AFTER_CLOCK_STOP.description).toMatch(/2021\/2282 art\. 8 and 10/);
    const without = jcaDocument({ dates: { scopingStartedOn: '2025-03-03' } });
    const planned = timelineOf(
      proceduresOf([without]).procedure(without.procedureId)!,
      '2025-05-15',
      30,
      rules,
    );
    expect(planned.steps[1]).toMatchObject({ dueOn: '2025-06-01', state: 'UPCOMING' });
  });

  it('takes the endorsement in as a milestone with its date: "endorsement overdue" clears and publication counts from it', () => {
    const doc = jcaDocument({ dates: { marketingAuthorisationOn: '2025-12-18' } });
    const life = JcaSender.lifeOf(doc, 'DOSSIER_SUBMITTED');
    const before = proceduresOf(life).procedure(doc.procedureId)!;
    const stepOf = (p: typeof before, today: string, m: string) =>
      timelineOf(p, today, 30, rules).steps.find((s) => s.milestone === m)!;
    expect(stepOf(before, '2026-01-20', 'REPORT_ENDORSED').state).toBe('OVERDUE');
    const endorsed = {
      ...life[life.length - 1]!,
      procedureVersion: life.length + 1,
      milestone: 'REPORT_ENDORSED' as const,
      milestoneOn: '2026-01-21',
      dates: { ...life[life.length - 1]!.dates, reportEndorsedOn: '2026-01-21' },
    };
    const after = proceduresOf([...life, endorsed]).procedure(doc.procedureId)!;
    expect(stepOf(after, '2026-01-22', 'REPORT_ENDORSED')).toMatchObject({
      state: 'DONE',
      reachedOn: '2026-01-21',
      late: true,
    });
    expect(timelineOf(after, '2026-01-22', 30, rules).stage).toBe('REPORT_ENDORSED');
    // 10 working days after the endorsement that came (2026-01-21), not after the one due (2026-01-17)
    const publication = stepOf(after, '2026-02-02', 'REPORT_PUBLISHED');
    expect(publication).toMatchObject({ dueOn: '2026-02-04', state: 'UPCOMING', days: 2 });
    expect(publication.dueRule).toMatch(/after the endorsement on 2026-01-21 \(2021\/2282 art\. 12\)/);
    // the date alone, in a later notification of another milestone, counts too
    const dated = { ...endorsed, milestone: 'DOSSIER_SUBMITTED' as const, milestoneOn: '2025-08-28' };
    const byDate = proceduresOf([...life, dated]).procedure(doc.procedureId)!;
    expect(stepOf(byDate, '2026-01-22', 'REPORT_ENDORSED')).toMatchObject({
      state: 'DONE',
      reachedOn: '2026-01-21',
    });
  });

  it('counts working days Monday to Friday', () => {
    expect(addWorkingDays('2026-01-17', 10)).toBe('2026-01-30');
    expect(addWorkingDays('2026-01-16', 1)).toBe('2026-01-19');
  });

  it('takes a later milestone as showing the earlier ones were reached', () => {
    const doc = jcaDocument({ milestone: 'DOSSIER_SUBMITTED', milestoneOn: '2025-08-01', dates: {} });
    const t = timelineOf(proceduresOf([doc]).procedure(doc.procedureId)!, '2025-08-02', 30, rules);
    expect(t.steps.slice(0, 3).map((s) => s.state)).toEqual(['DONE', 'DONE', 'DONE']);
  });

  it('cancels what is open when the procedure is withdrawn', () => {
    const doc = jcaDocument();
    const life = [
      ...JcaSender.lifeOf(doc, 'SCOPING_STARTED'),
      { ...doc, procedureVersion: 2, milestone: 'WITHDRAWN' as const },
    ];
    const t = timelineOf(proceduresOf(life).procedure(doc.procedureId)!, '2026-01-01', 30, rules);
    expect(t.withdrawn).toBe(true);
    expect(t.steps.slice(1).map((s) => s.state)).toEqual([
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
      'CANCELLED',
    ]);
  });

  it('lists overdue (longest first) and upcoming (soonest first)', () => {
    const a = jcaDocument({ dates: { scopingStartedOn: '2025-01-01', expectedChmpOpinionOn: '2025-08-20' } });
    const b = jcaDocument({ dates: { scopingStartedOn: '2025-02-01', expectedChmpOpinionOn: '2025-07-30' } });
    const procedures = proceduresOf(
      JcaSender.lifeOf(a, 'SCOPING_STARTED'),
      JcaSender.lifeOf(b, 'SCOPING_STARTED'),
    );
    const lists = timelineLists(procedures.all().map((p) => timelineOf(p, '2025-06-10', 30, rules)));
    expect(lists.overdue.map((e) => [e.procedureId, e.milestone])).toEqual([
      [a.procedureId, 'PICO_SCOPE_AGREED'],
      [b.procedureId, 'PICO_SCOPE_AGREED'],
    ]);
    expect(lists.upcoming.map((e) => [e.procedureId, e.dueOn])).toEqual([
      [b.procedureId, '2025-06-15'],
      [a.procedureId, '2025-07-06'],
    ]);
  });
});

describe('idempotency and order', () => {
  it('takes a version once, knows a resend, and refuses other content under a used version', () => {
    const doc = jcaDocument();
    const procedures = proceduresOf([doc]);
    const again = notificationOf(doc, '2025-02-02T00:00:00.000Z');
    expect(procedures.judge(again).outcome).toBe('duplicate');
    expect(procedures.judge({ ...again, indication: 'Something else' }).outcome).toBe('conflict');
  });

  it('flags versions and milestones that arrive out of order, and keeps them', () => {
    const doc = jcaDocument();
    const [v1, v2, v3] = JcaSender.lifeOf(doc, 'DOSSIER_SUBMITTED');
    const procedures = proceduresOf([v1!, v3!]);
    const late = procedures.judge(notificationOf(v2!, '2025-09-01T00:00:00.000Z'));
    expect(late).toMatchObject({ outcome: 'new', outOfOrder: true });
    if (late.outcome === 'new') {
      expect(late.reasons).toEqual([
        `version 2 arrived after version 3 of ${doc.procedureId}`,
        'PICO_SCOPE_AGREED arrived after DOSSIER_SUBMITTED',
      ]);
    }
    const update = procedures.judge(
      notificationOf({ ...v1!, procedureVersion: 9, milestone: 'UPDATED' }, 'x'),
    );
    expect(update).toMatchObject({ outcome: 'new', outOfOrder: true });
  });
});

/** The demo's follow-up cases, judged by the hub's follow-up on a fixed clock. */
import { describe, expect, it } from 'vitest';
import { FollowUp } from '../followup/followUp.ts';
import { MethodStore } from '../lifecycle/methodStore.ts';
import { assessmentClockStatistics } from '../lifecycle/stageStatistics.ts';
import { fixedClock } from '../time/clock.ts';
import { demoHistory } from './history.ts';

const settings = {
  FOLLOW_UP_REASSESS_WARN_DAYS: 90,
  FOLLOW_UP_DEADLINE_WARN_DAYS: 30,
  ASSESSMENT_CLOCK_DAYS: 180,
};
const store = new MethodStore();
for (const event of demoHistory({ until: '2026-12-01' })) store.offer(event);
const followUp = new FollowUp(store, fixedClock('2026-12-01T12:00:00Z'), settings);

describe('the demo follow-up', () => {
  it('folds without a rejection', () => {
    expect(store.counts.rejected).toBe(0);
  });

  it('shows ID2023_024 overdue: its reassessBy 2026-11-18 passed with no reassessment started', () => {
    const alert = followUp.alerts().reassessment.items.find((t) => t.methodId === 'ID2023_024');
    expect(alert).toMatchObject({
      reassessBy: '2026-11-18',
      progress: 'NOT_STARTED',
      alert: 'OVERDUE',
      daysLeft: -13,
    });
  });

  it('lists temporary introductions reassessed and decided as well as those not yet started', () => {
    const progress = new Set(followUp.temporaryIntroductions().map((t) => t.progress));
    expect([...progress]).toEqual(expect.arrayContaining(['DECIDED', 'NOT_STARTED']));
  });

  it('holds a paused assessment past its absolute deadline (ID2026_005)', () => {
    const alert = followUp.alerts().absoluteDeadlines.items.find((d) => d.methodId === 'ID2026_005');
    expect(alert).toMatchObject({ absoluteDeadline: '2026-11-01', alert: 'OVERDUE', daysLeft: -30 });
  });

  it("records documentation complete for DMP's assessments, so their clock can be counted", () => {
    const stats = assessmentClockStatistics(store.states(), '2026-12-01', 180, 1000);
    expect(stats.delivered).toBeGreaterThan(50);
    expect(stats.clock.medianDays!).toBeLessThan(stats.calendar.medianDays!);
    expect(stats.running.some((r) => r.methodId === 'ID2026_005' && r.paused)).toBe(true);
  });
});

/**
 * The secretariat's follow-up on the hub's clock: every temporary introduction and how far its reassessment
 * has come, and the alerts (reassessment dates and absolute deadlines approaching or passed).
 */
import { Gauge } from 'prom-client';
import type { MethodStore } from '../lifecycle/methodStore.ts';
import { metricsRegistry } from '../metrics/registry.ts';
import type { Clock } from '../time/clock.ts';
import { osloDateOf } from '../time/oslo.ts';
import { type DeadlineAlert, deadlineAlertsOf } from './assessmentClock.ts';
import { type TemporaryIntroduction, temporaryIntroductionsOf } from './temporaryIntroductions.ts';

export interface FollowUpSettings {
  FOLLOW_UP_REASSESS_WARN_DAYS: number;
  FOLLOW_UP_DEADLINE_WARN_DAYS: number;
  ASSESSMENT_CLOCK_DAYS: number;
}

export interface FollowUpAlerts {
  today: string;
  reassessment: { warnDays: number; items: TemporaryIntroduction[] };
  absoluteDeadlines: { warnDays: number; items: DeadlineAlert[] };
}

export class FollowUp {
  constructor(
    private readonly store: MethodStore,
    readonly clock: Clock,
    readonly settings: FollowUpSettings,
  ) {}

  /** The Norwegian date the hub's clock (or asOf) stands on. */
  todayAt(asOf?: number): string {
    return osloDateOf(asOf ?? this.clock.now());
  }

  temporaryIntroductions(asOf?: number): TemporaryIntroduction[] {
    const today = this.todayAt(asOf);
    const found: TemporaryIntroduction[] = [];
    for (const state of this.store.states(asOf)) {
      if (state.decision === null && state.reassessment === null) continue;
      const events = this.store
        .ledger(state.methodId)!
        .entriesUntil(asOf)
        .map((e) => e.event);
      found.push(
        ...temporaryIntroductionsOf(state, events, today, this.settings.FOLLOW_UP_REASSESS_WARN_DAYS),
      );
    }
    return found.sort(
      (a, b) => a.reassessBy.localeCompare(b.reassessBy) || a.methodId.localeCompare(b.methodId),
    );
  }

  alerts(asOf?: number): FollowUpAlerts {
    const today = this.todayAt(asOf);
    return {
      today,
      reassessment: {
        warnDays: this.settings.FOLLOW_UP_REASSESS_WARN_DAYS,
        items: this.temporaryIntroductions(asOf)
          .filter((t) => t.alert !== null)
          .sort((a, b) => a.daysLeft - b.daysLeft),
      },
      absoluteDeadlines: {
        warnDays: this.settings.FOLLOW_UP_DEADLINE_WARN_DAYS,
        items: deadlineAlertsOf(this.store.states(asOf), today, this.settings.FOLLOW_UP_DEADLINE_WARN_DAYS),
      },
    };
  }
}

let source: FollowUp | undefined;

/** Counted on each scrape from the read model, so the figure always follows the hub's clock. */
export const followUpAlerts = new Gauge({
  name: 'metodehub_follow_up_alerts',
  help: "Follow-up alerts on the hub's clock: kind reassessment (a temporary introduction's reassessBy, no REASSESSMENT_STARTED) or absolute_deadline (a paused assessment), state APPROACHING or OVERDUE.",
  labelNames: ['kind', 'state'] as const,
  registers: [metricsRegistry],
  collect() {
    this.reset();
    if (!source) return;
    const alerts = source.alerts();
    for (const state of ['APPROACHING', 'OVERDUE'] as const) {
      this.set(
        { kind: 'reassessment', state },
        alerts.reassessment.items.filter((a) => a.alert === state).length,
      );
      this.set(
        { kind: 'absolute_deadline', state },
        alerts.absoluteDeadlines.items.filter((a) => a.alert === state).length,
      );
    }
  },
});

/** The read model the gauge counts from (the API component's). */
export function countFollowUpFrom(followUp: FollowUp | undefined): void {
  source = followUp;
}

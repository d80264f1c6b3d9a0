/** Method histories for the financing tests: a medicine taken from proposal to a decision, legally. */
import type { MethodDetails, MethodEvent } from '../../contracts/generated/types.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';

/** An instant `day` days after 2024-01-01 at 10:00 UTC (a working hour, so its UTC and Oslo dates agree). */
export const dayAt = (day: number): string =>
  new Date(Date.UTC(2024, 0, 1, 10) + day * 86_400_000).toISOString();
export const dateOf = (day: number): string => dayAt(day).slice(0, 10);

/** Registration and the statuses up to AWAITING_DECISION, days 0 to 5. */
export function untilAwaitingDecision(methodId: string, details: Partial<MethodDetails> = {}): MethodEvent[] {
  const steps = [
    'AWAITING_ORDERING',
    'ASSESSMENT_ORDERED',
    'ASSESSMENT_IN_PROGRESS',
    'ASSESSMENT_COMPLETED',
    'AWAITING_DECISION',
  ];
  return [
    methodEvent(
      'METHOD_REGISTERED',
      methodId,
      { details: medicineDetails(details) },
      { occurredAt: dayAt(0) },
    ),
    ...steps.map((to, i) =>
      methodEvent('STATUS_CHANGED', methodId, { from: null, to, reason: null } as never, {
        occurredAt: dayAt(i + 1),
      }),
    ),
  ];
}

export function decisionEvent(
  methodId: string,
  day: number,
  outcome: string,
  extra: { effectiveFrom?: string | null; indication?: string | null; decidedOn?: string } = {},
): MethodEvent {
  return methodEvent(
    'DECISION_MADE',
    methodId,
    {
      forum: 'BESLUTNINGSFORUM',
      outcome,
      decidedOn: extra.decidedOn ?? dateOf(day),
      effectiveFrom: extra.effectiveFrom ?? null,
      indication: extra.indication ?? null,
      conditions: [],
      withoutDocumentation: false,
      temporaryIntroduction:
        outcome === 'TEMPORARILY_INTRODUCED'
          ? {
              reassessBy: dateOf(day + 700),
              outcomeMeasures: ['Totaloverlevelse'],
              dataPlan: 'Data fra Kreftregisteret',
              exitPlan: 'Avsluttes for nye pasienter om effekten uteblir',
            }
          : null,
    } as never,
    { occurredAt: dayAt(day) },
  );
}

export const detailsChanged = (methodId: string, day: number, details: Partial<MethodDetails>): MethodEvent =>
  methodEvent('DETAILS_CHANGED', methodId, { details: medicineDetails(details) }, { occurredAt: dayAt(day) });

export const phasedOut = (
  methodId: string,
  day: number,
  subGroup: string | null,
  effectiveDay = day + 30,
): MethodEvent =>
  methodEvent(
    'PHASED_OUT',
    methodId,
    { effectiveFrom: dateOf(effectiveDay), subGroup, reason: 'Erstattet av nyere behandling' },
    { occurredAt: dayAt(day) },
  );

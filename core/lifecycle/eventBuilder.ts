/** Builds method events with every detail field present (null where unused), as the contract reads them. */
import { randomUUID } from 'node:crypto';
import type { MethodEvent, MethodEventType } from '../../contracts/generated/types.ts';
import { detailFieldOf } from './applyEvent.ts';

type Detail<K extends keyof MethodEvent> = NonNullable<MethodEvent[K]>;

type DetailField = (typeof detailFieldOf)[keyof typeof detailFieldOf];

const emptyDetails = Object.fromEntries(
  [...new Set(Object.values(detailFieldOf))].map((f) => [f, null]),
) as unknown as Pick<MethodEvent, DetailField>;

export interface EventOptions {
  eventId?: string;
  occurredAt?: string;
  source?: string;
  actor?: string | null;
  sourceSequence?: number | null;
}

export function methodEvent<T extends Exclude<MethodEventType, 'UNKNOWN'>>(
  type: T,
  methodId: string,
  detail: Detail<(typeof detailFieldOf)[T]>,
  options: EventOptions = {},
): MethodEvent {
  return {
    eventId: options.eventId ?? randomUUID(),
    methodId,
    type,
    occurredAt: options.occurredAt ?? new Date().toISOString(),
    source: options.source ?? 'case-system',
    actor: options.actor ?? null,
    sourceSequence: options.sourceSequence ?? null,
    ...emptyDetails,
    [detailFieldOf[type]]: detail,
  } as MethodEvent;
}

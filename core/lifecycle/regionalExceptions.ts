/**
 * Exceptions (unntak) per regional health authority (003:730, 003:732): which regions and trusts hold which
 * exceptions of a method, which are valid on a day, and from when a later decision overrode each.
 */
import type {
  ExceptionKind,
  MethodException,
  RegionalHealthAuthority,
} from '../../contracts/generated/types.ts';
import type { LedgerEntry } from './ledger.ts';

/** The four regional health authorities (RHF) as people name them. */
export const regionNames: Record<RegionalHealthAuthority, string> = {
  HELSE_SOR_OST: 'Helse Sør-Øst RHF',
  HELSE_VEST: 'Helse Vest RHF',
  HELSE_MIDT_NORGE: 'Helse Midt-Norge RHF',
  HELSE_NORD: 'Helse Nord RHF',
  UNKNOWN: 'RHF ikke oppgitt',
};

export const regions = ['HELSE_SOR_OST', 'HELSE_VEST', 'HELSE_MIDT_NORGE', 'HELSE_NORD'] as const;

export interface OverridingDecision {
  eventId: string;
  forum: string;
  outcome: string;
  decidedOn: string;
}

export interface RegionalException {
  exceptionId: string;
  kind: ExceptionKind;
  scope: string | null;
  /** The health trust (HF) holding it, when the case system names one. */
  trust: string | null;
  grantedOn: string;
  /** The date from which a later decision overrode it; null while it stands. */
  overriddenFrom: string | null;
  /** The latest decision before the override, when there was one. */
  overriddenBy: OverridingDecision | null;
  /** Whether it is valid on the day asked about (granted by then and not yet overridden). */
  valid: boolean;
}

export interface RegionExceptions {
  /** UNKNOWN for exceptions recorded without a holder. */
  rhf: RegionalHealthAuthority;
  name: string;
  valid: number;
  exceptions: RegionalException[];
}

/** A method's exceptions grouped by region (every region listed, those without a holder last), as of `day`. */
export function exceptionsByRegion(entries: LedgerEntry[], day: string): RegionExceptions[] {
  const granted = new Map<string, { exception: MethodException; row: RegionalException }>();
  let latestDecision: OverridingDecision | null = null;
  for (const { event } of entries) {
    if (event.type === 'DECISION_MADE' && event.decision) {
      const d = event.decision;
      latestDecision = { eventId: event.eventId, forum: d.forum, outcome: d.outcome, decidedOn: d.decidedOn };
    }
    const e = event.exception;
    if (!e) continue;
    if (event.type === 'EXCEPTION_GRANTED') {
      granted.set(e.exceptionId, {
        exception: e,
        row: {
          exceptionId: e.exceptionId,
          kind: e.kind,
          scope: e.scope,
          trust: e.holder?.trust ?? null,
          grantedOn: e.effectiveOn,
          overriddenFrom: null,
          overriddenBy: null,
          valid: false,
        },
      });
    } else if (event.type === 'EXCEPTION_OVERRIDDEN') {
      const known = granted.get(e.exceptionId);
      if (known) {
        known.row.overriddenFrom = e.effectiveOn;
        known.row.overriddenBy = latestDecision;
      }
    }
  }
  const groups = new Map<RegionalHealthAuthority, RegionalException[]>();
  for (const { exception, row } of granted.values()) {
    row.valid = row.grantedOn <= day && (row.overriddenFrom === null || day < row.overriddenFrom);
    const rhf = exception.holder?.rhf ?? 'UNKNOWN';
    groups.set(rhf, [...(groups.get(rhf) ?? []), row]);
  }
  const order: RegionalHealthAuthority[] = [
    ...regions,
    ...(groups.has('UNKNOWN') ? ['UNKNOWN' as const] : []),
  ];
  return order.map((rhf) => {
    const exceptions = groups.get(rhf) ?? [];
    return { rhf, name: regionNames[rhf], valid: exceptions.filter((x) => x.valid).length, exceptions };
  });
}

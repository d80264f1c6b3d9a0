/**
 * The JCA scoping's PICOs per member state: each PICO names the member states that asked for it, and a
 * national method needs the ones Norway asked for. Pure.
 */
import type { JcaNotification, Pico } from '../../contracts/generated/types.ts';
import type { Procedure } from './procedures.ts';

export const NORWAY = 'NO';

export interface PicosByMemberState {
  /** The version whose PICOs these are: the highest that gives any. */
  procedureVersion: number | null;
  /** Member state (ISO 3166-1 alpha-2) -> the PICOs it asked for, in the notification's order. */
  byMemberState: Record<string, Pico[]>;
  /** PICOs the notification named no member state for. */
  unattributed: Pico[];
  /** The PICOs Norway asked for. */
  norway: Pico[];
}

/** The PICOs of the highest version that has any, grouped by the member states that asked for them. */
export function picosOf(procedure: Procedure): PicosByMemberState {
  const source = [...procedure.versions].reverse().find((n) => n.picos.length > 0);
  return group(source);
}

function group(source: JcaNotification | undefined): PicosByMemberState {
  const byMemberState: Record<string, Pico[]> = {};
  const unattributed: Pico[] = [];
  for (const pico of source?.picos ?? []) {
    const states = pico.memberStates ?? [];
    if (states.length === 0) unattributed.push(pico);
    for (const state of [...new Set(states)].sort()) {
      byMemberState[state] = [...(byMemberState[state] ?? []), pico];
    }
  }
  return {
    procedureVersion: source?.procedureVersion ?? null,
    byMemberState,
    unattributed,
    norway: byMemberState[NORWAY] ?? [],
  };
}

export interface MethodPicos {
  methodId: string;
  procedures: {
    procedureId: string;
    procedureVersion: number | null;
    stage: string;
    /** The PICOs Norway asked for: the ones the national method is to answer. */
    norway: Pico[];
    /** PICOs with no member state named, which may be Norway's too. */
    unattributed: Pico[];
  }[];
}

/** Norway's PICOs from every procedure linked to a national method. */
export function norwayPicosFor(
  methodId: string,
  procedures: Procedure[],
  stageOf: (p: Procedure) => string,
): MethodPicos {
  return {
    methodId,
    procedures: procedures
      .filter((p) => p.linkedMethodIds.includes(methodId))
      .map((p) => {
        const picos = picosOf(p);
        return {
          procedureId: p.procedureId,
          procedureVersion: picos.procedureVersion,
          stage: stageOf(p),
          norway: picos.norway,
          unattributed: picos.unattributed,
        };
      }),
  };
}

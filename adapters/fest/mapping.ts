/**
 * Method state -> the status a prescriber needs, as a FEST condition (vilkår). Pure functions: the rule
 * from the RHFs' principles is that a medicine under assessment is not started for new patients, so every
 * medicine method has a condition from the day it is registered, and the decision replaces it.
 */
import { osloDateOf } from '../../core/time/oslo.ts';
import type { FestVilkar, MethodState } from '../../contracts/generated/types.ts';

/** Our code set for the prescriber status (the `Status` of the condition, `StrukturertVilkar` BESLUTNING). */
export const prescriberStatuses = {
  UNDER_VURDERING: 'Under vurdering i Nye metoder',
  INNFORT: 'Innført',
  INNFORT_MED_VILKAR: 'Innført med vilkår',
  MIDLERTIDIG_INNFORT: 'Midlertidig innført',
  IKKE_INNFORT: 'Ikke innført',
  UTFASET: 'Utfaset',
  BESLUTTET: 'Besluttet',
} as const;
export type PrescriberStatus = keyof typeof prescriberStatuses;

/** A condition without the catalogue's bookkeeping (version, time of change, FEST entry ids and number). */
export type VilkarDraft = Omit<
  FestVilkar,
  'catalogueVersion' | 'changedAt' | 'entryId' | 'earlierEntries' | 'vilkarNr'
>;

export interface MappingOptions {
  /** Base of the public method link; the method ID is appended. */
  linkBase: string;
}

/** The stable id of a method's condition: the same in every extract, full or incremental. */
export const vilkarIdOf = (methodId: string): string => `NM-${methodId}`;

export { osloDateOf };

/** 'YYYY-MM-DD' -> '01.03.2025', as Norwegian texts write dates. */
export const norwegianDate = (date: string): string => date.split('-').reverse().join('.');

/** A sentence ending in one full stop, whatever the source text ended with (conditions and reasons often carry their own). */
export const sentence = (text: string): string => {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
};

/**
 * The medicine and what it is for, naming the indication once: a method's name usually already says it
 * ("X til behandling av Y" with indication "Behandling av Y"), then the name (or its purpose) is not repeated.
 */
export function aboutText(name: string, indication: string | null | undefined): string {
  if (!indication) return name;
  const lowerName = name.toLowerCase();
  const lowerIndication = indication.trim().toLowerCase();
  if (lowerName.includes(lowerIndication)) return name;
  const at = lowerName.indexOf(' til ');
  if (at > 0) {
    const purpose = lowerName.slice(at + 5);
    // The indication extends the name's purpose (a restriction added): say the indication in its place.
    if (purpose !== '' && lowerIndication.startsWith(purpose))
      return `${name.slice(0, at)} til ${lowerIndication.charAt(0)}${indication.trim().slice(1)}`;
  }
  return `${name} (${indication.trim()})`;
}

const notForNewPatients =
  'Skal ikke tas i bruk for nye pasienter før Beslutningsforum har besluttet. ' +
  'Pasienter som allerede har startet behandling, kan fullføre den.';

/**
 * The condition for a method as it stands, or null when the method needs none (not a medicine, or closed
 * before any decision): a published condition then becomes withdrawn.
 */
export function festVilkarFor(state: MethodState, options: MappingOptions): VilkarDraft | null {
  const { details } = state;
  if (details.methodType !== 'MEDICINE') return null;
  const decision = state.decision;
  if (state.closed && !decision) return null;
  const wholePhaseOut = state.phaseOuts.find((p) => p.subGroup === null);
  const subGroupPhaseOuts = state.phaseOuts.filter((p) => p.subGroup !== null);
  const indication = decision?.indication ?? details.indication;
  const about = aboutText(details.name, indication);
  let status: PrescriberStatus;
  let validFrom: string | null;
  let text: string;

  if (wholePhaseOut) {
    status = 'UTFASET';
    validFrom = wholePhaseOut.effectiveFrom;
    text = `${about} er utfaset fra ${norwegianDate(wholePhaseOut.effectiveFrom)}.${wholePhaseOut.reason ? ` ${sentence(wholePhaseOut.reason)}` : ''}`;
  } else if (decision) {
    const by =
      decision.forum === 'MEDICAL_DIRECTORS'
        ? 'Interregionalt fagdirektørmøte'
        : 'Beslutningsforum for nye metoder';
    const from = decision.effectiveFrom ?? decision.decidedOn;
    const decided = `Besluttet av ${by} ${norwegianDate(decision.decidedOn)}.`;
    switch (decision.outcome) {
      case 'INTRODUCED':
        status = 'INNFORT';
        validFrom = from;
        text = `${about} er innført. ${decided} Kan tas i bruk fra ${norwegianDate(from)}.`;
        break;
      case 'INTRODUCED_WITH_CONDITIONS':
        status = 'INNFORT_MED_VILKAR';
        validFrom = from;
        text = `${about} er innført med vilkår. ${decided} Kan tas i bruk fra ${norwegianDate(from)}.${
          decision.conditions.length > 0 ? ` Vilkår: ${decision.conditions.map(sentence).join(' ')}` : ''
        }`;
        break;
      case 'TEMPORARILY_INTRODUCED': {
        status = 'MIDLERTIDIG_INNFORT';
        validFrom = from;
        // The reassessment date is no end of validity: the decision stands until a new one is made.
        const reassessBy = decision.temporaryIntroduction?.reassessBy;
        text = `${about} er midlertidig innført. ${decided} Kan tas i bruk fra ${norwegianDate(from)}.${
          reassessBy
            ? ` Skal revurderes innen ${norwegianDate(reassessBy)}; gjelder til ny beslutning er tatt.`
            : ''
        }`;
        break;
      }
      case 'NOT_INTRODUCED':
        status = 'IKKE_INNFORT';
        validFrom = decision.decidedOn;
        text = `${about} er ikke innført. ${decided} Skal ikke tas i bruk.`;
        break;
      default:
        status = 'BESLUTTET';
        validFrom = decision.decidedOn;
        text = `${about}: ${decided}`;
    }
    if (state.status === 'REASSESSMENT' && state.reassessment)
      text += ` Under revurdering fra ${norwegianDate(state.reassessment.startedOn)}.`;
    for (const p of subGroupPhaseOuts)
      text += ` Utfaset for ${p.subGroup} fra ${norwegianDate(p.effectiveFrom)}.`;
  } else {
    status = 'UNDER_VURDERING';
    validFrom = osloDateOf(Date.parse(state.registeredAt));
    text = `${about} er til vurdering i Nye metoder. ${notForNewPatients}`;
  }

  return {
    vilkarId: vilkarIdOf(state.methodId),
    methodId: state.methodId,
    withdrawn: false,
    statusCode: status,
    statusText: prescriberStatuses[status],
    text,
    validFrom,
    validTo: null,
    substances: [...details.substances],
    atcCodes: [...details.atcCodes],
    indication: indication ?? null,
    link: `${options.linkBase}${state.methodId}`,
  };
}

/** What a published entry says, without the bookkeeping. */
export function draftOf(entry: FestVilkar): VilkarDraft {
  const {
    catalogueVersion: _v,
    changedAt: _c,
    entryId: _e,
    earlierEntries: _p,
    vilkarNr: _n,
    ...draft
  } = entry;
  return draft;
}

/** The withdrawn form of a published condition: what an incremental extract says when it no longer applies. */
export function withdrawnVilkar(previous: FestVilkar): VilkarDraft {
  return { ...draftOf(previous), withdrawn: true };
}

/** Whether two drafts say the same to a vendor (then nothing is published). */
export function sameVilkar(a: VilkarDraft, b: VilkarDraft): boolean {
  return (
    a.vilkarId === b.vilkarId &&
    a.methodId === b.methodId &&
    a.withdrawn === b.withdrawn &&
    a.statusCode === b.statusCode &&
    a.statusText === b.statusText &&
    a.text === b.text &&
    a.validFrom === b.validFrom &&
    a.validTo === b.validTo &&
    a.indication === b.indication &&
    a.link === b.link &&
    a.substances.join('\u0000') === b.substances.join('\u0000') &&
    a.atcCodes.join('\u0000') === b.atcCodes.join('\u0000')
  );
}

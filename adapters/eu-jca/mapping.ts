/**
 * Pure functions between the EU's JCA notification and our contracts: the record for
 * eu.jca-notifications.v1, the METHOD_LINKED events for a method's history, and the METHOD_REGISTERED
 * proposal for Bestillerforum when no national method fits, with a method ID that does not collide.
 */
import type {
  JcaLinkCandidate,
  JcaLinkOutcome,
  JcaNotification,
  MethodDetails,
  MethodEvent,
  MethodType,
} from '../../contracts/generated/types.ts';
import { atcLevel } from '../../core/lifecycle/identifiers.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { nationalComplementNeeded } from './complement.ts';
import type { LinkCandidate } from './linking.ts';
import type { JcaDocument } from './notification.ts';

export const SOURCE = 'eu-jca';
export const ACTOR = 'EU HTA Coordination Group (JCA intake)';

/** The notification record as the EU sent it, before linking: links are added by `withLinks`. */
export function notificationOf(doc: JcaDocument, receivedAt: string): JcaNotification {
  const d = doc.dates ?? {};
  return {
    procedureId: doc.procedureId,
    procedureVersion: doc.procedureVersion,
    milestone: doc.milestone,
    milestoneOn: doc.milestoneOn,
    outOfOrder: false,
    inn: doc.technology.inn ?? null,
    atcCode: doc.technology.atcCode ?? null,
    technologyType: doc.technology.type,
    indication: doc.indication,
    picos: (doc.picos ?? []).map((p) => ({
      population: p.population,
      intervention: p.intervention,
      comparator: p.comparator,
      outcomes: p.outcomes,
      memberStates: p.memberStates ?? [],
    })),
    assessor: doc.assessor ?? null,
    coAssessor: doc.coAssessor ?? null,
    documentUrls: (doc.documents ?? []).map((x) => x.url),
    linkedMethodIds: [],
    nationalComplementNeeded: nationalComplementNeeded(doc.technology.type, doc.milestone),
    receivedAt,
    linkOutcome: 'NOT_LINKED',
    linkCandidates: [],
    schemaVersion: doc.schemaVersion,
    dates: {
      scopingStartedOn: d.scopingStartedOn ?? null,
      scopeAgreedOn: d.scopeAgreedOn ?? null,
      dossierDueOn: d.dossierDueOn ?? null,
      dossierSubmittedOn: d.dossierSubmittedOn ?? null,
      expectedChmpOpinionOn: d.expectedChmpOpinionOn ?? null,
      marketingAuthorisationOn: d.marketingAuthorisationOn ?? null,
      reportPublishedOn: d.reportPublishedOn ?? null,
      firstClockStopOn: d.firstClockStopOn ?? null,
      reportEndorsedOn: d.reportEndorsedOn ?? null,
    },
  };
}

export function withLinks(
  notification: JcaNotification,
  outcome: JcaLinkOutcome,
  methodIds: string[],
  candidates: LinkCandidate[],
  outOfOrder: boolean,
): JcaNotification {
  return {
    ...notification,
    outOfOrder,
    linkOutcome: outcome,
    linkedMethodIds: methodIds,
    linkCandidates: candidates.map(
      (c): JcaLinkCandidate => ({ methodId: c.methodId, score: c.score, reasons: c.reasons }),
    ),
  };
}

/** METHOD_LINKED on the method: this JCA is about it. */
export function jcaLinkEvent(
  methodId: string,
  notification: JcaNotification,
  why: string,
  occurredAt: string,
): MethodEvent {
  return methodEvent(
    'METHOD_LINKED',
    methodId,
    {
      relation: 'JOINT_CLINICAL_ASSESSMENT',
      target: notification.procedureId,
      note: `EU JCA ${notification.procedureId} v${notification.procedureVersion} (${notification.milestone} ${notification.milestoneOn}): ${why}`,
    },
    { occurredAt, source: SOURCE, actor: ACTOR },
  );
}

/** METHOD_LINKED on a proposed method: a new indication of the substance another method is about. */
export function newIndicationLinkEvent(methodId: string, existing: string, occurredAt: string): MethodEvent {
  return methodEvent(
    'METHOD_LINKED',
    methodId,
    { relation: 'NEW_INDICATION', target: existing, note: 'the same substance, another indication (EU JCA)' },
    { occurredAt, source: SOURCE, actor: ACTOR },
  );
}

const methodTypeOf: Record<string, MethodType> = {
  MEDICINAL_PRODUCT: 'MEDICINE',
  ORPHAN_MEDICINAL_PRODUCT: 'MEDICINE',
  ATMP: 'MEDICINE',
  MEDICAL_DEVICE: 'MEDICAL_DEVICE',
  IN_VITRO_DIAGNOSTIC: 'DIAGNOSTIC_TEST',
};

const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** What the proposal says about the method, from the JCA. */
export function proposedDetails(doc: JcaDocument): MethodDetails {
  const t = doc.technology;
  const substances = (t.inn ?? '')
    .split(/\s*\+\s*/)
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const what = t.inn ? capitalised(t.inn) : (t.tradeName ?? 'Medisinsk utstyr');
  return {
    name: `${what}${t.tradeName && t.inn ? ` (${t.tradeName})` : ''}: ${doc.indication}`.slice(0, 300),
    shortDescription: `Forslag fra EUs felles kliniske vurdering (JCA) ${doc.procedureId}; indikasjon som vurdert i EU: ${doc.indication}`,
    methodType: methodTypeOf[t.type] ?? 'OTHER',
    level: 'NATIONAL',
    specialty: null,
    indication: doc.indication,
    substances,
    atcCodes: t.atcCode && atcLevel(t.atcCode) === 5 ? [t.atcCode] : [],
    marketingAuthorisation: doc.dates?.marketingAuthorisationOn ? 'GRANTED' : 'APPLIED',
    supplier: t.developer ?? null,
    hPrescription: null,
    estimatedPatientsPerYear: null,
    guidelineFlags: [],
    assessmentUrl: null,
    supplierConfidentialNote: null,
  };
}

export function proposalEvent(methodId: string, doc: JcaDocument, occurredAt: string): MethodEvent {
  return methodEvent(
    'METHOD_REGISTERED',
    methodId,
    { details: proposedDetails(doc) },
    { occurredAt, source: SOURCE, actor: ACTOR },
  );
}

/**
 * A method ID for a proposal: the highest free serial of the year, counting down from 999, so proposals
 * from this channel do not race the case system's serials, which count up from 001.
 */
export function proposalMethodId(year: number, taken: (methodId: string) => boolean): string {
  for (let serial = 999; serial >= 1; serial--) {
    const id = `ID${year}_${String(serial).padStart(3, '0')}`;
    if (!taken(id)) return id;
  }
  throw new Error(`NO_FREE_METHOD_ID: every serial of ${year} is taken`);
}

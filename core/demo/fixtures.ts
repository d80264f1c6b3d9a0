/** Plausible method details for tests (Norwegian texts, real substances and ATC codes). */
import type { Decision, MethodDetails } from '../../contracts/generated/types.ts';

export function medicineDetails(overrides: Partial<MethodDetails> = {}): MethodDetails {
  return {
    name: 'Pembrolizumab til behandling av blærekreft',
    shortDescription: 'Førstelinjebehandling av lokalavansert eller metastatisk urotelialt karsinom',
    methodType: 'MEDICINE',
    level: 'NATIONAL',
    specialty: 'Onkologi',
    indication: 'Urotelialt karsinom',
    substances: ['pembrolizumab'],
    atcCodes: ['L01FF02'],
    marketingAuthorisation: 'GRANTED',
    supplier: 'MSD',
    hPrescription: false,
    estimatedPatientsPerYear: 120,
    guidelineFlags: [],
    assessmentUrl: null,
    supplierConfidentialNote: null,
    ...overrides,
  };
}

/**
 * A Beslutningsforum decision; a temporary introduction gets a plausible re-assessment plan unless
 * `overrides` gives one.
 */
export function decisionOf(
  outcome: Decision['outcome'],
  decidedOn: string,
  overrides: Partial<Decision> = {},
): Decision {
  return {
    forum: 'BESLUTNINGSFORUM',
    outcome,
    decidedOn,
    effectiveFrom: null,
    indication: null,
    conditions: [],
    withoutDocumentation: false,
    withoutDocumentationReason: null,
    temporaryIntroduction: null,
    ...overrides,
  };
}

/**
 * The demo's cases of issue 19, part A, in one place: who holds an exception (region and trust), why the
 * medical directors decided without documentation, and the note of a new price offer after "not introduced".
 */
import type { ExceptionHolder, RegionalHealthAuthority } from '../../contracts/generated/types.ts';
import type { hospitals } from './texts.ts';

/** The region (RHF) each demo hospital trust (HF) belongs to. */
const regionOfTrust: Record<(typeof hospitals)[number], RegionalHealthAuthority> = {
  'Oslo universitetssykehus HF': 'HELSE_SOR_OST',
  'Akershus universitetssykehus HF': 'HELSE_SOR_OST',
  'Helse Bergen HF, Haukeland universitetssjukehus': 'HELSE_VEST',
  'St. Olavs hospital HF': 'HELSE_MIDT_NORGE',
  'Universitetssykehuset Nord-Norge HF': 'HELSE_NORD',
  'Helse Stavanger HF': 'HELSE_VEST',
  'Sykehuset Innlandet HF': 'HELSE_SOR_OST',
  'Sørlandet sykehus HF': 'HELSE_SOR_OST',
  'Vestre Viken HF': 'HELSE_SOR_OST',
  'Helse Møre og Romsdal HF': 'HELSE_MIDT_NORGE',
  'Nordlandssykehuset HF': 'HELSE_NORD',
  'Sykehuset i Vestfold HF': 'HELSE_SOR_OST',
};

/** An individual-patient exception is held by the trust that treats the patient, in its region. */
export const trustHolder = (trust: (typeof hospitals)[number]): ExceptionHolder => ({
  rhf: regionOfTrust[trust],
  trust,
});

/** A group exception is granted to a whole region. */
export const regionHolder = (rhf: RegionalHealthAuthority): ExceptionHolder => ({ rhf, trust: null });

export const demoRegions: RegionalHealthAuthority[] = [
  'HELSE_SOR_OST',
  'HELSE_VEST',
  'HELSE_MIDT_NORGE',
  'HELSE_NORD',
];

export const regionName: Record<RegionalHealthAuthority, string> = {
  HELSE_SOR_OST: 'Helse Sør-Øst RHF',
  HELSE_VEST: 'Helse Vest RHF',
  HELSE_MIDT_NORGE: 'Helse Midt-Norge RHF',
  HELSE_NORD: 'Helse Nord RHF',
  UNKNOWN: 'RHF',
};

/** Why documentation could not be had, as the medical directors record it. */
export const withoutDocumentationReasons = {
  beforeAssessment: 'Leverandøren har ikke planer om å sende inn dokumentasjon for metoden.',
  duringAssessment:
    'Den absolutte fristen for dokumentasjon er passert, og leverandøren har meldt at dokumentasjonen ikke finnes.',
} as const;

/** Methods decided by the medical directors in the middle of an assessment: those with an even serial. */
export const decidedDuringAssessment = (methodId: string): boolean => Number(methodId.slice(-1)) % 2 === 0;

export const newPriceOfferNote = {
  subject: 'Nytt pristilbud',
  text: 'Leverandøren har kommet med et nytt pristilbud etter beslutningen om ikke å innføre. Saken går til ny prisforhandling hos Sykehusinnkjøp.',
} as const;

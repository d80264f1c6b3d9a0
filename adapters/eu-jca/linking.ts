/**
 * Which national method a JCA is about: each method is scored on the ATC code (the strongest sign), the
 * active substances (INN) and the indication, and the best is linked only when it is clearly the one.
 * EU indications are English and ours Norwegian, so common clinical words are put into Norwegian first
 * and the texts compared by character trigrams, which also catches carcinoma/karsinom, melanoma/melanom.
 * Pure: the catalogue is passed in.
 */
import type { MethodState } from '../../contracts/generated/types.ts';

export interface LinkCandidate {
  methodId: string;
  score: number;
  reasons: string[];
  /** How alike the indications are, 0 to 1. */
  indication: number;
  /** Whether the ATC code or an INN matched (not only the indication text). */
  substance: boolean;
}

export interface LinkThresholds {
  /** Score at which the best candidate is linked without a person. */
  link: number;
  /** Lowest score listed as a candidate. */
  candidate: number;
  /** How far the best must lead the second to be linked automatically. */
  margin: number;
  /** Indication similarity from which two indications are taken to be the same one. */
  sameIndication: number;
}

/**
 * LINKED: this is the method. AMBIGUOUS: several could be; a person chooses. NEW_INDICATION: methods of the
 * same substance exist but none for this indication, so a new method is proposed beside `sameSubstanceAs`.
 * NONE: nothing national fits, so a new method is proposed.
 */
export type LinkDecision =
  | { outcome: 'LINKED'; methodIds: string[]; candidates: LinkCandidate[] }
  | { outcome: 'AMBIGUOUS'; methodIds: []; candidates: LinkCandidate[] }
  | { outcome: 'NEW_INDICATION'; methodIds: []; candidates: LinkCandidate[]; sameSubstanceAs: string }
  | { outcome: 'NONE'; methodIds: []; candidates: LinkCandidate[] };

export interface JcaTechnology {
  inn?: string | null;
  atcCode?: string | null;
  indication: string;
}

const WEIGHTS = { atc: 0.45, inn: 0.35, indication: 0.2 };
const MAX_CANDIDATES = 5;

/** English clinical words and phrases as the case system writes them (longest first when applied). */
const GLOSSARY = (
  [
    ['non-small cell lung cancer', 'ikke-småcellet lungekreft'],
    ['non-small-cell lung cancer', 'ikke-småcellet lungekreft'],
    ['small cell lung cancer', 'småcellet lungekreft'],
    ['triple-negative breast cancer', 'trippelnegativ brystkreft'],
    ['renal cell carcinoma', 'nyrecellekarsinom'],
    ['hepatocellular carcinoma', 'hepatocellulært karsinom'],
    ['squamous cell carcinoma', 'plateepitelkarsinom'],
    ['urothelial carcinoma', 'urotelialt karsinom'],
    ['head and neck', 'hode og hals'],
    ['multiple myeloma', 'myelomatose'],
    ['lung cancer', 'lungekreft'],
    ['breast cancer', 'brystkreft'],
    ['prostate cancer', 'prostatakreft'],
    ['ovarian cancer', 'eggstokkreft'],
    ['colorectal cancer', 'tarmkreft'],
    ['gastric cancer', 'magekreft'],
    ['biliary tract cancer', 'galleveiskreft'],
    ['oesophageal cancer', 'kreft i spiserøret'],
    ['esophageal cancer', 'kreft i spiserøret'],
    ['first-line', 'førstelinje'],
    ['first line', 'førstelinje'],
    ['second-line', 'andrelinje'],
    ['second line', 'andrelinje'],
    ['maintenance', 'vedlikehold'],
    ['treatment', 'behandling'],
    ['metastatic', 'metastatisk'],
    ['advanced', 'avansert'],
    ['locally', 'lokal'],
    ['unresectable', 'inoperabelt'],
    ['recurrent', 'tilbakevendende'],
    ['early', 'tidlig'],
    ['stage', 'stadium'],
    ['resection', 'reseksjon'],
    ['surgery', 'kirurgi'],
    ['chemotherapy', 'kjemoterapi'],
    ['in combination with', 'i kombinasjon med'],
    ['adults', 'voksne'],
    ['children', 'barn'],
    ['patients', 'pasienter'],
    ['disease', 'sykdom'],
    ['carcinoma', 'karsinom'],
    ['lymphoma', 'lymfom'],
    ['leukaemia', 'leukemi'],
    ['leukemia', 'leukemi'],
    ['cancer', 'kreft'],
    ['with', 'med'],
    ['after', 'etter'],
    ['before', 'før'],
    ['of the', ''],
    ['of', 'av'],
    ['for', 'til'],
    ['and', 'og'],
    ['or', 'eller'],
  ] as [string, string][]
).sort((a, b) => b[0].length - a[0].length);

const STOP = new Set([
  'av',
  'til',
  'og',
  'eller',
  'med',
  'i',
  'the',
  'a',
  'an',
  'in',
  'hos',
  'som',
  'behandling',
]);

export const normalise = (text: string): string =>
  text
    .toLowerCase()
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}\s-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** An English indication in the case system's words, as far as the glossary goes. */
export function inNorwegianWords(indication: string): string {
  let text = ` ${normalise(indication)} `;
  for (const [en, no] of GLOSSARY) text = text.replaceAll(` ${en} `, ` ${no} `);
  return text.trim();
}

function trigrams(text: string): Set<string> {
  const words = normalise(text)
    .split(' ')
    .filter((w) => w.length > 0 && !STOP.has(w));
  const grams = new Set<string>();
  for (const word of words) {
    const padded = `  ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) grams.add(padded.slice(i, i + 3));
  }
  return grams;
}

/** Trigrams of national texts, which repeat on every JCA scored against the same catalogue. */
const nationalTrigrams = new Map<string, Set<string>>();
const NATIONAL_TRIGRAMS_KEPT = 20_000;

function trigramsOfNational(text: string): Set<string> {
  let grams = nationalTrigrams.get(text);
  if (!grams) {
    grams = trigrams(text);
    if (nationalTrigrams.size >= NATIONAL_TRIGRAMS_KEPT) nationalTrigrams.clear();
    nationalTrigrams.set(text, grams);
  }
  return grams;
}

/** Dice coefficient of character trigrams, 0 to 1. */
export function indicationSimilarity(
  jcaIndication: string | Set<string>,
  nationalIndication: string,
): number {
  const a = typeof jcaIndication === 'string' ? trigrams(inNorwegianWords(jcaIndication)) : jcaIndication;
  const b = trigramsOfNational(nationalIndication);
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const g of a) if (b.has(g)) shared++;
  return (2 * shared) / (a.size + b.size);
}

/** The substances of an INN text: 'nivolumab + ipilimumab' -> [nivolumab, ipilimumab]. */
export const substancesOf = (inn: string | null | undefined): string[] =>
  (inn ?? '')
    .split(/\s*(?:\+|\/|,|;|\band\b|\bog\b)\s*/i)
    .map((s) => normalise(s))
    .filter(Boolean);

/** How well one national method fits the JCA, with the reasons. */
export function scoreMethod(
  jca: JcaTechnology,
  method: MethodState,
  jcaTrigrams: Set<string> = trigrams(inNorwegianWords(jca.indication)),
): LinkCandidate {
  const reasons: string[] = [];
  let score = 0;
  let substance = false;
  const atc = jca.atcCode?.toUpperCase();
  const codes = method.details.atcCodes ?? [];
  if (atc) {
    if (codes.includes(atc)) {
      score += WEIGHTS.atc;
      substance = true;
      reasons.push(`same ATC code ${atc}`);
    } else if (atc.length >= 5 && codes.some((c) => c.slice(0, 5) === atc.slice(0, 5))) {
      score += WEIGHTS.atc / 3;
      reasons.push(`same ATC chemical subgroup ${atc.slice(0, 5)}`);
    }
  }
  const wanted = substancesOf(jca.inn);
  if (wanted.length > 0) {
    const theirs = new Set((method.details.substances ?? []).map(normalise));
    const matched = wanted.filter((s) => theirs.has(s));
    if (matched.length > 0) {
      // A combination matches fully only when both sides name the same substances.
      const fit = matched.length / Math.max(wanted.length, theirs.size);
      score += WEIGHTS.inn * fit;
      substance = true;
      reasons.push(`INN ${matched.join(' + ')}${fit < 1 ? ' (part of the combination)' : ''}`);
    }
  }
  const national = [method.details.indication, method.details.name].filter(Boolean).join(' ');
  const similarity = national ? indicationSimilarity(jcaTrigrams, national) : 0;
  if (similarity > 0) {
    score += WEIGHTS.indication * Math.min(1, similarity * 1.6);
    reasons.push(`indication ${Math.round(similarity * 100)} % alike`);
  }
  return {
    methodId: method.methodId,
    score: Math.round(score * 1000) / 1000,
    reasons,
    indication: Math.round(similarity * 1000) / 1000,
    substance,
  };
}

/**
 * Scores every method of the catalogue; links the best when it reaches `link` and leads the next by
 * `margin`, lists the candidates when several are close, sees a new indication of a known substance when
 * no candidate's indication is alike, or finds none.
 */
export function decideLink(
  jca: JcaTechnology,
  catalogue: Iterable<MethodState>,
  thresholds: LinkThresholds,
): LinkDecision {
  const candidates: LinkCandidate[] = [];
  const jcaTrigrams = trigrams(inNorwegianWords(jca.indication));
  for (const method of catalogue) {
    const candidate = scoreMethod(jca, method, jcaTrigrams);
    if (candidate.score >= thresholds.candidate) candidates.push(candidate);
  }
  candidates.sort((a, b) => b.score - a.score || a.methodId.localeCompare(b.methodId));
  const listed = candidates.slice(0, MAX_CANDIDATES);
  const [best, second] = listed;
  if (!best) return { outcome: 'NONE', methodIds: [], candidates: [] };
  if (listed.every((c) => c.indication < thresholds.sameIndication) && best.substance) {
    return { outcome: 'NEW_INDICATION', methodIds: [], candidates: listed, sameSubstanceAs: best.methodId };
  }
  if (best.score >= thresholds.link && (!second || best.score - second.score >= thresholds.margin)) {
    return { outcome: 'LINKED', methodIds: [best.methodId], candidates: listed };
  }
  return { outcome: 'AMBIGUOUS', methodIds: [], candidates: listed };
}

/**
 * The plan of the demo: which methods exist, when each was registered, what it is about, how it relates
 * to earlier methods, and how its case ends (its fate). The life of each method is written from its plan.
 */
import type { MethodDetails, MethodLink } from '../../contracts/generated/types.ts';
import { DAY, onWeekday, workingTime } from './calendar.ts';
import { cancerProgrammesFor } from './guidelines.ts';
import type { Random } from './random.ts';
import { type Medicine, medicines, type OtherMethod, otherMethods } from './substances.ts';

export type Fate =
  | 'INTRODUCED'
  | 'INTRODUCED_WITH_CONDITIONS'
  | 'NOT_INTRODUCED'
  | 'TEMPORARILY_INTRODUCED'
  | 'PHASED_OUT'
  | 'SUB_GROUP_PHASED_OUT'
  | 'WITHDRAWN'
  | 'CLOSED_WITHOUT_ASSIGNMENT'
  | 'DECIDED_WITHOUT_DOCUMENTATION'
  | 'LOCAL_MINI_HTA';

export type Subject =
  | { kind: 'medicine'; medicine: Medicine; indication: string }
  | { kind: 'other'; method: OtherMethod };

export interface PlannedMethod {
  methodId: string;
  registeredAt: number;
  subject: Subject;
  /** The earlier method this one re-assesses (same medicine and indication, or same method). */
  reassessmentOf: string | null;
  links: MethodLink[];
  fate: Fate;
  details: MethodDetails;
}

const FIRST_REGISTRATION = Date.UTC(2016, 0, 4);
const LAST_REGISTRATION = Date.UTC(2026, 9, 15);
const MEDICINE_SHARE = 0.78;
/** A method is re-assessed under a new ID two years or more after it was registered. */
const REASSESSMENT_AFTER = 730 * DAY;

const fateWeights: Record<Subject['kind'], Partial<Record<Fate, number>>> = {
  medicine: {
    INTRODUCED: 30,
    INTRODUCED_WITH_CONDITIONS: 16,
    NOT_INTRODUCED: 17,
    TEMPORARILY_INTRODUCED: 4,
    PHASED_OUT: 4,
    SUB_GROUP_PHASED_OUT: 4,
    WITHDRAWN: 8,
    CLOSED_WITHOUT_ASSIGNMENT: 5,
    DECIDED_WITHOUT_DOCUMENTATION: 6,
  },
  other: {
    INTRODUCED: 26,
    INTRODUCED_WITH_CONDITIONS: 10,
    NOT_INTRODUCED: 16,
    TEMPORARILY_INTRODUCED: 6,
    PHASED_OUT: 4,
    SUB_GROUP_PHASED_OUT: 2,
    CLOSED_WITHOUT_ASSIGNMENT: 10,
    LOCAL_MINI_HTA: 26,
  },
};

/** Every fate the demo must show, and the last registration year from which its whole story fits before 2026. */
const requiredFates: readonly [Fate, number][] = [
  ['TEMPORARILY_INTRODUCED', 2018],
  ['PHASED_OUT', 2019],
  ['SUB_GROUP_PHASED_OUT', 2020],
  ['INTRODUCED', 2022],
  ['INTRODUCED_WITH_CONDITIONS', 2022],
  ['NOT_INTRODUCED', 2022],
  ['WITHDRAWN', 2022],
  ['CLOSED_WITHOUT_ASSIGNMENT', 2022],
  ['DECIDED_WITHOUT_DOCUMENTATION', 2022],
  ['LOCAL_MINI_HTA', 2022],
];

const fitsKind = (fate: Fate, kind: Subject['kind']): boolean => (fateWeights[kind][fate] ?? 0) > 0;

/** One medicine indication or one other method: what a proposal can be about. */
interface Candidate {
  subject: Subject;
  /** The earliest year a proposal about it is plausible. */
  year: number;
  key: string;
}

function medicineCandidates(): Candidate[] {
  return medicines.flatMap((medicine) =>
    medicine.indications.map((indication, index) => ({
      subject: { kind: 'medicine' as const, medicine, indication },
      // a medicine's later indications come a couple of years after its first
      year: Math.min(medicine.from + 2 * index, 2026),
      key: `${medicine.brand}|${indication}`,
    })),
  );
}

function otherCandidates(): Candidate[] {
  return otherMethods.map((method) => ({
    subject: { kind: 'other' as const, method },
    year: method.from,
    key: method.name,
  }));
}

/** Registration instants spread evenly from January 2016 to October 2026, each on a weekday. */
function registrationInstants(count: number, random: Random): number[] {
  const spacing = (LAST_REGISTRATION - FIRST_REGISTRATION) / count;
  const instants = Array.from({ length: count }, (_, i) => {
    const day = FIRST_REGISTRATION + Math.floor(spacing * (i + random.next() * 0.9));
    return workingTime(onWeekday(day), random);
  });
  return instants.sort((a, b) => a - b);
}

/** `ID` + year + `_` + three-digit serial, the serial restarting at 001 each year. */
function methodIds(instants: number[]): string[] {
  const serials = new Map<number, number>();
  return instants.map((instant) => {
    const year = new Date(instant).getUTCFullYear();
    const serial = (serials.get(year) ?? 0) + 1;
    serials.set(year, serial);
    return `ID${year}_${String(serial).padStart(3, '0')}`;
  });
}

export function planMethods(count: number, random: Random): PlannedMethod[] {
  const instants = registrationInstants(count, random);
  const ids = methodIds(instants);
  const unused = { medicine: medicineCandidates(), other: otherCandidates() };
  const planned: PlannedMethod[] = [];
  for (const [i, registeredAt] of instants.entries()) {
    const year = new Date(registeredAt).getUTCFullYear();
    const preferred = random.chance(MEDICINE_SHARE) ? 'medicine' : 'other';
    const fallback = preferred === 'medicine' ? 'other' : 'medicine';
    const choice =
      chooseNew(unused[preferred], year, random) ??
      chooseReassessment(planned, preferred, registeredAt - REASSESSMENT_AFTER, random) ??
      chooseNew(unused[fallback], year, random) ??
      chooseReassessment(planned, fallback, registeredAt - REASSESSMENT_AFTER, random) ??
      // only a demo far larger than the catalogue gets here: it re-assesses recent methods too
      chooseReassessment(planned, preferred, registeredAt, random);
    if (!choice) throw new Error(`no subject can be planned for method ${i + 1} in ${year}`);
    const methodId = ids[i]!;
    const fate = random.weighted(fateWeights[choice.subject.kind]);
    planned.push({
      methodId,
      registeredAt,
      subject: choice.subject,
      reassessmentOf: choice.reassessmentOf,
      links: linksFor(choice.subject, choice.reassessmentOf, planned),
      fate,
      details: detailsFor(choice.subject, choice.reassessmentOf !== null, random),
    });
  }
  forceRequiredFates(planned, random);
  return planned;
}

interface Choice {
  subject: Subject;
  reassessmentOf: string | null;
}

/** An unused candidate that is plausible by the given year, favouring ones that have just become so. */
function chooseNew(unused: Candidate[], year: number, random: Random): Choice | null {
  const eligible = unused.filter((c) => c.year <= year);
  if (eligible.length === 0) return null;
  const weights = eligible.map((c) => (year - c.year <= 1 ? 4 : 1));
  let roll = random.next() * weights.reduce((a, b) => a + b, 0);
  let index = 0;
  while (roll >= weights[index]!) roll -= weights[index++]!;
  const chosen = eligible[index]!;
  unused.splice(unused.indexOf(chosen), 1);
  return { subject: chosen.subject, reassessmentOf: null };
}

/** A re-assessment of an earlier method of the same kind, registered before the given instant. */
function chooseReassessment(
  planned: PlannedMethod[],
  kind: Subject['kind'],
  registeredBefore: number,
  random: Random,
): Choice | null {
  const earlier = planned.filter(
    (p) => p.subject.kind === kind && p.reassessmentOf === null && p.registeredAt < registeredBefore,
  );
  if (earlier.length === 0) return null;
  const original = random.pick(earlier);
  return { subject: original.subject, reassessmentOf: original.methodId };
}

function linksFor(subject: Subject, reassessmentOf: string | null, planned: PlannedMethod[]): MethodLink[] {
  if (reassessmentOf) {
    return [
      {
        relation: 'REASSESSMENT_OF',
        target: reassessmentOf,
        note: 'Ny vurdering av samme metode og indikasjon.',
      },
    ];
  }
  if (subject.kind !== 'medicine') return [];
  const substances = new Set(subject.medicine.substances);
  const previous = planned.findLast(
    (p) => p.subject.kind === 'medicine' && p.subject.medicine.substances.some((s) => substances.has(s)),
  );
  if (!previous || previous.subject.kind !== 'medicine') return [];
  if (previous.subject.medicine === subject.medicine) {
    return [
      {
        relation: 'NEW_INDICATION',
        target: previous.methodId,
        note: `Ny indikasjon for ${subject.medicine.brand}.`,
      },
    ];
  }
  const shared = previous.subject.medicine.substances.filter((s) => substances.has(s));
  return [
    {
      relation: 'SAME_SUBSTANCE',
      target: previous.methodId,
      note: `Samme virkestoff: ${shared.join(', ')}.`,
    },
  ];
}

const capitalised = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function detailsFor(subject: Subject, reassessment: boolean, random: Random): MethodDetails {
  const base =
    subject.kind === 'medicine' ? medicineDetails(subject, random) : otherDetails(subject.method, random);
  return reassessment
    ? {
        ...base,
        name: `Revurdering: ${base.name}`,
        shortDescription: 'Ny vurdering av en tidligere beslutning fordi det er kommet ny dokumentasjon.',
        marketingAuthorisation: subject.kind === 'medicine' ? 'GRANTED' : base.marketingAuthorisation,
      }
    : base;
}

function medicineDetails(subject: Extract<Subject, { kind: 'medicine' }>, random: Random): MethodDetails {
  const { medicine, indication } = subject;
  const substances = medicine.substances.join('/');
  return {
    name: `${capitalised(substances)} (${medicine.brand}) til ${indication}`,
    shortDescription: `Forslag om nasjonal metodevurdering av ${medicine.brand} (${substances}).`,
    methodType: 'MEDICINE',
    level: 'NATIONAL',
    specialty: medicine.specialty,
    indication: capitalised(indication),
    substances: medicine.substances,
    atcCodes: [medicine.atc],
    marketingAuthorisation: random.chance(0.6) ? 'APPLIED' : 'GRANTED',
    supplier: medicine.supplier,
    hPrescription: medicine.hPrescription,
    estimatedPatientsPerYear: patientsPerYear(medicine, random),
    guidelineFlags: cancerProgrammesFor(indication),
    assessmentUrl: null,
    supplierConfidentialNote: random.chance(0.1)
      ? 'Leverandøren har varslet en prisendring som er taushetsbelagt.'
      : null,
  };
}

function patientsPerYear(medicine: Medicine, random: Random): number {
  if (medicine.atmp || medicine.specialty === 'Sjeldne sykdommer') return random.between(1, 25);
  if (medicine.specialty === 'Hematologi') return random.between(10, 250);
  if (medicine.specialty === 'Onkologi') return random.between(30, 900);
  return random.between(20, 2000);
}

const methodTypeNames: Record<OtherMethod['methodType'], string> = {
  MEDICAL_DEVICE: 'medisinsk utstyr',
  DIAGNOSTIC_TEST: 'diagnostisk metode',
  PROCEDURE: 'prosedyre',
  ORGANISATIONAL: 'organisatorisk tiltak',
};

function otherDetails(method: OtherMethod, random: Random): MethodDetails {
  return {
    name: method.name,
    shortDescription: `Forslag om nasjonal metodevurdering av ${methodTypeNames[method.methodType]}.`,
    methodType: method.methodType,
    level: 'NATIONAL',
    specialty: method.specialty,
    indication: method.indication,
    substances: [],
    atcCodes: [],
    marketingAuthorisation: 'NOT_APPLICABLE',
    supplier: method.supplier,
    hPrescription: null,
    estimatedPatientsPerYear: random.between(50, 3000),
    guidelineFlags: cancerProgrammesFor(`${method.name} ${method.indication}`),
    assessmentUrl: null,
    supplierConfidentialNote: null,
  };
}

/** Gives each required fate to an early enough method, so even a small demo shows every kind of ending. */
function forceRequiredFates(planned: PlannedMethod[], random: Random): void {
  const forced = new Set<PlannedMethod>();
  const count = (fate: Fate) => planned.filter((p) => p.fate === fate).length;
  for (const [fate, lastYear] of requiredFates) {
    const early = (p: PlannedMethod) => new Date(p.registeredAt).getUTCFullYear() <= lastYear;
    if (planned.some((p) => p.fate === fate && early(p))) {
      const keeper = planned.find((p) => p.fate === fate && early(p) && !forced.has(p));
      if (keeper) forced.add(keeper);
      continue;
    }
    const candidates = planned.filter(
      (p) => early(p) && !forced.has(p) && fitsKind(fate, p.subject.kind) && count(p.fate) > 1,
    );
    if (candidates.length === 0) continue;
    const chosen = random.pick(candidates);
    chosen.fate = fate;
    forced.add(chosen);
  }
}

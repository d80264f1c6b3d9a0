/**
 * Synthetic but lawful method lifecycles for the benchmarks: registration, assignment, assessment (with a
 * pause), price negotiation and a decision, then exceptions and notes up to the length asked for.
 */
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';

const substances = [
  ['pembrolizumab', 'L01FF02', 'Onkologi'],
  ['nivolumab', 'L01FF01', 'Onkologi'],
  ['dupilumab', 'D11AH05', 'Hudsykdommer'],
  ['nusinersen', 'M09AX07', 'Nevrologi'],
  ['ocrelizumab', 'L04AG08', 'Nevrologi'],
] as const;

const DEFAULT_INDICATION = 'Voksne pasienter med behandlingstrengende sykdom etter første linje';
/** An indication Helsedirektoratet's default rules flag (the lung-cancer programme). */
export const FLAGGED_INDICATION =
  'Voksne pasienter med avansert ikke-småcellet lungekreft etter første linje';

export const methodIdOf = (n: number) =>
  `ID${2010 + Math.floor(n / 999)}_${String((n % 999) + 1).padStart(3, '0')}`;

/** A lawful lifecycle: registration to decision, then exceptions and notes up to `length` events. */
export function lifecycle(n: number, length: number, indication = DEFAULT_INDICATION): MethodEvent[] {
  const id = methodIdOf(n);
  const [substance, atc, specialty] = substances[n % substances.length]!;
  let t = Date.UTC(2016, 0, 1) + n * 3_600_000;
  const at = () => {
    t += 86_400_000 * 7;
    return new Date(t).toISOString();
  };
  const day = () => at().slice(0, 10);
  const e = (type: Parameters<typeof methodEvent>[0], detail: unknown) =>
    methodEvent(type, id, detail as never, { occurredAt: at(), actor: 'Sekretariatet for Nye metoder' });
  const events = [
    e('METHOD_REGISTERED', {
      details: {
        name: `${substance} til behandling i ${specialty.toLowerCase()}, forslag ${n}`,
        shortDescription: 'Forslag om nasjonal metodevurdering av legemiddel med ny indikasjon',
        methodType: 'MEDICINE',
        level: 'NATIONAL',
        specialty,
        indication,
        substances: [substance],
        atcCodes: [atc],
        marketingAuthorisation: 'APPLIED',
        supplier: 'Leverandør AS',
        hPrescription: true,
        estimatedPatientsPerYear: 100 + (n % 400),
        guidelineFlags: [],
        assessmentUrl: null,
        supplierConfidentialNote: null,
      },
    }),
    e('STATUS_CHANGED', { from: 'PROPOSAL_RECEIVED', to: 'AWAITING_ORDERING', reason: 'Til Bestillerforum' }),
    e('ASSIGNMENT_ORDERED', {
      assignee: 'SLV',
      slvTrack: 'B',
      fhiProduct: null,
      orderedOn: day(),
      deadline: null,
    }),
    e('ASSESSMENT_STARTED', { startedOn: day(), assessor: 'Statens legemiddelverk' }),
    e('ASSESSMENT_PAUSED', {
      pausedOn: day(),
      waitingFor: 'Dokumentasjon fra leverandør',
      absoluteDeadline: null,
    }),
    e('ASSESSMENT_RESUMED', { resumedOn: day() }),
    e('ASSESSMENT_DELIVERED', { deliveredOn: day(), reportUrl: null, simplified: false }),
    e('STATUS_CHANGED', { from: 'ASSESSMENT_IN_PROGRESS', to: 'ASSESSMENT_COMPLETED', reason: null }),
    e('PRICE_NEGOTIATION_STARTED', { startedOn: day() }),
    e('PRICE_NEGOTIATION_CONCLUDED', {
      concludedOn: day(),
      agreementType: 'FLAT_DISCOUNT',
      publicPriceNoteUrl: null,
      confidentialPriceNoteUrl: null,
    }),
    e('DECISION_MADE', {
      forum: 'BESLUTNINGSFORUM',
      outcome: 'INTRODUCED_WITH_CONDITIONS',
      decidedOn: day(),
      effectiveFrom: null,
      indication: null,
      conditions: ['Innføres under forutsetning av at prisen er lik eller lavere enn avtalt'],
      withoutDocumentation: false,
      withoutDocumentationReason: null,
      temporaryIntroduction: null,
    }),
  ];
  for (let k = events.length; k < length; k++) {
    events.push(
      k % 2 === 0
        ? e('EXCEPTION_GRANTED', {
            exceptionId: `${id}-U${k}`,
            kind: 'INDIVIDUAL_PATIENT',
            scope: null,
            holder: null,
            effectiveOn: day(),
          })
        : e('NOTE_ATTACHED', {
            noteId: `${id}-N${k}`,
            subject: 'Oppfølging',
            text: 'Notat fra sekretariatet om videre oppfølging',
          }),
    );
  }
  return events;
}

/** Where the decision sits in every lifecycle: the events before it are the method's history. */
export const DECISION_INDEX = 10;

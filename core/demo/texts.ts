/** The Norwegian texts of the demo: who acts, and what they write in reasons, conditions, notes and plans. */
import type { Specialty } from './substances.ts';

export const actors = {
  secretariat: 'Sekretariatet for Nye metoder',
  orderingForum: 'Bestillerforum',
  decisionForum: 'Beslutningsforum',
  medicalDirectors: 'Interregionalt fagdirektørmøte',
  hospitalProcurement: 'Sykehusinnkjøp HF, divisjon legemidler',
  publicHealthInstitute: 'Folkehelseinstituttet',
} as const;

/** Statens legemiddelverk became Direktoratet for medisinske produkter on 1 January 2024. */
export function medicinesAgencyOn(instant: number): string {
  return instant < Date.UTC(2024, 0, 1) ? 'Statens legemiddelverk' : 'Direktoratet for medisinske produkter';
}

export const hospitals = [
  'Oslo universitetssykehus HF',
  'Akershus universitetssykehus HF',
  'Helse Bergen HF, Haukeland universitetssjukehus',
  'St. Olavs hospital HF',
  'Universitetssykehuset Nord-Norge HF',
  'Helse Stavanger HF',
  'Sykehuset Innlandet HF',
  'Sørlandet sykehus HF',
  'Vestre Viken HF',
  'Helse Møre og Romsdal HF',
  'Nordlandssykehuset HF',
  'Sykehuset i Vestfold HF',
] as const;

export const regionalHealthAuthorities = [
  'Helse Sør-Øst RHF',
  'Helse Vest RHF',
  'Helse Midt-Norge RHF',
  'Helse Nord RHF',
] as const;

export const statusReasons = {
  horizonScanning: (agency: string) => `Metodevarsel utarbeides av ${agency}.`,
  awaitingOrdering: 'Saken er satt opp til behandling i Bestillerforum.',
  assessmentCompleted: 'Metodevurderingen er behandlet og godkjent i Bestillerforum.',
  awaitingDecision: 'De regionale helseforetakene forbereder saken for Beslutningsforum.',
} as const;

export const waitingFor = [
  'Oppdatert helseøkonomisk modell fra leverandøren',
  'Svar fra leverandøren på spørsmål om overlevelsesdata',
  'Nye data fra pågående fase III-studie',
  'Klinisk vurdering fra oppnevnte fageksperter',
  'Avklaring med fagmiljøet om relevant komparator',
  'Dokumentasjon av langtidseffekt fra leverandøren',
  'Oversettelse av pasientnære data fra leverandøren',
] as const;

export const withdrawalNotes = [
  'Leverandøren har trukket søknaden om markedsføringstillatelse i Europa.',
  'Leverandøren har meldt at de ikke vil sende inn dokumentasjon for denne indikasjonen.',
  'Leverandøren har besluttet ikke å markedsføre legemiddelet i Norge.',
  'Forslagsstilleren har trukket forslaget etter dialog med fagmiljøet.',
] as const;

export const notAssignedNotes = [
  'Bestillerforum gir ikke oppdrag om metodevurdering: metoden er allerede i bruk og regnes ikke som ny.',
  'Bestillerforum gir ikke oppdrag: indikasjonen dekkes av en tidligere beslutning i Beslutningsforum.',
  'Bestillerforum gir ikke oppdrag: det finnes for lite dokumentasjon til at en metodevurdering er mulig nå.',
  'Bestillerforum avslutter saken: spørsmålet håndteres i nasjonal faglig retningslinje i stedet.',
] as const;

export const localEndingNote =
  'Mini-metodevurderingen er publisert i den nasjonale databasen; beslutning om innføring tas av ledelsen i helseforetaket.';

export const withoutDocumentationNotes = {
  NOT_INTRODUCED:
    'Leverandøren har meldt at dokumentasjon ikke vil bli sendt inn. Fagdirektørene avgjør saken uten metodevurdering.',
  INTRODUCED:
    'Metoden er etablert i klinisk praksis og har lav kostnad. Fagdirektørene avgjør saken uten metodevurdering.',
} as const;

export const decisionConditions = [
  'Behandlingen skal startes og følges opp av spesialist med erfaring i behandling av tilstanden.',
  'Prisen skal være lik eller lavere enn prisen som ligger til grunn for beslutningen.',
  'Metoden kan tas i bruk fra det tidspunktet ny pris er gjort gjeldende.',
  'Bruken skal registreres i nasjonalt medisinsk kvalitetsregister.',
  'Behandlingen skal avsluttes ved sykdomsprogresjon eller uakseptable bivirkninger.',
  'Effekten skal vurderes etter seks måneder, og behandlingen avsluttes dersom målene ikke er nådd.',
  'Det skal gjennomføres anbud når det er konkurranse i markedet.',
] as const;

export function narrowedIndication(specialty: Specialty): string {
  return specialty === 'Onkologi' || specialty === 'Hematologi'
    ? 'begrenset til pasienter med god allmenntilstand (ECOG 0–1)'
    : 'begrenset til pasienter som ikke har effekt av eller ikke tåler etablert behandling';
}

export const individualExceptionScope = (hospital: string): string =>
  `Én pasient ved ${hospital} med behov for behandling før beslutning foreligger`;

export const groupExceptionScopes = [
  'Pasienter som har startet behandling i klinisk studie eller tidlig tilgangsprogram, kan fortsette',
  'Barn med rask sykdomsutvikling og uten andre behandlingsmuligheter',
  'Pasienter med livstruende sykdom der annen behandling ikke er aktuell',
  'Pasienter som ikke tåler dagens standardbehandling på grunn av alvorlige bivirkninger',
] as const;

/** Sub-groups a decided method can be phased out for (delvis utfasing), each with its reason. */
export const subGroupPhaseOuts = [
  {
    subGroup: 'Nye pasienter i andrelinjebehandling',
    reason:
      'Nyere behandling er nå førstevalg i andre linje. Pasienter som står på behandling, kan fullføre.',
  },
  {
    subGroup: 'Pasienter uten effekt etter tolv måneders behandling',
    reason: 'Oppdaterte data viser liten nytte av å fortsette behandlingen når effekten uteblir.',
  },
  {
    subGroup: 'Behandling ut over to års varighet',
    reason: 'Langtidsdata viser ingen gevinst av å behandle lenger enn to år.',
  },
  {
    subGroup: 'Oppstart hos pasienter med langtkommet sykdom',
    reason: 'Dokumentasjonen gir ikke grunnlag for å starte behandling så sent i sykdomsforløpet.',
  },
] as const;

/** Why a whole method is phased out (utfaset). */
export const phaseOutReasons = [
  'Nyere behandling med bedre dokumentert effekt er innført. Pasienter som står på behandling, kan fullføre.',
  'Erstattes av rimeligere, likeverdig behandling etter nytt anbud.',
  'Oppdatert dokumentasjon viser ikke tilstrekkelig nytte. Pasienter som står på behandling, kan fullføre.',
  'Leverandøren har avregistrert legemiddelet i Norge.',
] as const;

export const reassessmentReasons = {
  temporaryIntroductionEnds: 'Den midlertidige innføringen går ut; metoden revurderes med data fra perioden.',
  newPriceOffer: 'Leverandøren har kommet med et nytt pristilbud etter beslutningen om ikke å innføre.',
  beforePhaseOut: 'Nye behandlingsalternativer er kommet til, og plassen i behandlingen vurderes på nytt.',
} as const;

export const outcomeMeasures = [
  'Totaloverlevelse etter to år',
  'Progresjonsfri overlevelse',
  'Helserelatert livskvalitet målt med EQ-5D',
  'Andel pasienter med behandlingsrespons etter tolv måneder',
  'Alvorlige bivirkninger og behandlingsavbrudd',
  'Antall sykehusinnleggelser per pasient og år',
] as const;

export function dataPlanFor(specialty: Specialty): string {
  const register =
    specialty === 'Onkologi' || specialty === 'Hematologi'
      ? 'Kreftregisteret'
      : 'et nasjonalt medisinsk kvalitetsregister';
  return `Data om alle behandlede pasienter registreres i ${register} og rapporteres årlig til Bestillerforum.`;
}

export const exitPlan =
  'Viser revurderingen ikke tilstrekkelig nytte, avsluttes bruken for nye pasienter; pasienter som har startet, kan fullføre behandlingen.';

export const priceNegotiationSentBackNote = {
  subject: 'Sendt tilbake til prisforhandling',
  text: 'Beslutningsforum ba Sykehusinnkjøp forhandle videre med leverandøren før saken behandles på nytt.',
} as const;

export const caseNotes: readonly { subject: string; text: (agency: string, hospital: string) => string }[] = [
  {
    subject: 'Fageksperter oppnevnt',
    text: (_agency, hospital) =>
      `Kliniske eksperter fra ${hospital} er oppnevnt for å bistå i metodevurderingen.`,
  },
  {
    subject: 'Innspill fra pasientorganisasjon',
    text: () => 'Innspill fra pasientorganisasjonen er mottatt og lagt ved saken til Bestillerforum.',
  },
  {
    subject: 'Dokumentasjon mottatt',
    text: (agency) => `Leverandøren har sendt inn dokumentasjonspakke til ${agency}.`,
  },
  {
    subject: 'Avklaring om komparator',
    text: () =>
      'Sekretariatet har avklart med fagmiljøet hvilken behandling det er relevant å sammenligne med.',
  },
  {
    subject: 'Oppdatert tidsplan',
    text: () => 'Forventet ferdigstillelse er utsatt fordi det ventes på tilleggsdokumentasjon.',
  },
  {
    subject: 'Tilbakemelding til forslagsstiller',
    text: () => 'Forslagsstilleren er orientert om at saken er til behandling i Nye metoder.',
  },
  {
    subject: 'Alvorlighetsgrad',
    text: (agency) =>
      `${agency} har beregnet absolutt prognosetap for pasientgruppen som grunnlag for vurderingen.`,
  },
];

/**
 * The life of one method: every event from the proposal to its last decision, written from its plan along
 * the canonical lifecycle (core/lifecycle/transitions.ts). The whole life is written whatever the cut-off,
 * so a cut-off only ever hides its later events.
 */
import type {
  Assignment,
  Decision,
  DecisionForum,
  DecisionOutcome,
  MethodDetails,
  MethodEvent,
  MethodEventType,
  MethodException,
  MethodStatus,
  PriceAgreementType,
  SlvTrack,
} from '../../contracts/generated/types.ts';
import type { detailFieldOf } from '../lifecycle/applyEvent.ts';
import { methodEvent } from '../lifecycle/eventBuilder.ts';
import {
  DAY,
  dateAfter,
  firstOrFifteenthAfter,
  isoInstant,
  localDate,
  meetingTime,
  mondayFrom,
  onWeekday,
  startOfDay,
  workingTime,
} from './calendar.ts';
import {
  decidedDuringAssessment,
  demoRegions,
  newPriceOfferNote,
  regionHolder,
  regionName,
  trustHolder,
  withoutDocumentationReasons,
} from './decisionCases.ts';
import { demoEventId } from './eventIds.ts';
import {
  type ForcedPause,
  forcedPauseOf,
  recordsDocumentationComplete,
  reassessmentWait,
} from './followUpCases.ts';
import type { Fate, PlannedMethod } from './plan.ts';
import { derivedSeed, type Random, seededRandom } from './random.ts';
import type { Specialty } from './substances.ts';
import {
  actors,
  caseNotes,
  dataPlanFor,
  decisionConditions,
  exitPlan,
  groupExceptionScopes,
  hospitals,
  individualExceptionScope,
  localEndingNote,
  medicinesAgencyOn,
  narrowedIndication,
  notAssignedNotes,
  outcomeMeasures,
  phaseOutReasons,
  priceNegotiationSentBackNote,
  reassessmentReasons,
  statusReasons,
  subGroupPhaseOuts,
  waitingFor,
  withdrawalNotes,
  withoutDocumentationNotes,
} from './texts.ts';

type EventType = Exclude<MethodEventType, 'UNKNOWN'>;
type DetailOf<T extends EventType> = NonNullable<MethodEvent[(typeof detailFieldOf)[T]]>;
type Track = Exclude<SlvTrack, 'UNKNOWN'>;

const MINUTE = 60_000;
/** Events beside the main path land on the half minute, so they never tie with a step of the case. */
const ASIDE = 30_000;

/** The status each step of the main path moves the method to (STATUS_CHANGED and PHASED_OUT say it themselves). */
const movesTo: Partial<Record<EventType, MethodStatus>> = {
  ASSIGNMENT_ORDERED: 'ASSESSMENT_ORDERED',
  ASSESSMENT_STARTED: 'ASSESSMENT_IN_PROGRESS',
  PRICE_NEGOTIATION_STARTED: 'PRICE_NEGOTIATION',
  PRICE_NEGOTIATION_CONCLUDED: 'AWAITING_DECISION',
  DECISION_MADE: 'DECIDED',
  REASSESSMENT_STARTED: 'REASSESSMENT',
  METHOD_CLOSED: 'CLOSED',
};

/** An event before it has its place in the method's sequence; a details change keeps only what changed. */
interface Draft {
  at: number;
  type: EventType;
  detail: DetailOf<EventType> | null;
  patch: Partial<MethodDetails> | null;
  actor: string;
}

/** The method's clock, its status along the main path, and the events written so far. */
class Life {
  readonly drafts: Draft[] = [];
  /** Exceptions granted and not yet overridden. */
  readonly openExceptions: MethodException[] = [];
  status: MethodStatus = 'PROPOSAL_RECEIVED';
  clock: number;
  decidedAt: number | null = null;
  closedAt: number | null = null;
  assessmentPublished = false;
  private exceptionCount = 0;
  private noteCount = 0;

  constructor(
    readonly plan: PlannedMethod,
    readonly random: Random,
  ) {
    this.clock = plan.registeredAt;
  }

  get id(): string {
    return this.plan.methodId;
  }

  get today(): string {
    return localDate(this.clock);
  }

  get isMedicine(): boolean {
    return this.plan.subject.kind === 'medicine';
  }

  get specialty(): Specialty {
    const subject = this.plan.subject;
    return subject.kind === 'medicine' ? subject.medicine.specialty : subject.method.specialty;
  }

  /** Moves the clock on by min..max whole days (at least one), to working hours on a weekday. */
  wait(minDays: number, maxDays = minDays): void {
    const low = Math.max(1, Math.round(minDays));
    const days = this.random.between(low, Math.max(low, Math.round(maxDays)));
    this.clock = workingTime(onWeekday(startOfDay(this.clock) + days * DAY), this.random);
  }

  /** Moves the clock on to a forum meeting, on the first Monday at least min..max days later. */
  meeting(minDays: number, maxDays: number): void {
    const days = this.random.between(Math.max(1, minDays), Math.max(1, minDays, maxDays));
    this.clock = meetingTime(mondayFrom(startOfDay(this.clock) + days * DAY), this.random);
  }

  /** A step of the case, now. */
  add<T extends EventType>(type: T, detail: DetailOf<T>, actor: string): void {
    this.drafts.push({ at: this.clock, type, detail, patch: null, actor });
    this.status = movesTo[type] ?? this.status;
  }

  changeStatus(to: MethodStatus, reason: string, actor: string): void {
    this.add('STATUS_CHANGED', { from: this.status, to, reason }, actor);
    this.status = to;
  }

  /** Something beside the main path (a note, an exception, a link) at the given instant. */
  addAside<T extends EventType>(at: number, type: T, detail: DetailOf<T>, actor: string): void {
    this.drafts.push({ at, type, detail, patch: null, actor });
  }

  changeDetails(at: number, patch: Partial<MethodDetails>, actor: string): void {
    this.drafts.push({ at, type: 'DETAILS_CHANGED', detail: null, patch, actor });
  }

  /** An instant on a weekday strictly between two days, or null when there is no whole day between them. */
  asideBetween(from: number, to: number): number | null {
    const firstDay = startOfDay(from) + DAY;
    const lastDay = startOfDay(to) - DAY;
    if (lastDay < firstDay) return null;
    const day = onWeekday(firstDay + this.random.between(0, (lastDay - firstDay) / DAY) * DAY);
    return day > lastDay ? null : workingTime(day, this.random) + ASIDE;
  }

  /** An instant on a weekday min..max days after the clock, beside the main path. */
  asideAfter(minDays: number, maxDays: number): number {
    const day = onWeekday(startOfDay(this.clock) + this.random.between(minDays, maxDays) * DAY);
    return workingTime(day, this.random) + ASIDE;
  }

  nextExceptionId(prefix: 'EPU' | 'GU'): string {
    this.exceptionCount += 1;
    return `${prefix}-${this.id}-${this.exceptionCount}`;
  }

  nextNoteId(): string {
    this.noteCount += 1;
    return `NOTAT-${this.id}-${this.noteCount}`;
  }

  get lastAt(): number {
    return Math.max(...this.drafts.map((d) => d.at));
  }
}

/** Every event of one method, in order, with ids and sequence numbers that depend only on seed and method. */
export function methodLife(plan: PlannedMethod, seed: number): MethodEvent[] {
  const life = new Life(plan, seededRandom(derivedSeed(seed, plan.methodId)));
  register(life);
  live(life);
  attachCaseNotes(life);
  grantMarketingAuthorisation(life);
  return eventsOf(life, seed);
}

function eventsOf(life: Life, seed: number): MethodEvent[] {
  const ordered = [...life.drafts].sort((a, b) => a.at - b.at);
  let details = life.plan.details;
  return ordered.map((draft, index) => {
    if (draft.patch) details = { ...details, ...draft.patch };
    const detail = draft.patch ? { details } : draft.detail!;
    return methodEvent(draft.type, life.id, detail, {
      eventId: demoEventId(seed, life.id, index),
      occurredAt: isoInstant(draft.at),
      source: 'case-system',
      actor: draft.actor,
      sourceSequence: index + 1,
    });
  });
}

function register(life: Life): void {
  life.add('METHOD_REGISTERED', { details: life.plan.details }, actors.secretariat);
  for (const link of life.plan.links) {
    life.addAside(
      life.clock + life.random.between(60, 180) * MINUTE + ASIDE,
      'METHOD_LINKED',
      link,
      actors.secretariat,
    );
  }
}

function live(life: Life): void {
  proposal(life);
  switch (life.plan.fate) {
    case 'CLOSED_WITHOUT_ASSIGNMENT':
      closeWithoutAssignment(life);
      break;
    case 'DECIDED_WITHOUT_DOCUMENTATION':
      if (decidedDuringAssessment(life.id)) {
        decideDuringAssessment(life);
        break;
      }
      decide(life, life.random.chance(0.75) ? 'NOT_INTRODUCED' : 'INTRODUCED', 'MEDICAL_DIRECTORS');
      break;
    case 'WITHDRAWN':
      withdrawDuringAssessment(life);
      break;
    default:
      assessAndDecide(life);
  }
}

/** The supplier withdraws before the assessment has started, or while it runs. */
function withdrawDuringAssessment(life: Life): void {
  const assignment = orderAssessment(life, life.plan.reassessmentOf !== null);
  if (!life.random.chance(0.4)) startAssessment(life, assignment);
  withdraw(life);
}

function assessAndDecide(life: Life): void {
  const assignment = orderAssessment(life, life.plan.reassessmentOf !== null);
  const assessor = startAssessment(life, assignment);
  runAssessment(life, assignment, assessor);
  approve(life);
  if (life.plan.fate === 'LOCAL_MINI_HTA') {
    endLocally(life);
    return;
  }
  const outcome = firstOutcome(life.plan.fate, life.random);
  prepareDecision(life, outcome);
  followUp(life, decide(life, outcome));
}

/** From proposal to Bestillerforum's agenda, often by way of a method alert (metodevarsel). */
function proposal(life: Life): void {
  if (life.random.chance(life.isMedicine ? 0.5 : 0.3)) {
    life.wait(3, 20);
    const agency = life.isMedicine ? medicinesAgencyOn(life.clock) : actors.publicHealthInstitute;
    life.changeStatus('HORIZON_SCANNING', statusReasons.horizonScanning(agency), agency);
    life.wait(20, 90);
  } else {
    life.wait(5, 30);
  }
  life.changeStatus('AWAITING_ORDERING', statusReasons.awaitingOrdering, actors.secretariat);
}

function closeWithoutAssignment(life: Life): void {
  life.meeting(14, 60);
  life.add(
    'METHOD_CLOSED',
    { reason: 'CLOSED_WITHOUT_ASSIGNMENT', note: life.random.pick(notAssignedNotes) },
    actors.orderingForum,
  );
  life.closedAt = life.clock;
}

function withdraw(life: Life): void {
  life.wait(20, 200);
  life.add(
    'METHOD_CLOSED',
    { reason: 'WITHDRAWN', note: life.random.pick(withdrawalNotes) },
    actors.secretariat,
  );
  life.closedAt = life.clock;
}

const trackDeadlineDays: Record<Track, number> = { A: 365, B: 270, C: 180, D: 90 };
const trackWorkDays: Record<Track, [number, number]> = {
  A: [240, 420],
  B: [150, 270],
  C: [80, 160],
  D: [25, 70],
};
const fhiWorkDays: Record<string, [number, number]> = { FULL_HTA: [300, 600], RAPID_HTA: [120, 250] };
const LOCAL_WORK_DAYS: [number, number] = [60, 180];

function orderAssessment(life: Life, reassessment: boolean): Assignment {
  life.meeting(14, 60);
  const assignment = assignmentFor(life, reassessment);
  life.add('ASSIGNMENT_ORDERED', assignment, actors.orderingForum);
  if (assignment.assignee === 'LOCAL') {
    life.changeDetails(life.clock + 2 * 60 * MINUTE + ASIDE, { level: 'LOCAL' }, actors.secretariat);
  }
  return assignment;
}

function assignmentFor(life: Life, reassessment: boolean): Assignment {
  const orderedOn = life.today;
  const { random, plan } = life;
  if (plan.fate === 'LOCAL_MINI_HTA') {
    return { assignee: 'LOCAL', slvTrack: null, fhiProduct: null, orderedOn, deadline: null };
  }
  if (plan.subject.kind === 'other') {
    const product = random.chance(0.35) ? 'FULL_HTA' : 'RAPID_HTA';
    const deadline = dateAfter(orderedOn, product === 'FULL_HTA' ? 540 : 240);
    return { assignee: 'FHI', slvTrack: null, fhiProduct: product, orderedOn, deadline };
  }
  const track: Track = plan.subject.medicine.atmp
    ? 'A'
    : random.weighted<Track>(reassessment ? { B: 20, C: 50, D: 30 } : { A: 12, B: 25, C: 38, D: 25 });
  // medicines that need a new test in the clinic are assessed by SLV and FHI together
  const withFhi = (track === 'A' || track === 'B') && random.chance(0.06);
  return {
    assignee: withFhi ? 'SLV_AND_FHI' : 'SLV',
    slvTrack: track,
    fhiProduct: withFhi ? 'RAPID_HTA' : null,
    orderedOn,
    deadline: dateAfter(orderedOn, trackDeadlineDays[track]),
  };
}

function workDays(assignment: Assignment): [number, number] {
  if (assignment.slvTrack && assignment.slvTrack !== 'UNKNOWN') return trackWorkDays[assignment.slvTrack];
  if (assignment.fhiProduct) return fhiWorkDays[assignment.fhiProduct] ?? LOCAL_WORK_DAYS;
  return LOCAL_WORK_DAYS;
}

/** The assessment starts once the documentation is in: for SLV, when the supplier has sent it. */
function startAssessment(life: Life, assignment: Assignment): string {
  if (assignment.assignee === 'LOCAL' || assignment.slvTrack === 'D') life.wait(7, 45);
  else if (assignment.assignee === 'FHI') life.wait(14, 60);
  else life.wait(14, 150);
  const agency = medicinesAgencyOn(life.clock);
  const assessor = {
    SLV: agency,
    SLV_AND_FHI: `${agency} og ${actors.publicHealthInstitute}`,
    FHI: actors.publicHealthInstitute,
    LOCAL: life.random.pick(hospitals),
    OTHER: actors.secretariat,
  }[assignment.assignee];
  life.add('ASSESSMENT_STARTED', { startedOn: life.today, assessor }, assessor);
  if (recordsDocumentationComplete(assignment))
    life.addAside(
      life.clock + 45 * MINUTE,
      'DOCUMENTATION_COMPLETED',
      { completedOn: life.today, note: null },
      assessor,
    );
  return assessor;
}

const changedTrack: Record<Track, Track[]> = { A: ['B'], B: ['A', 'C'], C: ['B', 'D'], D: ['C'] };

function runAssessment(life: Life, assignment: Assignment, assessor: string): void {
  const { random } = life;
  const startedAt = life.clock;
  let workTotal = random.between(...workDays(assignment));
  const track = assignment.slvTrack;
  if (track && track !== 'UNKNOWN' && track !== 'A' && random.chance(0.1)) {
    // Bestillerforum changes the track once it has seen what the documentation holds
    life.meeting(15, 45);
    const newTrack = random.pick(changedTrack[track]);
    const deadline = dateAfter(life.today, trackDeadlineDays[newTrack]);
    life.add(
      'ASSIGNMENT_CHANGED',
      { ...assignment, slvTrack: newTrack, orderedOn: life.today, deadline },
      actors.orderingForum,
    );
    workTotal = Math.max(daysBetween(startedAt, life.clock) + 20, random.between(...trackWorkDays[newTrack]));
  }
  const pauses = pauseForDocumentation(life, assessor, workTotal - daysBetween(startedAt, life.clock));
  if (!pauses.simplified) {
    const worked = daysBetween(startedAt, life.clock) - pauses.pausedDays;
    life.wait(Math.max(5, workTotal - worked));
  }
  life.add(
    'ASSESSMENT_DELIVERED',
    { deliveredOn: life.today, reportUrl: reportUrlOf(life.id), simplified: pauses.simplified },
    assessor,
  );
  if (life.isMedicine) grantExceptionsDuring(life, startedAt, life.clock);
}

const daysBetween = (from: number, to: number): number => Math.round((to - from) / DAY);

/**
 * Zero, one or two pauses while the assessor waits for the supplier. `simplified` tells that an absolute
 * deadline passed, so the assessment is finished on the documentation at hand and delivered right away.
 */
function pauseForDocumentation(
  life: Life,
  assessor: string,
  workDaysLeft: number,
): { simplified: boolean; pausedDays: number } {
  const { random } = life;
  const forced = forcedPauseOf(life.id);
  if (forced) return pausePastDeadline(life, assessor, forced);
  const pauses = random.chance(0.3) ? (random.chance(0.25) ? 2 : 1) : 0;
  let pausedDays = 0;
  for (let i = 0; i < pauses; i++) {
    life.wait(10, Math.max(11, workDaysLeft * 0.5));
    const pausedAt = life.clock;
    const limit = random.chance(0.5) ? 90 : 180;
    life.add(
      'ASSESSMENT_PAUSED',
      {
        pausedOn: life.today,
        waitingFor: random.pick(waitingFor),
        absoluteDeadline: dateAfter(life.today, limit),
      },
      assessor,
    );
    if (random.chance(0.15)) {
      life.wait(limit + 5, limit + 30);
      return { simplified: true, pausedDays };
    }
    life.wait(10, Math.min(limit - 5, 150));
    life.add('ASSESSMENT_RESUMED', { resumedOn: life.today }, assessor);
    pausedDays += daysBetween(pausedAt, life.clock);
  }
  return { simplified: false, pausedDays };
}

/** One pause whose absolute deadline passes long before the simplified assessment (core/demo/followUpCases.ts). */
function pausePastDeadline(
  life: Life,
  assessor: string,
  forced: ForcedPause,
): { simplified: boolean; pausedDays: number } {
  life.wait(...forced.after);
  life.add(
    'ASSESSMENT_PAUSED',
    {
      pausedOn: life.today,
      waitingFor: life.random.pick(waitingFor),
      absoluteDeadline: dateAfter(life.today, forced.limitDays),
    },
    assessor,
  );
  life.wait(...forced.simplifiedAfter);
  return { simplified: true, pausedDays: 0 };
}

const reportUrlOf = (methodId: string): string =>
  `https://www.nyemetoder.no/metoder/${methodId.toLowerCase()}/metodevurdering.pdf`;

const publicPageOf = (methodId: string): string =>
  `https://www.nyemetoder.no/metoder/${methodId.toLowerCase()}`;

/** Patients who cannot wait for the decision: one patient (enkeltpasientunntak) or a group (gruppeunntak). */
function grantExceptionsDuring(life: Life, from: number, to: number): void {
  const { random } = life;
  if (random.chance(0.15)) {
    for (let n = random.between(1, 2); n > 0; n--) {
      const at = life.asideBetween(from, to);
      if (at !== null) grantIndividualException(life, at);
    }
  }
  if (random.chance(0.07)) {
    const at = life.asideBetween(from, to);
    if (at === null) return;
    const exception: MethodException = {
      exceptionId: life.nextExceptionId('GU'),
      kind: 'GROUP',
      scope: random.pick(groupExceptionScopes),
      holder: regionHolder(random.pick(demoRegions)),
      effectiveOn: localDate(at),
    };
    life.addAside(at, 'EXCEPTION_GRANTED', exception, actors.medicalDirectors);
    life.openExceptions.push(exception);
  }
}

function grantIndividualException(life: Life, at: number): void {
  const trust = life.random.pick(hospitals);
  const holder = trustHolder(trust);
  const exception: MethodException = {
    exceptionId: life.nextExceptionId('EPU'),
    kind: 'INDIVIDUAL_PATIENT',
    scope: individualExceptionScope(trust),
    holder,
    effectiveOn: localDate(at),
  };
  life.addAside(at, 'EXCEPTION_GRANTED', exception, `Fagdirektøren i ${regionName[holder.rhf]}`);
  life.openExceptions.push(exception);
}

function approve(life: Life): void {
  life.meeting(7, 40);
  life.changeStatus('ASSESSMENT_COMPLETED', statusReasons.assessmentCompleted, actors.orderingForum);
}

/** A mini-HTA ends at the hospital: it is published, and the hospital's management decides. */
function endLocally(life: Life): void {
  life.wait(7, 30);
  life.changeDetails(life.clock, { assessmentUrl: publicPageOf(life.id) }, actors.secretariat);
  life.assessmentPublished = true;
  life.wait(7, 60);
  life.add('METHOD_CLOSED', { reason: 'ENDED', note: localEndingNote }, actors.secretariat);
  life.closedAt = life.clock;
}

function firstOutcome(fate: Fate, random: Random): DecisionOutcome {
  switch (fate) {
    case 'INTRODUCED_WITH_CONDITIONS':
    case 'NOT_INTRODUCED':
    case 'TEMPORARILY_INTRODUCED':
      return fate;
    case 'PHASED_OUT':
    case 'SUB_GROUP_PHASED_OUT':
      return random.chance(0.6) ? 'INTRODUCED' : 'INTRODUCED_WITH_CONDITIONS';
    default:
      return 'INTRODUCED';
  }
}

/** Medicines go to Sykehusinnkjøp for a price; other methods straight to the regional health authorities. */
function prepareDecision(life: Life, outcome: DecisionOutcome): void {
  if (!life.isMedicine) {
    life.wait(14, 60);
    life.changeStatus('AWAITING_DECISION', statusReasons.awaitingDecision, actors.secretariat);
    return;
  }
  negotiatePrice(life, outcome, 2);
  if (outcome !== 'NOT_INTRODUCED' && life.random.chance(0.08)) {
    // Beslutningsforum sends the case back for a better price
    life.meeting(14, 45);
    const note = { noteId: life.nextNoteId(), ...priceNegotiationSentBackNote };
    life.addAside(life.clock + 60 * MINUTE + ASIDE, 'NOTE_ATTACHED', note, actors.decisionForum);
    negotiatePrice(life, outcome, 0);
  }
}

function negotiatePrice(life: Life, outcome: DecisionOutcome, daysBeforeStart: number): void {
  if (daysBeforeStart > 0) life.wait(daysBeforeStart, 14);
  else life.clock += 2 * 60 * MINUTE; // later on the same meeting day
  life.add('PRICE_NEGOTIATION_STARTED', { startedOn: life.today }, actors.hospitalProcurement);
  life.wait(20, 120);
  const agreementType: PriceAgreementType =
    outcome === 'NOT_INTRODUCED'
      ? life.random.weighted({ NO_AGREEMENT: 50, FLAT_DISCOUNT: 50 })
      : life.random.weighted({ FLAT_DISCOUNT: 80, PRICE_VOLUME: 10, OUTCOME_BASED: 4, NO_AGREEMENT: 6 });
  const agreed = agreementType !== 'NO_AGREEMENT';
  life.add(
    'PRICE_NEGOTIATION_CONCLUDED',
    {
      concludedOn: life.today,
      agreementType,
      publicPriceNoteUrl: agreed
        ? `https://www.sykehusinnkjop.no/prisnotater/${life.id.toLowerCase()}`
        : null,
      confidentialPriceNoteUrl: agreed ? `https://intern.sykehusinnkjop.no/prisnotater/${life.id}.pdf` : null,
    },
    actors.hospitalProcurement,
  );
}

function decide(life: Life, outcome: DecisionOutcome, forum: DecisionForum = 'BESLUTNINGSFORUM'): Decision {
  const { random } = life;
  life.meeting(14, 60);
  const decidedOn = life.today;
  const withoutDocumentation = forum === 'MEDICAL_DIRECTORS';
  const narrowed = outcome === 'INTRODUCED_WITH_CONDITIONS' && random.chance(0.5);
  const decision: Decision = {
    forum,
    outcome,
    decidedOn,
    effectiveFrom: outcome === 'NOT_INTRODUCED' ? null : firstOrFifteenthAfter(decidedOn, 7),
    indication: narrowed ? `${life.plan.details.indication}, ${narrowedIndication(life.specialty)}` : null,
    conditions:
      outcome === 'INTRODUCED_WITH_CONDITIONS'
        ? random.shuffled(decisionConditions).slice(0, random.between(2, 3))
        : [],
    withoutDocumentation,
    withoutDocumentationReason: withoutDocumentation
      ? withoutDocumentationReasons[
          life.status === 'ASSESSMENT_IN_PROGRESS' ? 'duringAssessment' : 'beforeAssessment'
        ]
      : null,
    temporaryIntroduction:
      outcome === 'TEMPORARILY_INTRODUCED' ? temporaryIntroduction(life, decidedOn) : null,
  };
  life.add('DECISION_MADE', decision, withoutDocumentation ? actors.medicalDirectors : actors.decisionForum);
  life.decidedAt ??= life.clock;
  if (withoutDocumentation) {
    const text = withoutDocumentationNotes[outcome === 'NOT_INTRODUCED' ? 'NOT_INTRODUCED' : 'INTRODUCED'];
    const note = { noteId: life.nextNoteId(), subject: 'Avgjort uten dokumentasjon', text };
    life.addAside(life.clock + 60 * MINUTE + ASIDE, 'NOTE_ATTACHED', note, actors.secretariat);
  } else {
    publishAssessment(life);
  }
  overrideExceptions(life, decision);
  return decision;
}

function temporaryIntroduction(
  life: Life,
  decidedOn: string,
): NonNullable<Decision['temporaryIntroduction']> {
  const { random } = life;
  return {
    reassessBy: dateAfter(decidedOn, random.pick([730, 1095])),
    outcomeMeasures: random.shuffled(outcomeMeasures).slice(0, random.between(2, 3)),
    dataPlan: dataPlanFor(life.specialty),
    exitPlan,
  };
}

function publishAssessment(life: Life): void {
  if (life.assessmentPublished) return;
  life.changeDetails(life.asideAfter(2, 15), { assessmentUrl: publicPageOf(life.id) }, actors.secretariat);
  life.assessmentPublished = true;
}

/** A decision overrides most exceptions granted while the method was under assessment, from a given date. */
function overrideExceptions(life: Life, decision: Decision): void {
  const effectiveOn = decision.effectiveFrom ?? dateAfter(decision.decidedOn, 14);
  for (const exception of [...life.openExceptions]) {
    if (!life.random.chance(0.75)) continue;
    life.addAside(
      life.asideAfter(1, 10),
      'EXCEPTION_OVERRIDDEN',
      { ...exception, effectiveOn },
      actors.decisionForum,
    );
    life.openExceptions.splice(life.openExceptions.indexOf(exception), 1);
  }
}

function followUp(life: Life, decision: Decision): void {
  const { random } = life;
  switch (life.plan.fate) {
    case 'TEMPORARILY_INTRODUCED':
      reassessTemporaryIntroduction(life, decision);
      break;
    case 'NOT_INTRODUCED':
      if (life.isMedicine && random.chance(0.3)) reconsiderNewPriceOffer(life);
      else if (life.isMedicine && random.chance(0.25))
        grantIndividualException(life, life.asideAfter(30, 400));
      break;
    case 'PHASED_OUT':
      phaseOut(life);
      break;
    case 'SUB_GROUP_PHASED_OUT': {
      life.meeting(400, 1400);
      const { subGroup, reason } = random.pick(subGroupPhaseOuts);
      const effectiveFrom = dateAfter(life.today, random.between(0, 45));
      life.add('PHASED_OUT', { effectiveFrom, subGroup, reason }, actors.decisionForum);
      break;
    }
    default:
      break;
  }
}

/** Near the re-assessment date a temporary introduction (midlertidig innføring) is assessed again and decided anew. */
function reassessTemporaryIntroduction(life: Life, decision: Decision): void {
  const daysLeft = daysBetween(life.clock, Date.parse(decision.temporaryIntroduction!.reassessBy));
  life.wait(...reassessmentWait(life.id, daysLeft));
  life.add(
    'REASSESSMENT_STARTED',
    { startedOn: life.today, reason: reassessmentReasons.temporaryIntroductionEnds },
    actors.secretariat,
  );
  const assignment = orderAssessment(life, true);
  const assessor = startAssessment(life, assignment);
  runAssessment(life, assignment, assessor);
  approve(life);
  const outcome = life.random.weighted({
    INTRODUCED: 40,
    INTRODUCED_WITH_CONDITIONS: 35,
    NOT_INTRODUCED: 25,
  });
  prepareDecision(life, outcome);
  decide(life, outcome);
}

/** After "not introduced" a new price offer goes straight to a new price negotiation and a new decision (004:874). */
function reconsiderNewPriceOffer(life: Life): void {
  life.wait(60, 500);
  const note = { noteId: life.nextNoteId(), ...newPriceOfferNote };
  life.addAside(life.clock, 'NOTE_ATTACHED', note, actors.hospitalProcurement);
  const outcome = life.random.chance(0.5) ? 'INTRODUCED' : 'INTRODUCED_WITH_CONDITIONS';
  negotiatePrice(life, outcome, 3);
  decide(life, outcome);
}

function phaseOut(life: Life): void {
  if (life.random.chance(0.5)) {
    life.wait(500, 1500);
    life.add(
      'REASSESSMENT_STARTED',
      { startedOn: life.today, reason: reassessmentReasons.beforePhaseOut },
      actors.secretariat,
    );
    life.meeting(60, 200);
  } else {
    life.meeting(500, 1500);
  }
  life.add(
    'PHASED_OUT',
    {
      effectiveFrom: dateAfter(life.today, life.random.between(0, 60)),
      subGroup: null,
      reason: life.random.pick(phaseOutReasons),
    },
    actors.decisionForum,
  );
  life.status = 'PHASED_OUT';
}

function attachCaseNotes(life: Life): void {
  const { random } = life;
  const count = random.chance(0.55) ? (random.chance(0.36) ? 2 : 1) : 0;
  const end = life.closedAt ?? life.lastAt;
  for (let i = 0; i < count; i++) {
    const at = life.asideBetween(life.plan.registeredAt, end);
    if (at === null) return;
    const note = random.pick(caseNotes);
    const text = note.text(medicinesAgencyOn(at), random.pick(hospitals));
    life.addAside(
      at,
      'NOTE_ATTACHED',
      { noteId: life.nextNoteId(), subject: note.subject, text },
      actors.secretariat,
    );
  }
}

/** A medicine proposed before its marketing authorisation gets it while the case runs, before any decision. */
function grantMarketingAuthorisation(life: Life): void {
  if (life.plan.details.marketingAuthorisation !== 'APPLIED' || life.plan.fate === 'WITHDRAWN') return;
  const from = life.plan.registeredAt + 20 * DAY;
  const until = Math.min(life.plan.registeredAt + 330 * DAY, life.decidedAt ?? life.closedAt ?? life.lastAt);
  const at = life.asideBetween(from, until);
  if (at !== null) life.changeDetails(at, { marketingAuthorisation: 'GRANTED' }, actors.secretariat);
}

/** The medical directors decide while the assessment waits for documentation that cannot be had (002:51). */
function decideDuringAssessment(life: Life): void {
  const assignment = orderAssessment(life, life.plan.reassessmentOf !== null);
  const assessor = startAssessment(life, assignment);
  life.wait(20, 90);
  life.add(
    'ASSESSMENT_PAUSED',
    {
      pausedOn: life.today,
      waitingFor: life.random.pick(waitingFor),
      absoluteDeadline: dateAfter(life.today, 90),
    },
    assessor,
  );
  life.wait(95, 130);
  decide(life, life.random.chance(0.75) ? 'NOT_INTRODUCED' : 'INTRODUCED', 'MEDICAL_DIRECTORS');
}

/**
 * Pure functions between Nye metoder's contracts and SLV's case table (`nm_methodcases` on Dynamics 365):
 * which method events need work at SLV and what they write; how a changed SLV row becomes a case update;
 * how a case update becomes a method event. No I/O; table-tested in mapping.test.ts.
 */
import { osloDateOf } from '../../core/time/oslo.ts';
import { createHash } from 'node:crypto';
import type {
  MethodEvent,
  MethodState,
  SlvCaseUpdate,
  SlvChangeKind,
} from '../../contracts/generated/types.ts';
import { contractFor } from '../../core/contracts/catalogue.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { methodIdError } from '../../core/lifecycle/identifiers.ts';
import type { SlvCase, SlvCaseChanges } from './client.ts';
import { Topics } from '../../contracts/topics.ts';

/** SLV's own status texts (nm_status) and what they mean. */
export const slvStatus = {
  ordered: 'Bestilt',
  inAssessment: 'Under vurdering',
  clockStopped: 'Klokken stoppet',
  delivered: 'Levert',
  priceNegotiation: 'Prisforhandling',
  awaitingDecision: 'Til beslutning',
  introduced: 'Innført',
  introducedWithConditions: 'Innført med vilkår',
  temporarilyIntroduced: 'Midlertidig innført',
  notIntroduced: 'Ikke innført',
  decided: 'Besluttet',
  reassessmentOrdered: 'Revurdering bestilt',
  phasedOut: 'Utfaset',
  closed: 'Avsluttet',
} as const;
const knownStatuses = new Set<string>(Object.values(slvStatus));
/** Statuses SLV sets while working: an assignment re-sent from Nye metoder must not set them back to Bestilt. */
const slvWorkStatuses = new Set<string>([
  slvStatus.inAssessment,
  slvStatus.clockStopped,
  slvStatus.delivered,
]);

export const SLV_SOURCE = 'slv';
const eventsContract = contractFor(Topics.methodEvents);

/** What one method event asks of SLV. */
export type SlvWork =
  | { kind: 'case'; methodId: string; eventId: string; changes: SlvCaseChanges; createIfMissing: boolean }
  | { kind: 'note'; methodId: string; eventId: string; subject: string; text: string };

const assignedToSlv = (state: MethodState | undefined): boolean =>
  state?.assignment?.assignee === 'SLV' || state?.assignment?.assignee === 'SLV_AND_FHI';

const decisionStatus: Record<string, string> = {
  INTRODUCED: slvStatus.introduced,
  INTRODUCED_WITH_CONDITIONS: slvStatus.introducedWithConditions,
  TEMPORARILY_INTRODUCED: slvStatus.temporarilyIntroduced,
  NOT_INTRODUCED: slvStatus.notIntroduced,
};

/** SLV's status text for where the method stands in Nye metoder. */
export function slvStatusOf(state: MethodState): string {
  switch (state.status) {
    case 'ASSESSMENT_IN_PROGRESS':
      if (state.assessmentDelivered) return slvStatus.delivered;
      return state.paused ? slvStatus.clockStopped : slvStatus.inAssessment;
    case 'ASSESSMENT_COMPLETED':
      return slvStatus.delivered;
    case 'PRICE_NEGOTIATION':
      return slvStatus.priceNegotiation;
    case 'AWAITING_DECISION':
      return slvStatus.awaitingDecision;
    case 'DECIDED':
      return decisionStatus[state.decision?.outcome ?? ''] ?? slvStatus.decided;
    case 'REASSESSMENT':
      return slvStatus.reassessmentOrdered;
    case 'PHASED_OUT':
      return slvStatus.phasedOut;
    case 'CLOSED':
      return slvStatus.closed;
    default:
      return slvStatus.ordered;
  }
}

/** The case record at SLV as the method's state says it should read: every column Nye metoder owns. */
export function slvCaseRecordOf(state: MethodState): SlvCaseChanges {
  const track = state.assignment?.slvTrack;
  const list = (values: string[]) => (values.length > 0 ? values.join(',').slice(0, 400) : null);
  return {
    nm_name: state.details.name,
    nm_track: track && track !== 'UNKNOWN' ? track : null,
    nm_assignmentdate: state.assignment?.orderedOn ?? null,
    nm_deadline: state.assignment?.deadline ?? null,
    nm_status: slvStatusOf(state),
    nm_substance: list(state.details.substances),
    nm_atccodes: list(state.details.atcCodes)?.slice(0, 200) ?? null,
    nm_indication: state.details.indication?.slice(0, 2000) ?? null,
    nm_absolutedeadline: state.paused?.absoluteDeadline ?? null,
  };
}

/** Why the status changed, in SLV's status reason column; undefined leaves SLV's text as it is. */
function statusReasonOf(event: MethodEvent): string | null | undefined {
  switch (event.type) {
    case 'REASSESSMENT_STARTED':
      return event.reassessmentStarted!.reason;
    case 'STATUS_CHANGED':
      return event.statusChanged!.reason;
    case 'METHOD_CLOSED':
      return event.closed!.note ?? `Avsluttet i Nye metoder (${event.closed!.reason})`;
    case 'ASSESSMENT_PAUSED':
      return event.assessmentPaused!.waitingFor;
    case 'DECISION_MADE': {
      const decision = event.decision!;
      const forum = decision.forum === 'MEDICAL_DIRECTORS' ? 'Fagdirektørmøtet' : 'Beslutningsforum';
      const scope = decision.indication ? `: ${decision.indication}` : '';
      return `Besluttet i ${forum} ${decision.decidedOn}${scope}`.slice(0, 2000);
    }
    default:
      return undefined;
  }
}

/**
 * The work an event needs at SLV, given the method's state before and after it; undefined when none.
 * A case write carries the columns whose value the event changed, so the case stays current through
 * the method's whole life. Events that came from SLV are never sent back.
 */
export function slvWorkFor(
  event: MethodEvent,
  before: MethodState | undefined,
  after: MethodState,
): SlvWork | undefined {
  if (event.source === SLV_SOURCE) return undefined;
  const { methodId, eventId } = event;
  if (!assignedToSlv(after)) {
    if (!assignedToSlv(before) || !event.assignment) return undefined;
    return {
      kind: 'case',
      methodId,
      eventId,
      changes: {
        nm_status: slvStatus.closed,
        nm_statusreason: `Oppdraget er flyttet fra SLV til ${event.assignment.assignee} i Bestillerforum ${event.assignment.orderedOn}`,
        nm_sourceeventid: eventId,
      },
      createIfMissing: false,
    };
  }
  if (event.type === 'NOTE_ATTACHED') {
    const note = event.note!;
    return {
      kind: 'note',
      methodId,
      eventId,
      subject: noteSubject(note.noteId, note.subject),
      text: note.text,
    };
  }
  const newlyAssigned = event.type === 'ASSIGNMENT_ORDERED' || !assignedToSlv(before);
  const record = slvCaseRecordOf(after);
  const previous = newlyAssigned || !before ? undefined : slvCaseRecordOf(before);
  const changes: SlvCaseChanges = {};
  for (const [column, value] of Object.entries(record) as [keyof SlvCaseChanges, string | null][]) {
    if (!previous || previous[column] !== value) changes[column] = value;
  }
  if (Object.keys(changes).length === 0) return undefined;
  const reason = changes.nm_status !== undefined ? statusReasonOf(event) : undefined;
  if (reason !== undefined) changes.nm_statusreason = reason;
  return {
    kind: 'case',
    methodId,
    eventId,
    changes: { ...changes, nm_sourceeventid: eventId },
    createIfMissing: newlyAssigned,
  };
}

/** A note's subject at SLV carries the Nye metoder note id, so a note sent twice is recognised. */
export const noteSubject = (noteId: string, subject: string): string =>
  `[${noteId}] ${subject}`.slice(0, 500);

/**
 * Our changes, merged onto the case as SLV has it now (first write and after a 412): the columns Nye
 * metoder owns are ours; SLV's status is kept when SLV has moved on from "Bestilt" and we would only set it
 * back. Every other column SLV edited meanwhile is untouched, since PATCH sends only ours.
 */
export function mergeOntoCurrent(ours: SlvCaseChanges, current: SlvCase | undefined): SlvCaseChanges {
  if (!current) return ours;
  const merged = { ...ours };
  if (merged.nm_status === slvStatus.ordered && current.nm_status && slvWorkStatuses.has(current.nm_status)) {
    delete merged.nm_status;
  }
  return merged;
}

/** What the inbound side remembers of each case: enough to tell what an SLV edit changed. */
export interface CaseSnapshot {
  methodId: string;
  status: string | null;
  statusReason: string | null;
  name: string | null;
  reportUrl: string | null;
  /** Absent in state files written before it was kept. */
  absoluteDeadline?: string | null;
  /** The row version seen (absent in state files written before versions were kept). */
  version?: number;
  /** Set when this version is our own write, until change tracking shows it back (confirmed). */
  ownEventId?: string | null;
}

export const snapshotOf = (row: SlvCase, ownEventId: string | null = null): CaseSnapshot => ({
  methodId: row.nm_nyemetoderid,
  status: row.nm_status,
  statusReason: row.nm_statusreason,
  name: row.nm_name,
  reportUrl: row.nm_reporturl,
  absoluteDeadline: row.nm_absolutedeadline ?? null,
  version: row.versionnumber,
  ownEventId,
});

/** The same columns, whatever version or ownership was recorded. */
export const sameCase = (a: CaseSnapshot, b: CaseSnapshot): boolean =>
  a.status === b.status &&
  a.statusReason === b.statusReason &&
  a.name === b.name &&
  a.reportUrl === b.reportUrl &&
  (a.absoluteDeadline ?? null) === (b.absoluteDeadline ?? null);

/**
 * A write to SLV about to be sent, kept until its answer is recorded: the values it writes, so a row
 * read after a crash in between is told ours (it holds them) from SLV's edit of it (it does not).
 */
export interface IntendedWrite {
  eventId: string;
  /** The case as our write leaves it (no version: that is known only from the answer). */
  expected: CaseSnapshot;
}

/** The write intended, from the case as read before it (none for a create) and the columns sent. */
export function intendedWrite(
  methodId: string,
  eventId: string,
  current: SlvCase | undefined,
  changes: SlvCaseChanges,
): IntendedWrite {
  const pick = <K extends keyof SlvCaseChanges>(column: K): string | null =>
    column in changes
      ? (changes[column] ?? null)
      : ((current?.[column] as string | null | undefined) ?? null);
  return {
    eventId,
    expected: {
      methodId,
      status: pick('nm_status'),
      statusReason: pick('nm_statusreason'),
      name: pick('nm_name'),
      reportUrl: current?.nm_reporturl ?? null,
      absoluteDeadline: pick('nm_absolutedeadline'),
    },
  };
}

/** Whether our intended write is in the row: it carries our event id (SLV's edits keep it) or all our values. */
export const writeLanded = (row: SlvCase, intended: IntendedWrite): boolean =>
  row.nm_sourceeventid === intended.eventId || sameCase(snapshotOf(row), intended.expected);

/** Whether a row is a version already seen (ours or theirs), so it carries no edit made at SLV. */
export const alreadySeen = (previous: CaseSnapshot | undefined, row: SlvCase): boolean =>
  previous?.version !== undefined && row.versionnumber <= previous.version;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A row from change tracking, checked: every problem named, so a malformed row can be dead-lettered with its reason. */
export function caseFromRow(raw: unknown): { ok: true; row: SlvCase } | { ok: false; reason: string } {
  if (!raw || typeof raw !== 'object') return { ok: false, reason: 'MALFORMED_SLV_ROW: not a JSON object' };
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof r.nm_methodcaseid !== 'string' || !GUID.test(r.nm_methodcaseid))
    problems.push(`nm_methodcaseid ${JSON.stringify(r.nm_methodcaseid)} is not a GUID`);
  const idError = methodIdError(r.nm_nyemetoderid);
  if (idError) problems.push(`nm_nyemetoderid: ${idError.reason}`);
  if (typeof r.versionnumber !== 'number') problems.push('versionnumber is missing or not a number');
  if (typeof r.modifiedon !== 'string' || Number.isNaN(Date.parse(r.modifiedon)))
    problems.push(`modifiedon ${JSON.stringify(r.modifiedon)} is not a timestamp`);
  for (const column of [
    'nm_name',
    'nm_status',
    'nm_statusreason',
    'nm_reporturl',
    'nm_sourceeventid',
    'nm_substance',
    'nm_atccodes',
    'nm_indication',
  ]) {
    if (r[column] !== undefined && r[column] !== null && typeof r[column] !== 'string')
      problems.push(`${column} is not text`);
  }
  if (typeof r.nm_reporturl === 'string' && !/^https?:\/\/\S+$/.test(r.nm_reporturl))
    problems.push(`nm_reporturl "${r.nm_reporturl}" is not an http(s) URL`);
  if (
    r.nm_absolutedeadline !== undefined &&
    r.nm_absolutedeadline !== null &&
    (typeof r.nm_absolutedeadline !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(r.nm_absolutedeadline))
  )
    problems.push(`nm_absolutedeadline ${JSON.stringify(r.nm_absolutedeadline)} is not a date (YYYY-MM-DD)`);
  if (problems.length > 0) {
    const who = typeof r.nm_methodcaseid === 'string' ? ` case ${r.nm_methodcaseid}` : '';
    return { ok: false, reason: `MALFORMED_SLV_ROW:${who} ${problems.join('; ')}` };
  }
  const row = {
    nm_name: null,
    nm_track: null,
    nm_status: null,
    nm_statusreason: null,
    nm_assignmentdate: null,
    nm_deadline: null,
    nm_reporturl: null,
    nm_sourceeventid: null,
    nm_substance: null,
    nm_atccodes: null,
    nm_indication: null,
    nm_absolutedeadline: null,
    ...r,
  } as SlvCase;
  return { ok: true, row };
}

/** What an edit at SLV was, from the case before (when known) and after. */
export function changeKindOf(
  previous: CaseSnapshot | undefined,
  row: SlvCase,
): { kind: SlvChangeKind; text: string | null } {
  if (previous?.status !== row.nm_status) {
    switch (row.nm_status) {
      case slvStatus.inAssessment:
        return {
          kind: previous?.status === slvStatus.clockStopped ? 'CLOCK_RESTARTED' : 'ASSESSMENT_STARTED',
          text: row.nm_statusreason,
        };
      case slvStatus.clockStopped:
        return { kind: 'CLOCK_STOPPED', text: row.nm_statusreason };
      case slvStatus.delivered:
        return { kind: 'REPORT_DELIVERED', text: row.nm_statusreason };
      default:
        return { kind: 'STATUS_EDITED', text: row.nm_statusreason };
    }
  }
  if (previous.statusReason !== row.nm_statusreason)
    return { kind: 'TEXT_EDITED', text: row.nm_statusreason };
  if (previous.name !== row.nm_name) return { kind: 'TEXT_EDITED', text: row.nm_name };
  if ((previous.absoluteDeadline ?? null) !== row.nm_absolutedeadline)
    return {
      kind: 'TEXT_EDITED',
      text: row.nm_absolutedeadline
        ? `Absolutt frist satt til ${row.nm_absolutedeadline} hos DMP`
        : 'Absolutt frist fjernet hos DMP',
    };
  return { kind: 'STATUS_EDITED', text: row.nm_statusreason };
}

export { osloDateOf };

/** The stable id of a change: the row and its version, so a replayed delta gives the same id. */
export const changeIdOf = (row: SlvCase): string => `${row.nm_methodcaseid}:${row.versionnumber}`;

/**
 * The case update of a changed row. `ownEventId` is set only when the row is the version our own write
 * produced (an echo); a marker column cannot tell, since SLV's edits keep it.
 */
export function caseUpdateOf(
  row: SlvCase,
  previous: CaseSnapshot | undefined,
  ownEventId: string | null = null,
): SlvCaseUpdate {
  const { kind, text } = changeKindOf(previous, row);
  return {
    changeId: changeIdOf(row),
    methodId: row.nm_nyemetoderid,
    slvCaseId: row.nm_methodcaseid,
    kind,
    changedAt: new Date(row.modifiedon).toISOString(),
    slvStatus: row.nm_status,
    text,
    effectiveOn: osloDateOf(row.modifiedon),
    reportUrl: row.nm_reporturl,
    absoluteDeadline: row.nm_absolutedeadline,
    originEventId: ownEventId,
  };
}

/** A name-based UUID (version 5 layout over SHA-1) for the method event of an SLV change. */
export function eventIdOfChange(changeId: string): string {
  const bytes = createHash('sha1').update(`metodehub-slv:${changeId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type CanonicalOutcome =
  | { outcome: 'events'; events: MethodEvent[] }
  | { outcome: 'none'; why: string }
  | { outcome: 'refused'; reason: string };

/** SLV changes that mean the assessment has started, even when change tracking never showed "Under vurdering". */
const impliesStarted = new Set<SlvChangeKind>(['CLOCK_STOPPED', 'REPORT_DELIVERED']);

/**
 * The canonical method events of an SLV change, given the method's current state. Echoes of our own writes
 * and plain status edits give none. Change tracking shows only a case's latest version, so two edits
 * between reads arrive as one: a stopped clock or a delivered report on an assessment not yet started
 * brings its ASSESSMENT_STARTED first.
 */
export function methodEventsOf(update: SlvCaseUpdate, state: MethodState | undefined): CanonicalOutcome {
  if (update.originEventId) {
    return { outcome: 'none', why: `echo of Nye metoder event ${update.originEventId}` };
  }
  const idError = methodIdError(update.methodId);
  if (idError)
    return { outcome: 'refused', reason: `MALFORMED_SLV_CHANGE ${update.changeId}: ${idError.reason}` };
  const day = update.effectiveOn ?? osloDateOf(update.changedAt);
  // Through the contract's type, so a replayed change gives exactly the event the log holds.
  const build = (type: Parameters<typeof methodEvent>[0], detail: unknown, idSuffix = ''): MethodEvent => ({
    ...(eventsContract.type.clone(
      methodEvent(type, update.methodId, detail as never, {
        eventId: eventIdOfChange(`${update.changeId}${idSuffix}`),
        occurredAt: update.changedAt,
        source: SLV_SOURCE,
        actor: 'SLV',
      }),
    ) as MethodEvent),
  });
  const events = (...list: MethodEvent[]): CanonicalOutcome => ({ outcome: 'events', events: list });
  const catchUp =
    impliesStarted.has(update.kind) && state?.status === 'ASSESSMENT_ORDERED'
      ? [build('ASSESSMENT_STARTED', { startedOn: day, assessor: 'SLV' }, ':started')]
      : [];
  switch (update.kind) {
    case 'ASSESSMENT_STARTED':
      return events(build('ASSESSMENT_STARTED', { startedOn: day, assessor: 'SLV' }));
    case 'CLOCK_STOPPED':
      return events(
        ...catchUp,
        build('ASSESSMENT_PAUSED', {
          pausedOn: day,
          waitingFor: update.text,
          absoluteDeadline: update.absoluteDeadline,
        }),
      );
    case 'CLOCK_RESTARTED':
      if (state && state.status === 'ASSESSMENT_IN_PROGRESS' && !state.paused)
        return { outcome: 'none', why: 'the clock runs already' };
      return events(build('ASSESSMENT_RESUMED', { resumedOn: day }));
    case 'REPORT_DELIVERED':
      return events(
        ...catchUp,
        build('ASSESSMENT_DELIVERED', { deliveredOn: day, reportUrl: update.reportUrl, simplified: false }),
      );
    case 'TEXT_EDITED':
    case 'NOTE_ADDED':
      return events(
        build('NOTE_ATTACHED', {
          noteId: update.changeId,
          subject: update.kind === 'TEXT_EDITED' ? 'Tekst endret hos SLV' : 'Notat fra SLV',
          text: update.text ?? '',
        }),
      );
    case 'STATUS_EDITED':
      if (update.slvStatus !== null && knownStatuses.has(update.slvStatus))
        return { outcome: 'none', why: `SLV set its status to "${update.slvStatus}", which needs no event` };
      return {
        outcome: 'refused',
        reason: `UNKNOWN_SLV_STATUS: case ${update.slvCaseId} of ${update.methodId} has status ${JSON.stringify(update.slvStatus)}; known: ${[...knownStatuses].join(', ')}`,
      };
    default:
      return {
        outcome: 'refused',
        reason: `UNKNOWN_SLV_CHANGE: change ${update.changeId} of ${update.methodId} is of kind ${update.kind}`,
      };
  }
}

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

/** SLV's own status texts (nm_status) and what they mean. */
export const slvStatus = {
  ordered: 'Bestilt',
  inAssessment: 'Under vurdering',
  clockStopped: 'Klokken stoppet',
  delivered: 'Levert',
  reassessmentOrdered: 'Revurdering bestilt',
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
const eventsContract = contractFor('nyemetoder.method-events.v1');

/** What one method event asks of SLV. */
export type SlvWork =
  | { kind: 'case'; methodId: string; eventId: string; changes: SlvCaseChanges; createIfMissing: boolean }
  | { kind: 'note'; methodId: string; eventId: string; subject: string; text: string };

const assignedToSlv = (state: MethodState | undefined): boolean =>
  state?.assignment?.assignee === 'SLV' || state?.assignment?.assignee === 'SLV_AND_FHI';

/**
 * The work an event needs at SLV, given the method's state before and after it; undefined when none.
 * Events that came from SLV are never sent back.
 */
export function slvWorkFor(
  event: MethodEvent,
  before: MethodState | undefined,
  after: MethodState,
): SlvWork | undefined {
  if (event.source === SLV_SOURCE) return undefined;
  const { methodId, eventId } = event;
  const caseWork = (changes: SlvCaseChanges, createIfMissing = false): SlvWork => ({
    kind: 'case',
    methodId,
    eventId,
    changes: { ...changes, nm_sourceeventid: eventId },
    createIfMissing,
  });
  switch (event.type) {
    case 'ASSIGNMENT_ORDERED':
    case 'ASSIGNMENT_CHANGED': {
      const assignment = event.assignment!;
      if (!assignedToSlv(after)) {
        return assignedToSlv(before)
          ? caseWork({
              nm_status: slvStatus.closed,
              nm_statusreason: `Oppdraget er flyttet fra SLV til ${assignment.assignee} i Bestillerforum ${assignment.orderedOn}`,
            })
          : undefined;
      }
      const track = assignment.slvTrack && assignment.slvTrack !== 'UNKNOWN' ? assignment.slvTrack : null;
      return caseWork(
        {
          nm_name: after.details.name,
          nm_track: track,
          nm_assignmentdate: assignment.orderedOn,
          nm_deadline: assignment.deadline,
          ...(event.type === 'ASSIGNMENT_ORDERED' || !assignedToSlv(before)
            ? { nm_status: slvStatus.ordered }
            : {}),
        },
        true,
      );
    }
    case 'REASSESSMENT_STARTED':
      return assignedToSlv(after)
        ? caseWork({
            nm_status: slvStatus.reassessmentOrdered,
            nm_statusreason: event.reassessmentStarted!.reason,
          })
        : undefined;
    case 'STATUS_CHANGED': {
      if (!assignedToSlv(after)) return undefined;
      const { to, reason } = event.statusChanged!;
      if (to === 'REASSESSMENT')
        return caseWork({ nm_status: slvStatus.reassessmentOrdered, nm_statusreason: reason });
      if (to === 'CLOSED') return caseWork({ nm_status: slvStatus.closed, nm_statusreason: reason });
      return undefined;
    }
    case 'METHOD_CLOSED':
      return assignedToSlv(after)
        ? caseWork({
            nm_status: slvStatus.closed,
            nm_statusreason: event.closed!.note ?? `Avsluttet i Nye metoder (${event.closed!.reason})`,
          })
        : undefined;
    case 'DETAILS_CHANGED':
      return assignedToSlv(after) && before?.details.name !== after.details.name
        ? caseWork({ nm_name: after.details.name })
        : undefined;
    case 'NOTE_ATTACHED': {
      if (!assignedToSlv(after)) return undefined;
      const note = event.note!;
      return {
        kind: 'note',
        methodId,
        eventId,
        subject: noteSubject(note.noteId, note.subject),
        text: note.text,
      };
    }
    default:
      return undefined;
  }
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
  version: row.versionnumber,
  ownEventId,
});

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
  for (const column of ['nm_name', 'nm_status', 'nm_statusreason', 'nm_reporturl', 'nm_sourceeventid']) {
    if (r[column] !== undefined && r[column] !== null && typeof r[column] !== 'string')
      problems.push(`${column} is not text`);
  }
  if (typeof r.nm_reporturl === 'string' && !/^https?:\/\/\S+$/.test(r.nm_reporturl))
    problems.push(`nm_reporturl "${r.nm_reporturl}" is not an http(s) URL`);
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
        build('ASSESSMENT_PAUSED', { pausedOn: day, waitingFor: update.text, absoluteDeadline: null }),
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

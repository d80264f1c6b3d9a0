/**
 * The method state machine: folds one event into a method's state, or says why it cannot.
 * Pure: the same state and event always give the same answer, so replay, time travel and the live
 * projection all share it.
 */
import type {
  MethodDetails,
  MethodEvent,
  MethodEventType,
  MethodState,
} from '../../contracts/generated/types.ts';
import { type DomainError, domainError, type Result } from './errors.ts';
import { atcCodeError, methodIdError } from './identifiers.ts';
import { beforeAssessment, inAssessment, isAllowed, type Status } from './transitions.ts';

/** The detail field each event type must carry (and no other). */
export const detailFieldOf = {
  METHOD_REGISTERED: 'registered',
  DETAILS_CHANGED: 'detailsChanged',
  STATUS_CHANGED: 'statusChanged',
  ASSIGNMENT_ORDERED: 'assignment',
  ASSIGNMENT_CHANGED: 'assignment',
  ASSESSMENT_STARTED: 'assessmentStarted',
  ASSESSMENT_PAUSED: 'assessmentPaused',
  ASSESSMENT_RESUMED: 'assessmentResumed',
  DOCUMENTATION_COMPLETED: 'documentationCompleted',
  ASSESSMENT_DELIVERED: 'assessmentDelivered',
  PRICE_NEGOTIATION_STARTED: 'priceNegotiationStarted',
  PRICE_NEGOTIATION_CONCLUDED: 'priceNegotiationConcluded',
  DECISION_MADE: 'decision',
  REASSESSMENT_STARTED: 'reassessmentStarted',
  PHASED_OUT: 'phasedOut',
  EXCEPTION_GRANTED: 'exception',
  EXCEPTION_OVERRIDDEN: 'exception',
  METHOD_LINKED: 'link',
  NOTE_ATTACHED: 'note',
  METHOD_CLOSED: 'closed',
} as const satisfies Record<Exclude<MethodEventType, 'UNKNOWN'>, keyof MethodEvent>;

const detailFields = [...new Set(Object.values(detailFieldOf))];

/** Checks an event on its own, before any state: identifiers, the one detail its type needs, dates. */
export function eventShapeErrors(event: MethodEvent): DomainError[] {
  const errors: DomainError[] = [];
  const idError = methodIdError(event.methodId);
  if (idError) errors.push(idError);
  if (event.type === 'UNKNOWN' || !(event.type in detailFieldOf)) {
    errors.push(domainError('UNKNOWN_EVENT_TYPE', `event type ${event.type} is not one this hub knows`));
    return errors;
  }
  const expected = detailFieldOf[event.type as Exclude<MethodEventType, 'UNKNOWN'>];
  if (event[expected] === null || event[expected] === undefined) {
    errors.push(domainError('MISSING_DETAIL', `${event.type} must carry "${expected}"`));
  }
  for (const field of detailFields) {
    if (field !== expected && event[field] !== null && event[field] !== undefined) {
      errors.push(
        domainError('UNEXPECTED_DETAIL', `${event.type} must not carry "${field}"; only "${expected}"`),
      );
    }
  }
  const details = event.registered?.details ?? event.detailsChanged?.details;
  if (details) errors.push(...detailsErrors(details));
  const d = event.decision;
  if (d) {
    if (d.effectiveFrom && d.effectiveFrom < d.decidedOn) {
      errors.push(
        domainError(
          'INVALID_DATES',
          `${event.methodId}: effectiveFrom ${d.effectiveFrom} is before decidedOn ${d.decidedOn}`,
        ),
      );
    }
    const t = d.temporaryIntroduction;
    if (d.outcome === 'TEMPORARILY_INTRODUCED') {
      const missing = [
        !t && 'temporaryIntroduction',
        t && !t.reassessBy && 'reassessBy',
        t && t.outcomeMeasures.length === 0 && 'outcomeMeasures',
        t && !t.dataPlan.trim() && 'dataPlan',
        t && !t.exitPlan.trim() && 'exitPlan',
      ].filter(Boolean);
      if (missing.length > 0) {
        errors.push(
          domainError(
            'INCOMPLETE_TEMPORARY_INTRODUCTION',
            `${event.methodId}: a temporary introduction must carry ${missing.join(', ')}`,
          ),
        );
      } else if (t && t.reassessBy <= d.decidedOn) {
        errors.push(
          domainError(
            'INVALID_DATES',
            `${event.methodId}: reassessBy ${t.reassessBy} is not after decidedOn`,
          ),
        );
      }
    } else if (t) {
      errors.push(
        domainError(
          'UNEXPECTED_DETAIL',
          `${event.methodId}: temporaryIntroduction given for outcome ${d.outcome}`,
        ),
      );
    }
  }
  const a = event.assignment;
  if (a && (a.assignee === 'SLV' || a.assignee === 'SLV_AND_FHI') && !a.slvTrack) {
    errors.push(
      domainError('MISSING_SLV_TRACK', `${event.methodId}: an assignment to SLV must name its track (A-D)`),
    );
  }
  return errors;
}

function detailsErrors(details: MethodDetails): DomainError[] {
  const errors: DomainError[] = [];
  for (const code of details.atcCodes ?? []) {
    const error = atcCodeError(code);
    if (error) errors.push(error);
  }
  return errors;
}

/** The status an event moves the method to, given where it is; null when it does not move it. */
function targetStatus(state: MethodState, event: MethodEvent): Status | null {
  switch (event.type) {
    case 'STATUS_CHANGED':
      return event.statusChanged!.to as Status;
    case 'ASSIGNMENT_ORDERED':
      return 'ASSESSMENT_ORDERED';
    case 'ASSESSMENT_STARTED':
      return 'ASSESSMENT_IN_PROGRESS';
    case 'PRICE_NEGOTIATION_STARTED':
      return 'PRICE_NEGOTIATION';
    case 'PRICE_NEGOTIATION_CONCLUDED':
      return 'AWAITING_DECISION';
    case 'DECISION_MADE':
      return 'DECIDED';
    case 'REASSESSMENT_STARTED':
      return 'REASSESSMENT';
    case 'PHASED_OUT':
      return event.phasedOut!.subGroup ? null : 'PHASED_OUT';
    case 'METHOD_CLOSED':
      return 'CLOSED';
    default:
      return state.status === 'CLOSED' && !['METHOD_LINKED', 'NOTE_ATTACHED'].includes(event.type)
        ? 'CLOSED' // any other change to a closed case is itself an illegal transition, caught below
        : null;
  }
}

/** Conditions that are not about the status graph but about the state the method is in. */
function stateRuleErrors(state: MethodState, event: MethodEvent): DomainError[] {
  const id = event.methodId;
  const inAssessment = state.status === 'ASSESSMENT_ORDERED' || state.status === 'ASSESSMENT_IN_PROGRESS';
  switch (event.type) {
    case 'STATUS_CHANGED': {
      const from = event.statusChanged!.from;
      return from && from !== state.status
        ? [domainError('STATUS_MISMATCH', `${id}: the event says ${from}, but the method is ${state.status}`)]
        : [];
    }
    case 'ASSIGNMENT_CHANGED':
      return inAssessment && state.assignment
        ? []
        : [
            domainError(
              'ILLEGAL_TRANSITION',
              `${id}: ASSIGNMENT_CHANGED needs an ordered assessment; it is ${state.status}`,
            ),
          ];
    case 'ASSESSMENT_PAUSED':
    case 'ASSESSMENT_RESUMED':
    case 'ASSESSMENT_DELIVERED': {
      if (state.status !== 'ASSESSMENT_IN_PROGRESS') {
        return [
          domainError(
            'ILLEGAL_TRANSITION',
            `${id}: ${event.type} needs ASSESSMENT_IN_PROGRESS; it is ${state.status}`,
          ),
        ];
      }
      if (event.type === 'ASSESSMENT_PAUSED' && state.paused) {
        return [
          domainError(
            'ILLEGAL_TRANSITION',
            `${id}: the assessment is already paused since ${state.paused.pausedOn}`,
          ),
        ];
      }
      if (event.type === 'ASSESSMENT_RESUMED' && !state.paused) {
        return [
          domainError('ILLEGAL_TRANSITION', `${id}: ASSESSMENT_RESUMED, but the assessment is not paused`),
        ];
      }
      return [];
    }
    case 'DOCUMENTATION_COMPLETED':
      return documentationCompletedErrors(state, event);
    case 'PHASED_OUT':
      return event.phasedOut!.subGroup && state.status !== 'DECIDED' && state.status !== 'REASSESSMENT'
        ? [
            domainError(
              'ILLEGAL_TRANSITION',
              `${id}: a sub-group can only be phased out of a decided method; it is ${state.status}`,
            ),
          ]
        : [];
    case 'EXCEPTION_GRANTED':
      return state.exceptions.some((e) => e.exception.exceptionId === event.exception!.exceptionId)
        ? [
            domainError(
              'DUPLICATE_EXCEPTION',
              `${id}: exception ${event.exception!.exceptionId} was already granted`,
            ),
          ]
        : [];
    case 'EXCEPTION_OVERRIDDEN': {
      const existing = state.exceptions.find((e) => e.exception.exceptionId === event.exception!.exceptionId);
      if (!existing)
        return [
          domainError('UNKNOWN_EXCEPTION', `${id}: no exception ${event.exception!.exceptionId} to override`),
        ];
      return existing.overriddenFrom
        ? [
            domainError(
              'ILLEGAL_TRANSITION',
              `${id}: exception ${event.exception!.exceptionId} is already overridden`,
            ),
          ]
        : [];
    }
    default:
      return [];
  }
}

/** The documentation milestone belongs to an ordered assessment that is not waiting for the supplier. */
function documentationCompletedErrors(state: MethodState, event: MethodEvent): DomainError[] {
  const id = event.methodId;
  const on = event.documentationCompleted!.completedOn;
  if (state.status !== 'ASSESSMENT_ORDERED' && state.status !== 'ASSESSMENT_IN_PROGRESS')
    return [
      domainError(
        'ILLEGAL_TRANSITION',
        `${id}: DOCUMENTATION_COMPLETED needs ASSESSMENT_ORDERED or ASSESSMENT_IN_PROGRESS; it is ${state.status}`,
      ),
    ];
  if (state.paused)
    return [
      domainError(
        'ILLEGAL_TRANSITION',
        `${id}: the assessment is paused since ${state.paused.pausedOn}; send ASSESSMENT_RESUMED before DOCUMENTATION_COMPLETED`,
      ),
    ];
  if (state.documentationCompleted)
    return [
      domainError(
        'DUPLICATE_MILESTONE',
        `${id}: documentation was already complete on ${state.documentationCompleted.completedOn} for this assignment`,
      ),
    ];
  if (state.assignment && on < state.assignment.orderedOn)
    return [
      domainError(
        'INVALID_DATES',
        `${id}: documentationCompleted.completedOn ${on} is before the assignment was ordered (${state.assignment.orderedOn})`,
      ),
    ];
  return [];
}

function transitionErrors(state: MethodState, event: MethodEvent, to: Status | null): DomainError[] {
  if (to === null) return [];
  const from = state.status as Status;
  if (event.type === 'DECISION_MADE' && beforeAssessment.has(from)) {
    const d = event.decision!;
    if (d.forum === 'MEDICAL_DIRECTORS' && d.withoutDocumentation) return [];
    return [
      domainError(
        'ILLEGAL_TRANSITION',
        `${event.methodId} ${from} -> DECIDED: no assessment was ordered; only the medical directors deciding ` +
          'without documentation (forum MEDICAL_DIRECTORS, withoutDocumentation true) may decide now',
      ),
    ];
  }
  if (event.type === 'DECISION_MADE' && inAssessment.has(from)) {
    const d = event.decision!;
    const missing = [
      d.forum !== 'MEDICAL_DIRECTORS' && 'decision.forum MEDICAL_DIRECTORS',
      !d.withoutDocumentation && 'decision.withoutDocumentation true',
      !d.withoutDocumentationReason?.trim() && 'decision.withoutDocumentationReason',
    ].filter(Boolean);
    if (missing.length === 0) return [];
    return [
      domainError(
        'ILLEGAL_TRANSITION',
        `${event.methodId} ${from} -> DECIDED: the assessment is not completed; only the medical directors ` +
          `may decide now, without documentation and saying why; missing ${missing.join(', ')}`,
      ),
    ];
  }
  if (from === 'DECIDED' && to === 'PRICE_NEGOTIATION') {
    // A new price offer after "not introduced" may lead to a new decision (004:874); no other outcome reopens the price.
    const outcome = state.decision?.outcome;
    return outcome === 'NOT_INTRODUCED'
      ? []
      : [
          domainError(
            'ILLEGAL_TRANSITION',
            `${event.methodId} DECIDED -> PRICE_NEGOTIATION: a new price negotiation follows only a NOT_INTRODUCED decision; the latest is ${outcome ?? 'none'}`,
          ),
        ];
  }
  if (from === to && event.type === 'DECISION_MADE') return []; // a new decision replaces the latest one
  if (!isAllowed(from, to))
    return [domainError('ILLEGAL_TRANSITION', `${event.methodId} ${from} -> ${to} (${event.type})`)];
  return [];
}

/** How many applied event ids a state remembers, to drop a resent event after a restart. */
export const RECENT_EVENT_IDS = 100;

export function newMethodState(event: MethodEvent): MethodState {
  return {
    methodId: event.methodId,
    status: 'PROPOSAL_RECEIVED',
    details: event.registered!.details,
    registeredAt: event.occurredAt,
    updatedAt: event.occurredAt,
    version: 1,
    lastEventId: event.eventId,
    lastSourceSequence: event.sourceSequence ?? null,
    assignment: null,
    paused: null,
    assessmentStarted: null,
    documentationCompleted: null,
    clockStops: [],
    assessmentDelivered: null,
    priceAgreement: null,
    decision: null,
    reassessment: null,
    phaseOuts: [],
    exceptions: [],
    links: [],
    closed: null,
    stages: [{ status: 'PROPOSAL_RECEIVED', enteredAt: event.occurredAt, leftAt: null }],
    recentEventIds: [event.eventId],
  };
}

/** Folds an event into a method's state (undefined for a method not seen yet). */
export function applyEvent(state: MethodState | undefined, event: MethodEvent): Result<MethodState> {
  const shape = eventShapeErrors(event);
  if (shape.length > 0) return { ok: false, errors: shape };
  if (!state) {
    return event.type === 'METHOD_REGISTERED'
      ? { ok: true, value: newMethodState(event) }
      : {
          ok: false,
          errors: [
            domainError(
              'UNKNOWN_METHOD',
              `${event.methodId} is not registered; send METHOD_REGISTERED first`,
            ),
          ],
        };
  }
  if (event.type === 'METHOD_REGISTERED') {
    return {
      ok: false,
      errors: [
        domainError('METHOD_ALREADY_REGISTERED', `${event.methodId} was registered on ${state.registeredAt}`),
      ],
    };
  }
  const order = orderErrors(state, event);
  if (order.length > 0) return { ok: false, errors: order };
  const to = targetStatus(state, event);
  const errors = [...stateRuleErrors(state, event), ...transitionErrors(state, event, to)];
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: evolve(state, event, to) };
}

function orderErrors(state: MethodState, event: MethodEvent): DomainError[] {
  const seq = event.sourceSequence;
  if (
    seq !== null &&
    seq !== undefined &&
    state.lastSourceSequence !== null &&
    seq <= state.lastSourceSequence!
  ) {
    return [
      domainError(
        'OUT_OF_ORDER',
        `${event.methodId}: sourceSequence ${seq} arrived after ${state.lastSourceSequence}; resend the missing events in order`,
      ),
    ];
  }
  if (event.occurredAt < state.updatedAt) {
    return [
      domainError(
        'OUT_OF_ORDER',
        `${event.methodId}: occurredAt ${event.occurredAt} is before the last applied event (${state.updatedAt})`,
      ),
    ];
  }
  return [];
}

/** The clock stops with the open one ended on `on`. */
const endClockStop = (state: MethodState, on: string): MethodState['clockStops'] =>
  (state.clockStops ?? []).map((stop) => (stop.resumedOn === null ? { ...stop, resumedOn: on } : stop));

function evolve(state: MethodState, event: MethodEvent, to: Status | null): MethodState {
  const next: MethodState = {
    ...state,
    updatedAt: event.occurredAt,
    version: state.version + 1,
    lastEventId: event.eventId,
    lastSourceSequence: event.sourceSequence ?? state.lastSourceSequence ?? null,
    recentEventIds: [...(state.recentEventIds ?? []).slice(-(RECENT_EVENT_IDS - 1)), event.eventId],
  };
  switch (event.type) {
    case 'DETAILS_CHANGED':
      next.details = event.detailsChanged!.details;
      break;
    case 'ASSIGNMENT_ORDERED':
      next.assignment = event.assignment!;
      next.documentationCompleted = null; // a new assignment waits for its own documentation
      break;
    case 'ASSIGNMENT_CHANGED':
      next.assignment = event.assignment!;
      break;
    case 'DOCUMENTATION_COMPLETED':
      next.documentationCompleted = event.documentationCompleted!;
      break;
    case 'ASSESSMENT_STARTED':
      next.assessmentStarted = event.assessmentStarted!;
      next.paused = null;
      next.assessmentDelivered = null;
      break;
    case 'ASSESSMENT_PAUSED': {
      const p = event.assessmentPaused!;
      next.paused = p;
      next.clockStops = [
        ...(state.clockStops ?? []),
        { pausedOn: p.pausedOn, resumedOn: null, absoluteDeadline: p.absoluteDeadline ?? null },
      ];
      break;
    }
    case 'ASSESSMENT_RESUMED':
      next.paused = null;
      next.clockStops = endClockStop(state, event.assessmentResumed!.resumedOn);
      break;
    case 'ASSESSMENT_DELIVERED':
      next.assessmentDelivered = event.assessmentDelivered!;
      if (state.paused) next.clockStops = endClockStop(state, event.assessmentDelivered!.deliveredOn);
      next.paused = null;
      break;
    case 'PRICE_NEGOTIATION_CONCLUDED':
      next.priceAgreement = event.priceNegotiationConcluded!;
      break;
    case 'DECISION_MADE':
      next.decision = event.decision!;
      next.reassessment = null;
      next.paused = null; // a decision during a paused assessment ends the wait
      break;
    case 'REASSESSMENT_STARTED':
      next.reassessment = event.reassessmentStarted!;
      break;
    case 'PHASED_OUT':
      next.phaseOuts = [...state.phaseOuts, event.phasedOut!];
      break;
    case 'EXCEPTION_GRANTED':
      next.exceptions = [...state.exceptions, { exception: event.exception!, overriddenFrom: null }];
      break;
    case 'EXCEPTION_OVERRIDDEN':
      next.exceptions = state.exceptions.map((e) =>
        e.exception.exceptionId === event.exception!.exceptionId
          ? { ...e, overriddenFrom: event.exception!.effectiveOn }
          : e,
      );
      break;
    case 'METHOD_LINKED':
      next.links = [...state.links, event.link!];
      break;
    case 'METHOD_CLOSED':
      next.closed = event.closed!;
      break;
    default:
      break;
  }
  if (to !== null && to !== state.status) {
    next.status = to;
    next.stages = [
      ...state.stages.slice(0, -1),
      { ...state.stages[state.stages.length - 1]!, leftAt: event.occurredAt },
      { status: to, enteredAt: event.occurredAt, leftAt: null },
    ];
  }
  return next;
}

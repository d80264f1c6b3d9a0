/**
 * The canonical lifecycle of a method (see shared DOMAIN.md): which status may follow which.
 * The names are our design; the stages are the real process.
 */
import type { MethodStatus } from '../../contracts/generated/types.ts';

export type Status = Exclude<MethodStatus, 'UNKNOWN'>;

const closable: Status[] = ['CLOSED'];

export const allowedTransitions: Record<Status, Status[]> = {
  PROPOSAL_RECEIVED: ['HORIZON_SCANNING', 'AWAITING_ORDERING', ...closable],
  HORIZON_SCANNING: ['AWAITING_ORDERING', ...closable],
  AWAITING_ORDERING: ['ASSESSMENT_ORDERED', ...closable],
  ASSESSMENT_ORDERED: ['ASSESSMENT_IN_PROGRESS', ...closable],
  ASSESSMENT_IN_PROGRESS: ['ASSESSMENT_COMPLETED', ...closable],
  ASSESSMENT_COMPLETED: ['PRICE_NEGOTIATION', 'AWAITING_DECISION', ...closable],
  PRICE_NEGOTIATION: ['AWAITING_DECISION', ...closable],
  AWAITING_DECISION: ['DECIDED', 'PRICE_NEGOTIATION', ...closable],
  DECIDED: ['REASSESSMENT', 'PHASED_OUT', ...closable],
  REASSESSMENT: [
    'ASSESSMENT_ORDERED',
    'PRICE_NEGOTIATION',
    'AWAITING_DECISION',
    'DECIDED',
    'PHASED_OUT',
    ...closable,
  ],
  PHASED_OUT: ['REASSESSMENT', ...closable],
  CLOSED: [],
};

/** Before any of these, a decision needs the medical directors deciding without documentation. */
export const beforeAssessment: ReadonlySet<Status> = new Set([
  'PROPOSAL_RECEIVED',
  'HORIZON_SCANNING',
  'AWAITING_ORDERING',
]);

/** With an assignment ordered, only the medical directors may decide, without documentation and saying why (002:51). */
export const inAssessment: ReadonlySet<Status> = new Set(['ASSESSMENT_ORDERED', 'ASSESSMENT_IN_PROGRESS']);

export const isAllowed = (from: Status, to: Status): boolean => allowedTransitions[from].includes(to);

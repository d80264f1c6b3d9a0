/**
 * Every JCA procedure the hub has taken in, by procedure id and version, as read back from
 * eu.jca-notifications.v1: the idempotency key (procedureId, procedureVersion), out-of-order detection,
 * and what a procedure looks like across its versions. In memory, rebuilt from the topic at start.
 */
import type { JcaNotification } from '../../contracts/generated/types.ts';
import type { Milestone } from './notification.ts';

/** The regulation's milestones in the order they happen; UPDATED follows a published report. */
export const MILESTONE_RANK: Partial<Record<string, number>> = {
  SCOPING_STARTED: 1,
  PICO_SCOPE_AGREED: 2,
  DOSSIER_SUBMITTED: 3,
  REPORT_ENDORSED: 3.5,
  REPORT_PUBLISHED: 4,
  UPDATED: 5,
};

export type Judgement =
  | { outcome: 'new'; outOfOrder: boolean; reasons: string[] }
  | { outcome: 'duplicate'; existing: JcaNotification }
  | { outcome: 'conflict'; existing: JcaNotification };

export interface Procedure {
  procedureId: string;
  /** Every version taken in, lowest first. */
  versions: JcaNotification[];
  /** The highest version: the EU's latest word on the procedure, whatever order it arrived in. */
  latest: JcaNotification;
  /** The method IDs the procedure is linked to (from the latest record that links any). */
  linkedMethodIds: string[];
}

/** What makes two notifications the same notification: everything the EU sent, not what the hub added. */
export function fingerprintOf(n: JcaNotification): string {
  return JSON.stringify([
    n.procedureId,
    n.procedureVersion,
    n.milestone,
    n.milestoneOn,
    n.inn,
    n.atcCode,
    n.technologyType,
    n.indication,
    n.picos,
    n.assessor,
    n.coAssessor,
    n.documentUrls,
    n.dates,
  ]);
}

export class JcaProcedures {
  private readonly byId = new Map<string, Map<number, JcaNotification>>();

  get size(): number {
    return this.byId.size;
  }

  /** Records a notification (from the topic, or just written); a record of a version with as many links replaces it. */
  offer(notification: JcaNotification): void {
    let versions = this.byId.get(notification.procedureId);
    if (!versions) {
      versions = new Map();
      this.byId.set(notification.procedureId, versions);
    }
    const known = versions.get(notification.procedureVersion);
    // The log may replay an older record of a version after a person linked it here: links only grow.
    if (known && known.linkedMethodIds.length > notification.linkedMethodIds.length) return;
    versions.set(notification.procedureVersion, notification);
  }

  /** Whether a notification is new, a resend, or another notification under a version already used. */
  judge(candidate: JcaNotification): Judgement {
    const versions = this.byId.get(candidate.procedureId);
    const existing = versions?.get(candidate.procedureVersion);
    if (existing) {
      return fingerprintOf(existing) === fingerprintOf(candidate)
        ? { outcome: 'duplicate', existing }
        : { outcome: 'conflict', existing };
    }
    const reasons = versions ? outOfOrderReasons(candidate, [...versions.values()]) : [];
    return { outcome: 'new', outOfOrder: reasons.length > 0, reasons };
  }

  procedure(procedureId: string): Procedure | undefined {
    const versions = this.byId.get(procedureId);
    if (!versions || versions.size === 0) return undefined;
    const sorted = [...versions.values()].sort((a, b) => a.procedureVersion - b.procedureVersion);
    const linking = [...sorted].reverse().find((n) => n.linkedMethodIds.length > 0);
    return {
      procedureId,
      versions: sorted,
      latest: sorted[sorted.length - 1]!,
      linkedMethodIds: linking?.linkedMethodIds ?? [],
    };
  }

  all(): Procedure[] {
    return [...this.byId.keys()].sort().map((id) => this.procedure(id)!);
  }
}

/** Why a notification is out of order against those already taken in; empty when it is not. */
export function outOfOrderReasons(candidate: JcaNotification, earlier: JcaNotification[]): string[] {
  const reasons: string[] = [];
  const highest = earlier.reduce((a, b) => (b.procedureVersion > a.procedureVersion ? b : a));
  if (candidate.procedureVersion < highest.procedureVersion) {
    reasons.push(
      `version ${candidate.procedureVersion} arrived after version ${highest.procedureVersion} of ${candidate.procedureId}`,
    );
  }
  const rank = MILESTONE_RANK[candidate.milestone];
  if (rank !== undefined) {
    const furthest = earlier
      .filter((n) => (MILESTONE_RANK[n.milestone] ?? 0) > rank)
      .sort((a, b) => (MILESTONE_RANK[b.milestone] ?? 0) - (MILESTONE_RANK[a.milestone] ?? 0))[0];
    if (furthest) reasons.push(`${candidate.milestone} arrived after ${furthest.milestone}`);
  }
  if (candidate.milestone === 'UPDATED' && !earlier.some((n) => n.milestone === 'REPORT_PUBLISHED')) {
    reasons.push('UPDATED arrived before any REPORT_PUBLISHED');
  }
  return reasons;
}

/** The milestones in regulation order, for the timeline. */
export const ORDERED_MILESTONES: Milestone[] = [
  'SCOPING_STARTED',
  'PICO_SCOPE_AGREED',
  'DOSSIER_SUBMITTED',
  'REPORT_ENDORSED',
  'REPORT_PUBLISHED',
];

/**
 * The judges of the partner outputs: what each topic and each stand-in should hold, worked out from the events
 * in the log with the adapters' pure mappings, against what an independent read found. Each judge says how
 * it counts; a resend a partner absorbs (same key, same row, same delta) is not doubled, only a doubled effect is.
 */
import type {
  FestVilkar,
  DrugDecision,
  GuidelineFlag,
  MethodEvent,
  MethodState,
} from '../../contracts/generated/types.ts';
import { festVilkarFor, sameVilkar } from '../../adapters/fest/mapping.ts';
import { flagRecordsFor, notifiedChanges } from '../../adapters/hdir/mapping.ts';
import { defaultRulesFile, loadRules } from '../../adapters/hdir/rules.ts';
import { type SlvWork, slvWorkFor } from '../../adapters/slv/mapping.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
import type { Partners } from './partners.ts';

export interface OutputCount {
  output: string;
  lost: number;
  doubled: number;
  outOfOrder: number;
  /** How this output is judged (printed under the table). */
  rule?: string;
  /** A few of what was missing, to start looking from. */
  examples?: string[];
}

export interface TopicReads {
  fest: FestVilkar[];
  financing: DrugDecision[];
  flags: GuidelineFlag[];
}

interface Replayed {
  slv: SlvWork[];
  flags: { flagId: string; change: string; causeEventId: string | null }[];
  decisions: { methodId: string; eventId: string }[];
  finals: MethodState[];
}

/** Folds each method's events in log order with the state machine, collecting what each adapter should do. */
function replay(logged: Map<string, MethodEvent[]>): Replayed {
  const book = loadRules(defaultRulesFile);
  const out: Replayed = { slv: [], flags: [], decisions: [], finals: [] };
  for (const events of logged.values()) {
    let state: MethodState | undefined;
    let slvCase = false;
    let current: GuidelineFlag[] = [];
    for (const event of events) {
      const applied = applyEvent(state, event);
      if (!applied.ok) continue;
      const before = state;
      state = applied.value;
      const work = slvWorkFor(event, before, state);
      if (work?.kind === 'case' && (slvCase || work.createIfMissing)) {
        slvCase = true;
        out.slv.push(work);
      } else if (work?.kind === 'note' && slvCase) out.slv.push(work);
      const records = flagRecordsFor(current, event, book, state);
      for (const r of records) {
        out.flags.push({ flagId: r.flagId, change: r.change, causeEventId: r.causeEventId });
        current = [...current.filter((f) => f.guidelineId !== r.guidelineId), r];
      }
      if (
        event.type === 'DECISION_MADE' &&
        state.details.methodType === 'MEDICINE' &&
        state.details.atcCodes.length > 0
      )
        out.decisions.push({ methodId: event.methodId, eventId: event.eventId });
    }
    if (state) out.finals.push(state);
  }
  return out;
}

const rank = (logged: Map<string, MethodEvent[]>) => {
  const at = new Map<string, number>();
  for (const events of logged.values()) for (const [i, e] of events.entries()) at.set(e.eventId, i);
  return at;
};

/** Counts places where a per-key sequence of log ranks goes back. */
function backwards(sequences: Map<string, number[]>): number {
  let n = 0;
  for (const seq of sequences.values()) for (let i = 1; i < seq.length; i++) if (seq[i]! < seq[i - 1]!) n++;
  return n;
}

const push = <K, V>(map: Map<K, V[]>, key: K, value: V) => map.set(key, [...(map.get(key) ?? []), value]);

export function judgePartnerOutputs(
  logged: Map<string, MethodEvent[]>,
  topics: TopicReads,
  partners: Partners,
): OutputCount[] {
  const methods = new Set(logged.keys());
  const expected = replay(logged);
  const order = rank(logged);
  const linkBase = 'https://www.nyemetoder.no/metoder/';

  // FEST topic: the latest record per method is what the method's final state maps to.
  const festByMethod = new Map<string, FestVilkar[]>();
  for (const v of topics.fest) if (methods.has(v.methodId)) push(festByMethod, v.methodId, v);
  const fest: OutputCount = {
    output: 'fest.vilkar.v1',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
    rule: "latest record per method = festVilkarFor(final state), else lost; a record equal to the method's previous one is doubled; catalogueVersion going back is out of order",
  };
  for (const state of expected.finals) {
    const want = festVilkarFor(state, { linkBase });
    const seen = festByMethod.get(state.methodId) ?? [];
    const last = seen.at(-1);
    if (want && (!last || last.withdrawn || last.statusCode !== want.statusCode)) fest.lost++;
    for (let i = 1; i < seen.length; i++) {
      if (!seen[i]!.withdrawn && !seen[i - 1]!.withdrawn && sameVilkar(seen[i]!, seen[i - 1]!))
        fest.doubled++;
      if (seen[i]!.catalogueVersion < seen[i - 1]!.catalogueVersion) fest.outOfOrder++;
    }
  }

  // FEST vendor: the deltas it accepted must chain from version 0 to the catalogue's last version.
  const topVersion = Math.max(0, ...topics.fest.map((v) => v.catalogueVersion));
  const vendor: OutputCount = {
    output: 'FEST vendor webhook (deltas)',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
    rule: "accepted deltas chain by version: a gap or ending below the topic's last catalogueVersion is lost (versions missed); a delta re-delivered whole is harmless (applied by condition id); one going back is out of order; doubled if a version is applied twice with other content",
  };
  let reached = 0;
  const bodyOf = new Map<string, string>();
  for (const d of partners.vendor.deliveries) {
    const range = `${d.fromVersion}-${d.toVersion}`;
    if (d.toVersion < reached && !bodyOf.has(range)) vendor.outOfOrder++;
    if (bodyOf.has(range) && bodyOf.get(range) !== d.body.replace(/HentetDato>[^<]*</g, '')) vendor.doubled++;
    bodyOf.set(range, d.body.replace(/HentetDato>[^<]*</g, ''));
    if (d.fromVersion > reached) vendor.lost += d.fromVersion - reached;
    reached = Math.max(reached, d.toVersion);
  }
  vendor.lost += Math.max(0, topVersion - reached);

  // Financing: one record per lineage for every medicine decision, linked by its source event.
  const financing: OutputCount = {
    output: 'financing.drug-decisions.v1',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
    rule: 'every DECISION_MADE of a medicine with ATC codes has a record with its sourceEventId, else lost; a recordId twice is doubled; source events going back per method is out of order',
  };
  const recordIds = new Map<string, number>();
  const sources = new Set<string>();
  const financingSeq = new Map<string, number[]>();
  for (const r of topics.financing) {
    if (!methods.has(r.methodId)) continue;
    recordIds.set(r.recordId, (recordIds.get(r.recordId) ?? 0) + 1);
    if (r.sourceEventId) {
      sources.add(r.sourceEventId);
      if (order.has(r.sourceEventId)) push(financingSeq, r.methodId, order.get(r.sourceEventId)!);
    }
  }
  for (const d of expected.decisions) if (!sources.has(d.eventId)) financing.lost++;
  for (const n of recordIds.values()) if (n > 1) financing.doubled += n - 1;
  financing.outOfOrder = backwards(financingSeq);

  // Helsedirektoratet flags: the records the rules make, folded event by event.
  const flagKey = (f: { flagId: string; change: string; causeEventId: string | null }) =>
    `${f.flagId}|${f.change}|${f.causeEventId}`;
  const flagCopies = new Map<string, number>();
  const flagSeq = new Map<string, number[]>();
  for (const f of topics.flags) {
    if (!methods.has(f.methodId)) continue;
    flagCopies.set(flagKey(f), (flagCopies.get(flagKey(f)) ?? 0) + 1);
    if (f.causeEventId && order.has(f.causeEventId)) push(flagSeq, f.flagId, order.get(f.causeEventId)!);
  }
  const flags: OutputCount = {
    output: 'hdir.guideline-flags.v1',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
    rule: 'the records flagRecordsFor makes folding the log (flag, change, cause event) each once, else lost or doubled; cause events going back per flag is out of order',
  };
  const missingFlags = expected.flags.filter((f) => !flagCopies.has(flagKey(f)));
  flags.lost = missingFlags.length;
  if (missingFlags.length > 0) {
    const got = (flagId: string) =>
      topics.flags.filter((f) => f.flagId === flagId).map((f) => `${f.change}@${f.causeEventId}`);
    flags.examples = missingFlags
      .slice(0, 3)
      .map((f) => `${flagKey(f)} (the topic has ${got(f.flagId).join(', ') || 'nothing'} for it)`);
  }
  for (const n of flagCopies.values()) if (n > 1) flags.doubled += n - 1;
  flags.outOfOrder = backwards(flagSeq);

  // Helsedirektoratet stand-in: one notification per notified flag record; a repeated key is absorbed.
  const notified = new Set<string>(notifiedChanges);
  const wanted = topics.flags.filter((f) => methods.has(f.methodId) && notified.has(f.change));
  const notifKey = (b: Record<string, unknown>) => `${b.flagId}|${b.change}|${b.changedAt}`;
  const received = new Map<string, number>();
  const receivedSeq = new Map<string, number[]>();
  const changedRank = new Map(
    wanted.map((f, i) => [`${f.flagId}|${f.change}|${new Date(f.changedAt).toISOString()}`, i]),
  );
  for (const n of partners.hdir.received) {
    if (!methods.has(String(n.body.methodId))) continue;
    const key = notifKey(n.body);
    received.set(key, (received.get(key) ?? 0) + 1);
    if (changedRank.has(key)) push(receivedSeq, String(n.body.flagId), changedRank.get(key)!);
  }
  const notifications: OutputCount = {
    output: 'Hdir stand-in (notifications)',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
    rule: 'one notification per flag record of a notified change, by (flag, change, changedAt): none is lost, two under different keys is doubled (a repeated Idempotency-Key is absorbed); going back per flag is out of order',
  };
  for (const key of changedRank.keys()) if (!received.has(key)) notifications.lost++;
  for (const n of received.values()) if (n > 1) notifications.doubled += n - 1;
  notifications.outOfOrder = backwards(receivedSeq);

  // SLV: every case write applied (a row write carrying the event id), rows and notes once per method.
  // Judged from what Dynamics applied, not from answered requests: a PATCH applied just before the
  // stand-in goes down has no answer, and the adapter's retry then finds its own event id on the row.
  const writes = new Map<string, number[]>();
  const written = new Set<string>();
  for (const write of partners.slv.appliedWrites()) {
    const id = write.columns.nm_sourceeventid;
    const methodId = write.nm_nyemetoderid;
    if (!id || !methods.has(methodId) || !order.has(id)) continue;
    if (!written.has(id)) push(writes, methodId, order.get(id)!);
    written.add(id);
  }
  const rows = new Map<string, number>();
  for (const r of partners.slv.records())
    if (methods.has(r.nm_nyemetoderid)) rows.set(r.nm_nyemetoderid, (rows.get(r.nm_nyemetoderid) ?? 0) + 1);
  const slvCases: OutputCount = {
    output: 'SLV Dynamics (case rows)',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
    rule: 'every case write slvWorkFor asks for is a row write Dynamics applied carrying its event id, else lost; an upsert resent is harmless, two rows for one method is doubled; applied writes going back per method is out of order',
  };
  for (const w of expected.slv) if (w.kind === 'case' && !written.has(w.eventId)) slvCases.lost++;
  for (const n of rows.values()) if (n > 1) slvCases.doubled += n - 1;
  slvCases.outOfOrder = backwards(writes);

  const subjects = new Map<string, number>();
  for (const n of partners.slv.notes())
    if (n.subject) subjects.set(n.subject, (subjects.get(n.subject) ?? 0) + 1);
  const slvNotes: OutputCount = {
    output: 'SLV Dynamics (notes)',
    lost: 0,
    doubled: 0,
    outOfOrder: 0,
    rule: 'every note slvWorkFor asks for is attached once (by subject with the note id), else lost or doubled',
  };
  for (const w of expected.slv) {
    if (w.kind !== 'note') continue;
    const n = subjects.get(w.subject) ?? 0;
    if (n === 0) slvNotes.lost++;
    if (n > 1) slvNotes.doubled += n - 1;
  }
  return [fest, vendor, financing, flags, notifications, slvCases, slvNotes];
}

/**
 * Done-when of the financing feed: the demo history, written straight to the event log, goes through the
 * hub's financing adapter, and period queries agree with counts computed independently by reading
 * nyemetoder.method-events.v1 directly (no fold, no state machine: a plain walk over the decoded events).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { financingAdapter } from '../../adapters/financing/adapter.ts';
import type { FeedEntry } from '../../adapters/financing/decisionFeed.ts';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { demoHistory } from '../../core/demo/history.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testBus, testKafka } from '../support/kafka.ts';

const FEED = 'financing.drug-decisions.v1';
const EVENTS = 'nyemetoder.method-events.v1';
const UNTIL = '2025-12-31';
let h: TestHub;
let token: string;
let log: MethodEvent[] = [];

beforeAll(async () => {
  h = await startTestHub(['financing'], {}, { adapters: [financingAdapter], topics: [FEED] });
  token = await h.hub.devToken(['nyemetoder:financing:read']);
  const kafka = testKafka();
  const { producer, registry } = testBus(kafka);
  registry.alias(h.events, EVENTS);
  const events = demoHistory({ until: UNTIL });
  for (let i = 0; i < events.length; i += 500) {
    await producer.send(
      EVENTS,
      events.slice(i, i + 500).map((event) => ({
        key: event.methodId,
        value: event,
        headers: newHeaders({
          id: event.eventId,
          source: '/metodehub/demo',
          type: `no.nyemetoder.method.${event.type}`,
        }),
      })),
      { to: h.events },
    );
  }
  await producer.disconnect();
  // The independent side reads back what is in the log, not the generator's list.
  for (const m of await readAll(kafka, h.events, 60_000))
    log.push((await registry.decode<MethodEvent>(h.events, m.value)).value);
  log = log.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
}, 180_000);
afterAll(async () => {
  await h?.close();
});

async function allPages(query: Record<string, string>): Promise<FeedEntry[]> {
  const found: FeedEntry[] = [];
  let path: string | null = `/financing/v1/decisions?${new URLSearchParams({ limit: '50', ...query })}`;
  while (path) {
    const r = await h.call(path, { token });
    expect(r.status).toBe(200);
    const page = (await r.json()) as { next: string | null; decisions: FeedEntry[] };
    found.push(...page.decisions);
    path = page.next;
  }
  return found;
}

/** Every medicine decision (DECISION_MADE on a method whose details say MEDICINE), read straight from the log. */
function medicineDecisions(): { methodId: string; decidedOn: string; effectiveFrom: string | null }[] {
  const medicine = new Map<string, boolean>();
  const found: { methodId: string; decidedOn: string; effectiveFrom: string | null }[] = [];
  for (const e of log) {
    const details = e.registered?.details ?? e.detailsChanged?.details;
    if (details) medicine.set(e.methodId, details.methodType === 'MEDICINE');
    if (e.type === 'DECISION_MADE' && e.decision && medicine.get(e.methodId))
      found.push({
        methodId: e.methodId,
        decidedOn: e.decision.decidedOn,
        effectiveFrom: e.decision.effectiveFrom,
      });
  }
  return found;
}

const period = { from: '2019-01-01', to: '2022-06-30' };
const within = (day: string) => day >= period.from && day <= period.to;

describe('the demo history through the financing feed', () => {
  it('has every medicine decision of a period, by decision date and by effective date, as the log says', async () => {
    const decisions = medicineDecisions();
    const expectedByDecision = decisions.filter((d) => within(d.decidedOn)).length;
    const expectedByEffective = decisions.filter((d) => within(d.effectiveFrom ?? d.decidedOn)).length;
    expect(expectedByDecision).toBeGreaterThan(20); // the demo has plenty: a tiny count would prove little
    const decisionRecords = async (by: string) =>
      (await allPages({ ...period, by, includeSuperseded: 'true' })).filter((r) => r.change === 'DECISION');
    let byDecision: FeedEntry[] = [];
    await eventually(
      async () => {
        byDecision = await decisionRecords('decision');
        return byDecision.length >= expectedByDecision;
      },
      90_000,
      `${expectedByDecision} decisions in ${period.from}..${period.to}`,
    );
    expect(byDecision).toHaveLength(expectedByDecision);
    expect(await decisionRecords('effective')).toHaveLength(expectedByEffective);
    const perMethod = new Map<string, number>();
    for (const d of decisions.filter((x) => within(x.decidedOn)))
      perMethod.set(d.methodId, (perMethod.get(d.methodId) ?? 0) + 1);
    const perMethodInFeed = new Map<string, number>();
    for (const r of byDecision) perMethodInFeed.set(r.methodId, (perMethodInFeed.get(r.methodId) ?? 0) + 1);
    expect(perMethodInFeed).toEqual(perMethod);
  });

  it('shows as current, per method, its latest decision or phase-out, as the log says', async () => {
    // Independently: the last decision or whole-method phase-out of each medicine, and its sub-group phase-outs.
    const medicine = new Map<string, boolean>();
    const main = new Map<string, string>();
    const subGroups = new Map<string, string>();
    const osloDay = (instant: string) =>
      new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Oslo' }).format(new Date(instant));
    for (const e of log) {
      const details = e.registered?.details ?? e.detailsChanged?.details;
      if (details) medicine.set(e.methodId, details.methodType === 'MEDICINE');
      if (!medicine.get(e.methodId)) continue;
      if (e.type === 'DECISION_MADE' && e.decision) main.set(e.methodId, e.decision.decidedOn);
      if (e.type === 'PHASED_OUT' && e.phasedOut) {
        if (e.phasedOut.subGroup)
          subGroups.set(`${e.methodId}|${e.phasedOut.subGroup}`, osloDay(e.occurredAt));
        else main.set(e.methodId, osloDay(e.occurredAt));
      }
    }
    const expected = [...main.values(), ...subGroups.values()].filter(within).length;
    let current: FeedEntry[] = [];
    await eventually(
      async () => {
        current = await allPages(period);
        return current.length === expected;
      },
      90_000,
      `${expected} current records in ${period.from}..${period.to}`,
    ).catch(() => undefined);
    expect(current).toHaveLength(expected);
    expect(current.every((r) => r.supersededBy === null)).toBe(true);
  });
});

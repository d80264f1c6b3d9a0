/**
 * The flagger judges each event on the method as it stood right after that event, not as it stands now.
 * Seen in the fault suite (issue 16): after a hub SIGKILL the flagger resumes behind the method-state
 * projection, so the state it read already held a later assessment or price note; the FLAGGED record took
 * those links from the future and the later ASSESSMENT_DELIVERED / PRICE_NEGOTIATION_CONCLUDED found nothing
 * to update, so their UPDATED records were never written. Here the flagger starts after the projection has
 * folded the whole history, which is that restart made deterministic.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { flagRecordsFor } from '../../adapters/hdir/mapping.ts';
import { defaultRulesFile, loadRules } from '../../adapters/hdir/rules.ts';
import type { GuidelineFlag, MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testBus, testKafka } from '../support/kafka.ts';

let h: TestHub;
let flagger: TestHub | undefined;

beforeAll(async () => {
  h = await startTestHub(['api', 'projection'], {}, { topics: ['hdir.guideline-flags.v1'] });
  for (const [declared, physical] of Object.entries(h.topics)) registry.alias(physical, declared);
});
afterAll(async () => {
  await flagger?.close();
  await h?.close();
});

const at = (date: string) => `${date}T10:00:00.000Z`;
const id = 'ID2024_871';
const event = (type: string, date: string, body: Record<string, unknown> = {}): MethodEvent =>
  ({ eventId: randomUUID(), methodId: id, type, occurredAt: at(date), ...body }) as unknown as MethodEvent;
const status = (to: string, date: string) => event('STATUS_CHANGED', date, { statusChanged: { to } });

const history: MethodEvent[] = [
  event('METHOD_REGISTERED', '2024-01-15', {
    registered: {
      details: {
        name: 'Osimertinib til adjuvant behandling av ikke-småcellet lungekreft',
        methodType: 'MEDICINE',
        specialty: 'Onkologi',
        indication: 'Ikke-småcellet lungekreft med EGFR-mutasjon',
        substances: ['osimertinib'],
        atcCodes: ['L01EB04'],
        guidelineFlags: [],
      },
    },
  }),
  status('AWAITING_ORDERING', '2024-02-01'),
  status('ASSESSMENT_ORDERED', '2024-02-02'),
  status('ASSESSMENT_IN_PROGRESS', '2024-02-03'),
  event('ASSESSMENT_DELIVERED', '2024-03-10', {
    assessmentDelivered: {
      deliveredOn: '2024-03-10',
      reportUrl: 'https://www.nyemetoder.no/rapport/ID2024_871.pdf',
    },
  }),
  status('ASSESSMENT_COMPLETED', '2024-03-11'),
  status('PRICE_NEGOTIATION', '2024-03-12'),
  event('PRICE_NEGOTIATION_CONCLUDED', '2024-03-20', {
    priceNegotiationConcluded: {
      concludedOn: '2024-03-20',
      agreementType: 'FLAT_DISCOUNT',
      publicPriceNoteUrl: 'https://www.nyemetoder.no/prisnotat/ID2024_871.pdf',
    },
  }),
];

const kafka = testKafka();
const { registry } = testBus(kafka);
async function decoded<T>(topic: string): Promise<T[]> {
  const messages = await readAll(kafka, topic);
  return Promise.all(messages.map(async (m) => (await registry.decode<T>(topic, m.value)).value));
}

/** What the rules make of the history, folded event by event: the records the topic must hold. */
function expectedRecords(): string[] {
  const book = loadRules(defaultRulesFile);
  let state: MethodState | undefined;
  let current: GuidelineFlag[] = [];
  const out: string[] = [];
  for (const e of history) {
    const applied = applyEvent(state, e);
    if (!applied.ok) throw new Error(`the test history is illegal at ${e.type}`);
    state = applied.value;
    for (const r of flagRecordsFor(current, e, book, state)) {
      out.push(`${r.flagId} ${r.change} ${r.causeEventId}`);
      current = [...current.filter((f) => f.guidelineId !== r.guidelineId), r];
    }
  }
  return out;
}

it('writes every record the history makes when the flagger starts behind the projection', async () => {
  for (const e of history) {
    const r = await h.call('/api/v1/case-events', { method: 'POST', json: e });
    expect(r.status).toBe(200);
  }
  await eventually(
    async () => {
      const states = await decoded<MethodState>(h.state);
      return states.some((s) => s.methodId === id && s.recentEventIds.length === history.length);
    },
    30_000,
    'the projection folded the whole history',
  );

  flagger = await startTestHub(
    ['hdir'],
    {},
    { adapters: [hdirAdapter], sameTopicsAs: h, waitUntilReady: false },
  );
  const expected = expectedRecords();
  expect(expected.map((r) => r.split(' ')[1])).toEqual(['FLAGGED', 'UPDATED', 'UPDATED']);
  const flagsTopic = h.topics['hdir.guideline-flags.v1']!;
  const written = async () =>
    (await decoded<GuidelineFlag>(flagsTopic))
      .filter((f) => f.methodId === id)
      .map((f) => `${f.flagId} ${f.change} ${f.causeEventId}`);
  await eventually(async () => (await written()).length >= 1, 30_000, 'the first flag record');
  // The later records follow at once when they are made at all.
  await new Promise((r) => setTimeout(r, 3_000));
  expect(await written()).toEqual(expected);
  const flags = (await decoded<GuidelineFlag>(flagsTopic)).filter((f) => f.methodId === id);
  expect(flags[0]).toMatchObject({ change: 'FLAGGED', assessmentUrl: null, publicPriceNoteUrl: null });
}, 120_000);

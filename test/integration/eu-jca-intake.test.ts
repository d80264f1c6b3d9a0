/**
 * The EU HTA JCA channel end to end against the real broker and registry: notifications in as JSON and
 * XML, taken once per procedure version, out-of-order milestones kept and flagged, linked to national
 * methods (or a proposal raised, or candidates listed), published on eu.jca-notifications.v1 and in the
 * method's history, and the timeline of overdue and upcoming milestones.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { euJcaAdapter } from '../../adapters/eu-jca/adapter.ts';
import type { JcaNotification, MethodState } from '../../contracts/generated/types.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { createHub } from '../../bin/hub.ts';
import { JcaSender } from '../emulators/eu-jca/sender.ts';
import { jcaDocument } from '../emulators/eu-jca/documents.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testBus, testKafka, uniqueName } from '../support/kafka.ts';

let h: TestHub;
let sender: JcaSender;
let notificationsTopic: string;
let firstLinked: ReturnType<typeof jcaDocument> | undefined;

const national = {
  melanoma: 'ID2019_101',
  lung: 'ID2019_102',
  breastA: 'ID2021_103',
  breastB: 'ID2022_104',
  nivolumab: 'ID2018_105',
};

function registration(methodId: string, details: Parameters<typeof medicineDetails>[0]) {
  return {
    eventId: randomUUID(),
    methodId,
    type: 'METHOD_REGISTERED',
    occurredAt: '2024-01-10T09:00:00Z',
    registered: { details: medicineDetails(details) },
  };
}

beforeAll(async () => {
  h = await startTestHub(
    ['api', 'projection', 'eu-jca'],
    {},
    {
      adapters: [euJcaAdapter],
      topics: ['eu.jca-notifications.v1'],
    },
  );
  notificationsTopic = h.topics['eu.jca-notifications.v1']!;
  const seeded = await h.call('/api/v1/case-events', {
    method: 'POST',
    json: [
      registration(national.melanoma, {
        name: 'Pembrolizumab (Keytruda) til adjuvant behandling av melanom',
        indication: 'adjuvant behandling av melanom i stadium III etter fullstendig reseksjon',
      }),
      registration(national.lung, {
        name: 'Pembrolizumab (Keytruda) til ikke-småcellet lungekreft',
        indication: 'førstelinjebehandling av metastatisk ikke-småcellet lungekreft med PD-L1-uttrykk ≥ 50 %',
      }),
      registration(national.breastA, {
        name: 'Pembrolizumab (Keytruda) til trippelnegativ brystkreft',
        indication: 'behandling av tidlig trippelnegativ brystkreft før og etter kirurgi',
      }),
      registration(national.breastB, {
        name: 'Pembrolizumab (Keytruda) til trippelnegativ brystkreft, revurdering',
        indication: 'behandling av tidlig trippelnegativ brystkreft før og etter kirurgi',
      }),
      registration(national.nivolumab, {
        name: 'Nivolumab (Opdivo) til ikke-småcellet lungekreft',
        substances: ['nivolumab'],
        atcCodes: ['L01FF01'],
        indication: 'andrelinjebehandling av avansert ikke-småcellet lungekreft',
      }),
    ],
  });
  expect(seeded.status).toBe(200);
  await eventually(
    () => (h.hub.adapters.get('eu-jca') as unknown as { store: { size: number } }).store.size === 5,
    30_000,
    'the JCA intake knowing the catalogue',
  );
  sender = new JcaSender(h.url, await h.hub.devToken(['eu-jca:intake:write']));
});
afterAll(async () => {
  await h?.close();
});

type Accepted = {
  outcome: string;
  outOfOrder: boolean;
  outOfOrderReasons: string[];
  linking: {
    outcome: string;
    linkedMethodIds: string[];
    candidates: { methodId: string; score: number }[];
    proposedMethodId: string | null;
  };
  nationalComplementNeeded: string[];
  timeline: { stage: string; steps: { milestone: string; state: string }[] };
};

async function stateOf(methodId: string): Promise<MethodState> {
  // A proposal the intake wrote (201) reaches the API's read model a moment later (it folds the log), so a 404 is
  // asked again for a few seconds; anything else, or a 404 that stays, fails.
  let r = await h.call(`/api/v1/methods/${methodId}`);
  for (let tries = 0; r.status === 404 && tries < 50; tries++) {
    await new Promise((done) => setTimeout(done, 200));
    r = await h.call(`/api/v1/methods/${methodId}`);
  }
  expect(r.status).toBe(200);
  return ((await r.json()) as { state: MethodState }).state;
}

async function published(procedureId: string): Promise<JcaNotification[]> {
  const kafka = testKafka();
  const { registry } = testBus(kafka);
  registry.alias(notificationsTopic, 'eu.jca-notifications.v1');
  const values: JcaNotification[] = [];
  for (const m of await readAll(kafka, notificationsTopic)) {
    const { value } = await registry.decode<JcaNotification>(notificationsTopic, m.value);
    if (value.procedureId === procedureId) values.push(value);
  }
  return values;
}

const melanomaJca = () =>
  jcaDocument({
    indication: 'Adjuvant treatment of adults with stage III melanoma after complete resection',
  });

describe('intake and linking', () => {
  it('takes in a JSON notification, links it to the one national method, and adds the link to its history', async () => {
    const doc = melanomaJca();
    firstLinked = doc;
    const r = await sender.post(doc);
    expect(r.status).toBe(201);
    const body = r.body as unknown as Accepted;
    expect(body.outcome).toBe('accepted');
    expect(body.linking.outcome).toBe('LINKED');
    expect(body.linking.linkedMethodIds).toEqual([national.melanoma]);
    expect(body.nationalComplementNeeded).toEqual(['HEALTH_ECONOMICS']);
    const state = await stateOf(national.melanoma);
    expect(state.links).toContainEqual(
      expect.objectContaining({ relation: 'JOINT_CLINICAL_ASSESSMENT', target: doc.procedureId }),
    );
    expect(state.status).toBe('PROPOSAL_RECEIVED'); // a link does not move the method
    await eventually(
      async () => (await published(doc.procedureId)).length === 1,
      20_000,
      'the notification on its topic',
    );
    const [record] = await published(doc.procedureId);
    expect(record).toMatchObject({
      procedureId: doc.procedureId,
      milestone: 'SCOPING_STARTED',
      linkOutcome: 'LINKED',
      linkedMethodIds: [national.melanoma],
      atcCode: 'L01FF02',
      assessor: 'DE',
    });
    expect(record!.linkCandidates[0]!.methodId).toBe(national.melanoma);
  });

  it('takes each procedure version once: a resend (even as XML) is a duplicate, other content a 409 kept for inspection', async () => {
    const doc = melanomaJca();
    expect((await sender.post(doc)).status).toBe(201);
    const again = await sender.post(doc, 'xml');
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('duplicate');
    const changed = await sender.post({ ...doc, indication: 'Adjuvant treatment of stage II melanoma' });
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe('VERSION_REUSED');
    const history = (await (await h.call(`/api/v1/methods/${national.melanoma}/history`)).json()) as {
      events: { type: string; link: { target: string } | null }[];
    };
    expect(history.events.filter((e) => e.link?.target === doc.procedureId)).toHaveLength(1);
    const rejected = (await (await h.call('/jca/v1/rejected')).json()) as {
      rejected: { code: string; procedureId: string | null; kept: boolean }[];
    };
    expect(rejected.rejected).toContainEqual(
      expect.objectContaining({ code: 'VERSION_REUSED', procedureId: doc.procedureId, kept: true }),
    );
    await eventually(async () => (await published(doc.procedureId)).length === 1, 20_000, 'one record');
  });

  it('takes the same notification posted five times at once exactly once', async () => {
    const doc = jcaDocument({
      indication: 'Second-line treatment of advanced non-small cell lung cancer',
      technology: { inn: 'nivolumab', atcCode: 'L01FF01' },
    });
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, i) => sender.post(doc, i % 2 === 0 ? 'json' : 'xml')),
    );
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    // The hub's read model folds the link event a moment after the intake answers.
    const links = async () =>
      (await stateOf(national.nivolumab)).links.filter((l) => l.target === doc.procedureId).length;
    await eventually(async () => (await links()) > 0, 20_000, 'the link in the method history');
    await eventually(async () => (await published(doc.procedureId)).length === 1, 20_000, 'one record');
    expect(await links()).toBe(1);
  });

  it('follows a whole procedure in XML to a published report', async () => {
    const doc = jcaDocument({
      indication:
        'First-line treatment of metastatic non-small cell lung cancer with PD-L1 expression ≥ 50 %',
    });
    const replies = await sender.sendLife(doc, 'REPORT_PUBLISHED', 'xml');
    expect(replies.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const last = replies[3]!.body as unknown as Accepted;
    expect(last.linking.linkedMethodIds).toEqual([national.lung]);
    expect(last.timeline.stage).toBe('REPORT_PUBLISHED');
    expect(last.timeline.steps.every((s) => s.state === 'DONE')).toBe(true);
    const state = await stateOf(national.lung);
    expect(state.links.filter((l) => l.target === doc.procedureId)).toHaveLength(1);
  });

  it('keeps a milestone that arrives out of order and flags it', async () => {
    const doc = jcaDocument({
      indication: 'Treatment of early triple-negative breast cancer before and after surgery',
    });
    const [v1, v2, v3] = JcaSender.lifeOf(doc, 'DOSSIER_SUBMITTED');
    expect((await sender.post(v1!)).status).toBe(201);
    expect((await sender.post(v3!)).status).toBe(201);
    const late = await sender.post(v2!, 'xml');
    expect(late.status).toBe(201);
    const body = late.body as unknown as Accepted;
    expect(body.outOfOrder).toBe(true);
    expect(body.outOfOrderReasons).toContain('PICO_SCOPE_AGREED arrived after DOSSIER_SUBMITTED');
    const procedure = (await (await h.call(`/jca/v1/procedures/${doc.procedureId}`)).json()) as {
      versions: JcaNotification[];
    };
    expect(procedure.versions.map((v) => [v.procedureVersion, v.outOfOrder])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
  });

  it('lists scored candidates when two methods fit, and links the one a person chooses', async () => {
    const doc = jcaDocument({
      indication: 'Treatment of early triple-negative breast cancer before and after surgery',
    });
    const r = await sender.post(doc);
    expect(r.status).toBe(201);
    const body = r.body as unknown as Accepted;
    expect(body.linking.outcome).toBe('AMBIGUOUS');
    expect(body.linking.linkedMethodIds).toEqual([]);
    expect(
      body.linking.candidates
        .slice(0, 2)
        .map((c) => c.methodId)
        .sort(),
    ).toEqual([national.breastA, national.breastB]);
    const writer = await h.hub.devToken(['eu-jca:intake:write']);
    const chosen = await h.call(`/jca/v1/procedures/${doc.procedureId}/links`, {
      method: 'POST',
      json: { methodId: national.breastB },
      token: writer,
    });
    expect(chosen.status).toBe(201);
    const state = await stateOf(national.breastB);
    expect(state.links).toContainEqual(expect.objectContaining({ target: doc.procedureId }));
    const next = await sender.post({
      ...doc,
      procedureVersion: 2,
      milestone: 'PICO_SCOPE_AGREED',
      milestoneOn: '2025-05-20',
    });
    expect((next.body as unknown as Accepted).linking.linkedMethodIds).toEqual([national.breastB]);
    await eventually(
      async () =>
        (await published(doc.procedureId)).some(
          (n) => n.linkOutcome === 'LINKED' && n.procedureVersion === 1,
        ),
      20_000,
      'the republished, linked notification',
    );
  });

  it('raises a proposal for Bestillerforum when no national method fits, and one beside a known substance for a new indication', async () => {
    const doc = jcaDocument({
      technology: {
        inn: 'tarlatamab',
        atcCode: 'L01FX36',
        tradeName: 'Imdelltra',
        developer: 'Amgen Europe B.V.',
      },
      indication:
        'Treatment of adults with extensive-stage small cell lung cancer after platinum-based chemotherapy',
    });
    const r = await sender.post(doc);
    expect(r.status).toBe(201);
    const body = r.body as unknown as Accepted;
    expect(body.linking.outcome).toBe('NEW_PROPOSAL');
    const id = body.linking.proposedMethodId!;
    expect(id).toMatch(/^ID\d{4}_9\d\d$/);
    const state = await stateOf(id);
    expect(state.status).toBe('PROPOSAL_RECEIVED');
    expect(state.details).toMatchObject({
      substances: ['tarlatamab'],
      atcCodes: ['L01FX36'],
      supplier: 'Amgen Europe B.V.',
    });
    expect(state.links).toContainEqual(
      expect.objectContaining({ relation: 'JOINT_CLINICAL_ASSESSMENT', target: doc.procedureId }),
    );

    const hodgkin = jcaDocument({
      indication: 'Treatment of relapsed or refractory classical Hodgkin lymphoma',
    });
    const second = (await sender.post(hodgkin)).body as unknown as Accepted;
    expect(second.linking.outcome).toBe('NEW_PROPOSAL');
    expect(second.linking.proposedMethodId).not.toBe(id);
    const proposed = await stateOf(second.linking.proposedMethodId!);
    expect(proposed.links).toContainEqual(expect.objectContaining({ relation: 'NEW_INDICATION' }));
  });

  it('flags organisation as a national complement for a device', async () => {
    const doc = jcaDocument({
      technology: {
        type: 'MEDICAL_DEVICE',
        inn: undefined,
        atcCode: undefined,
        tradeName: 'CardioMEMS HF System',
      },
      indication: 'Remote monitoring of pulmonary artery pressure in chronic heart failure',
    });
    const r = await sender.post(doc, 'xml');
    expect(r.status).toBe(201);
    expect((r.body as unknown as Accepted).nationalComplementNeeded).toEqual([
      'HEALTH_ECONOMICS',
      'ORGANISATION',
    ]);
  });
});

describe('timeline', () => {
  it('lists overdue and upcoming milestones for a day', async () => {
    const doc = jcaDocument({
      indication: 'Second-line treatment of advanced non-small cell lung cancer',
      technology: { inn: 'nivolumab', atcCode: 'L01FF01', tradeName: 'Opdivo' },
      dates: { scopingStartedOn: '2025-03-03', expectedChmpOpinionOn: '2025-10-16' },
    });
    expect((await sender.post(doc)).status).toBe(201);
    const r = await h.call('/jca/v1/timeline?on=2025-08-20&withinDays=30');
    expect(r.status).toBe(200);
    const body = (await r.json()) as {
      overdue: { procedureId: string; milestone: string; days: number }[];
      upcoming: { procedureId: string; milestone: string; dueOn: string }[];
    };
    expect(body.overdue).toContainEqual(
      expect.objectContaining({ procedureId: doc.procedureId, milestone: 'PICO_SCOPE_AGREED', days: 80 }),
    );
    expect(body.upcoming).toContainEqual(
      expect.objectContaining({
        procedureId: doc.procedureId,
        milestone: 'DOSSIER_SUBMITTED',
        dueOn: '2025-09-01',
      }),
    );
    const bad = await h.call('/jca/v1/timeline?on=yesterday');
    expect(bad.status).toBe(400);
  });
});

describe('PICOs per member state, the first clock stop and the endorsement', () => {
  it("shows a procedure's PICOs per member state and picks out Norway's for the linked method", async () => {
    const base = jcaDocument();
    const doc = jcaDocument({
      picos: [
        { ...base.picos![0]!, memberStates: ['NO', 'DE'] },
        { ...base.picos![0]!, population: 'Adults with PD-L1 TPS 1-49 %', memberStates: ['DE', 'FR'] },
      ],
      dates: { firstClockStopOn: '2025-04-10', scopingStartedOn: '2025-04-14' },
    });
    const r = await sender.post(doc, 'xml');
    expect(r.status).toBe(201);
    expect((r.body as unknown as Accepted).linking.linkedMethodIds).toEqual([national.lung]);
    const one = await h.call(`/jca/v1/procedures/${doc.procedureId}`);
    expect(one.status).toBe(200);
    const body = (await one.json()) as {
      picos: { byMemberState: Record<string, { population: string }[]>; norway: { population: string }[] };
      timeline: { steps: { milestone: string; dueOn: string | null; dueRule: string | null }[] };
    };
    expect(Object.keys(body.picos.byMemberState).sort()).toEqual(['DE', 'FR', 'NO']);
    expect(body.picos.norway.map((p) => p.population)).toEqual([base.picos![0]!.population]);
    expect(body.timeline.steps[1]).toMatchObject({ milestone: 'PICO_SCOPE_AGREED', dueOn: '2025-05-10' });
    const forMethod = await h.call(`/jca/v1/methods/${national.lung}/picos`);
    expect(forMethod.status).toBe(200);
    const picos = (await forMethod.json()) as {
      procedures: { procedureId: string; norway: { memberStates: string[] }[] }[];
    };
    const mine = picos.procedures.find((p) => p.procedureId === doc.procedureId)!;
    expect(mine.norway).toHaveLength(1);
    expect(mine.norway[0]!.memberStates).toEqual(['NO', 'DE']);
    expect((await h.call('/jca/v1/methods/ID2019_199/picos')).status).toBe(404);
    await eventually(
      async () => (await published(doc.procedureId)).length === 1,
      20_000,
      'the notification on its topic',
    );
    const [record] = await published(doc.procedureId);
    expect(record!.picos.map((p) => p.memberStates)).toEqual([
      ['NO', 'DE'],
      ['DE', 'FR'],
    ]);
    expect(record!.dates?.firstClockStopOn).toBe('2025-04-10');
  });

  it('takes REPORT_ENDORSED in with its date, and the endorsement is no longer overdue', async () => {
    const doc = melanomaJca();
    const life = JcaSender.lifeOf(
      { ...doc, dates: { ...doc.dates, marketingAuthorisationOn: '2025-12-18' } },
      'DOSSIER_SUBMITTED',
    );
    for (const step of life) expect((await sender.post(step)).status).toBe(201);
    const overdue = async () => {
      const r = await h.call('/jca/v1/timeline?on=2026-01-22&withinDays=30');
      const t = (await r.json()) as { overdue: { procedureId: string; milestone: string }[] };
      return t.overdue.filter((e) => e.procedureId === doc.procedureId).map((e) => e.milestone);
    };
    expect(await overdue()).toEqual(['REPORT_ENDORSED']);
    const last = life[life.length - 1]!;
    const endorsed = await sender.post({
      ...last,
      procedureVersion: last.procedureVersion + 1,
      milestone: 'REPORT_ENDORSED',
      milestoneOn: '2026-01-21',
      dates: { ...last.dates, reportEndorsedOn: '2026-01-21' },
    });
    expect(endorsed.status).toBe(201);
    expect((endorsed.body as unknown as Accepted).timeline.stage).toBe('REPORT_ENDORSED');
    expect(await overdue()).toEqual([]);
  });
});

describe('after a restart', () => {
  it('a new hub on the same topics still knows every procedure version and its links', async () => {
    const doc = firstLinked!;
    const config = loadConfig({
      KAFKA_BROKERS: inject('kafkaBrokers'),
      SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
      HUB_PORT: '0',
      AUTH_DEV_ISSUER: 'true',
    });
    const second = createHub({
      config,
      components: ['eu-jca'],
      topics: h.topics,
      groupPrefix: uniqueName('restart'),
      devIssuer: h.issuer,
      adapters: [euJcaAdapter],
    });
    await second.start();
    try {
      const again = new JcaSender(second.url!, await second.devToken(['eu-jca:intake:write']));
      const resent = await again.post(doc, 'xml');
      expect(resent.status).toBe(200);
      expect(resent.body.outcome).toBe('duplicate');
      const next = await again.post({
        ...doc,
        procedureVersion: 2,
        milestone: 'PICO_SCOPE_AGREED',
        milestoneOn: '2025-05-20',
      });
      expect(next.status).toBe(201);
      const body = next.body as unknown as Accepted & { methodEventIds: string[] };
      expect(body.linking.linkedMethodIds).toEqual([national.melanoma]);
      expect(body.methodEventIds).toEqual([]); // linked already: no second link event
    } finally {
      await second.stop();
    }
  });
});

/**
 * The Helsedirektoratet adapter end to end against the real broker and registry, with the stand-in for
 * Helsedirektoratet's endpoint: flags from the case system and from rules, notifications with idempotency
 * keys (and nothing lost while the endpoint is down), the implementation-status loop with every kind of
 * bad input, overdue alerts and the documentation basis behind the confidential scope.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuidelineFlag, MethodEvent } from '../../contracts/generated/types.ts';
import { contractFor } from '../../core/contracts/catalogue.ts';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { hdirCommand } from '../../adapters/hdir/cli.ts';
import { readDeadLetterInfo } from '../../core/bus/deadLetter.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { startHdirStandIn, type HdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testBus, testKafka } from '../support/kafka.ts';

const READ = 'hdir:flags:read';
const STATUS = 'hdir:implementation-status:write';
const CONFIDENTIAL = 'nyemetoder:confidential:read';

let h: TestHub;
let hdir: HdirStandIn;
let tokens: { read: string; status: string; confidential: string; caseOnly: string };
let serial = 100;
const nextId = () => `ID2024_${String(serial++).padStart(3, '0')}`;

const mint = (scopes: string[], subject = 'hdir-test') =>
  h.issuer.mint({ scopes, audience: 'metodehub', issuer: 'metodehub-dev-issuer', subject });

beforeAll(async () => {
  hdir = await startHdirStandIn();
  h = await startTestHub(
    ['api', 'projection', 'hdir'],
    {
      HDIR_NOTIFY_URL: hdir.notifyUrl,
      HDIR_RETRY_BASE_MS: '100',
      HDIR_RETRY_MAX_MS: '400',
      HDIR_DEADLINE_DAYS: '30',
    },
    { adapters: [hdirAdapter], topics: ['hdir.guideline-flags.v1'] },
  );
  tokens = {
    read: await mint([READ]),
    status: await mint([STATUS], 'hdir-fagavdeling'),
    confidential: await mint([READ, CONFIDENTIAL]),
    caseOnly: await mint(['nyemetoder:methods:read']),
  };
});
afterAll(async () => {
  await h?.close();
  await hdir?.close();
});

const at = (date: string) => `${date}T10:00:00.000Z`;

function registration(methodId: string, details: Record<string, unknown> = {}) {
  return {
    eventId: randomUUID(),
    methodId,
    type: 'METHOD_REGISTERED',
    occurredAt: at('2024-01-15'),
    registered: {
      details: {
        name: 'Osimertinib til adjuvant behandling av ikke-småcellet lungekreft',
        methodType: 'MEDICINE',
        specialty: 'Onkologi',
        indication: 'Ikke-småcellet lungekreft med EGFR-mutasjon',
        substances: ['osimertinib'],
        atcCodes: ['L01EB04'],
        guidelineFlags: [],
        ...details,
      },
    },
  };
}

const decision = (
  methodId: string,
  decidedOn: string,
  outcome = 'INTRODUCED',
  extra: Record<string, unknown> = {},
) => ({
  eventId: randomUUID(),
  methodId,
  type: 'DECISION_MADE',
  occurredAt: at(decidedOn),
  decision: {
    forum: 'MEDICAL_DIRECTORS',
    outcome,
    decidedOn,
    withoutDocumentation: true,
    ...extra,
  },
});

async function post(body: unknown) {
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: body });
  expect(r.status, await r.clone().text()).toBe(200);
}

const report = (json: unknown, token: string | null = tokens.status) =>
  h.call('/hdir/v1/implementation-status', { method: 'POST', json, token });

async function problemOf(r: Response) {
  expect(r.headers.get('content-type')).toContain('application/problem+json');
  return (await r.json()) as { code: string; detail: string };
}

type FlagView = GuidelineFlag & {
  run: { overdue: boolean; deadline: string | null; daysOverdue: number };
  documentation: Record<string, string | null>;
};

async function flagsOf(methodId: string, token = tokens.read): Promise<FlagView[]> {
  const r = await h.call(`/hdir/v1/flags/${methodId}`, { token });
  if (r.status === 404) return []; // the hub has not seen the method yet
  expect(r.status).toBe(200);
  return ((await r.json()) as { flags: FlagView[] }).flags;
}

const received = (methodId: string, change?: string) =>
  hdir.received.filter((n) => n.body.methodId === methodId && (!change || n.body.change === change));

describe('flags', () => {
  it('flags a method from the case system and from the rules, writes the flags topic and notifies once per change', async () => {
    const id = nextId();
    await post(registration(id, { guidelineFlags: ['NFR-HJERNESLAG'] }));
    await eventually(async () => (await flagsOf(id)).length === 2, 20_000, `two flags for ${id}`);
    const flags = await flagsOf(id);
    expect(flags.map((f) => [f.guidelineId, f.origin, f.ruleId, f.implementationStatus])).toEqual([
      ['HP-LUNGE', 'RULE', 'indikasjon-lungekreft', 'NOT_STARTED'],
      ['NFR-HJERNESLAG', 'EXPLICIT', null, 'NOT_STARTED'],
    ]);
    await eventually(() => received(id, 'FLAGGED').length === 2, 20_000, 'two FLAGGED notifications');
    const note = received(id, 'FLAGGED').find((n) => n.body.flagId === `${id}/HP-LUNGE`)!;
    expect(note.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(note.body).toMatchObject({
      guideline: { code: 'HP-LUNGE', kind: 'CANCER_PROGRAMME' },
      methodName: 'Osimertinib til adjuvant behandling av ikke-småcellet lungekreft',
    });

    const kafka = testKafka();
    const { registry } = testBus(kafka);
    const topic = h.topics['hdir.guideline-flags.v1']!;
    registry.alias(topic, 'hdir.guideline-flags.v1');
    const records: GuidelineFlag[] = [];
    for (const m of await readAll(kafka, topic))
      records.push((await registry.decode<GuidelineFlag>(topic, m.value)).value);
    expect(records.filter((r) => r.methodId === id).map((r) => r.change)).toEqual(['FLAGGED', 'FLAGGED']);
  });

  it('removes a flag when the case system takes it away, and notifies the decision, temporary introduction included', async () => {
    const id = nextId();
    await post(
      registration(id, {
        guidelineFlags: ['NFR-DIABETES'],
        indication: 'Diabetes type 2',
        name: 'Tirzepatid',
      }),
    );
    await eventually(async () => (await flagsOf(id)).length === 1, 20_000, `flag for ${id}`);
    await post({
      eventId: randomUUID(),
      methodId: id,
      type: 'DETAILS_CHANGED',
      occurredAt: at('2024-02-01'),
      detailsChanged: {
        details: {
          name: 'Tirzepatid',
          methodType: 'MEDICINE',
          indication: 'Diabetes type 2',
          guidelineFlags: ['HP-PALLIASJON'],
        },
      },
    });
    await eventually(
      async () => (await flagsOf(id)).some((f) => f.guidelineId === 'NFR-DIABETES' && !f.active),
      20_000,
      'NFR-DIABETES removed',
    );
    await post(
      decision(id, '2024-03-04', 'TEMPORARILY_INTRODUCED', {
        temporaryIntroduction: {
          reassessBy: '2026-03-04',
          outcomeMeasures: ['overlevelse'],
          dataPlan: 'Registerdata fra Kreftregisteret',
          exitPlan: 'Avsluttes ved manglende effekt',
        },
      }),
    );
    await eventually(
      () => received(id, 'TEMPORARY_INTRODUCTION').length === 1,
      20_000,
      'temporary introduction',
    );
    expect(received(id, 'UNFLAGGED').map((n) => n.body.flagId)).toEqual([`${id}/NFR-DIABETES`]);
    const notice = received(id, 'TEMPORARY_INTRODUCTION')[0]!;
    expect(notice.body).toMatchObject({
      flagId: `${id}/HP-PALLIASJON`,
      decision: { outcome: 'TEMPORARILY_INTRODUCED', decidedOn: '2024-03-04', reassessBy: '2026-03-04' },
    });
    // The removed flag is not told about the decision.
    expect(
      received(id)
        .filter((n) => n.body.flagId === `${id}/NFR-DIABETES`)
        .map((n) => n.body.change),
    ).toEqual(['FLAGGED', 'UNFLAGGED']);
  });
});

describe('events the state machine refused', () => {
  it('passes over an event written straight to Kafka that the projection refused, and goes on', async () => {
    const id = nextId();
    await post(
      registration(id, {
        name: 'Sotatercept',
        indication: 'Pulmonal arteriell hypertensjon',
        guidelineFlags: ['NFR-HJERNESLAG'],
      }),
    );
    await eventually(
      async () => (await h.call(`/hdir/v1/flags/${id}`, { token: tokens.read })).status === 200,
      20_000,
      'method known',
    );
    const kafka = testKafka();
    const { registry, producer } = testBus(kafka);
    registry.alias(h.events, 'nyemetoder.method-events.v1');
    // Beslutningsforum cannot decide before an assessment was ordered: the projection dead-letters this.
    const illegal = contractFor('nyemetoder.method-events.v1').type.clone({
      ...decision(id, '2024-02-02'),
      source: 'case-system',
      decision: { forum: 'BESLUTNINGSFORUM', outcome: 'INTRODUCED', decidedOn: '2024-02-02' },
    }) as MethodEvent;
    await producer.send(
      'nyemetoder.method-events.v1',
      [
        {
          key: id,
          value: illegal,
          headers: newHeaders({
            id: illegal.eventId,
            source: '/test',
            type: 'no.nyemetoder.method.DECISION_MADE',
          }),
        },
      ],
      { to: h.events },
    );
    await post({
      eventId: randomUUID(),
      methodId: id,
      type: 'DETAILS_CHANGED',
      occurredAt: at('2024-02-03'),
      detailsChanged: {
        details: {
          name: 'Sotatercept',
          methodType: 'MEDICINE',
          guidelineFlags: ['NFR-HJERNESLAG', 'NFR-RUS'],
        },
      },
    });
    await eventually(() => received(id, 'FLAGGED').length === 2, 30_000, 'the later event acted on');
    expect((await flagsOf(id)).map((f) => f.decidedOn)).toEqual([null, null]);
    expect(received(id, 'DECISION')).toHaveLength(0);
    await producer.disconnect();
  });
});

describe('notifications while Helsedirektoratet is down', () => {
  it('keeps retrying with backoff and delivers everything once it is back, each once', async () => {
    const id = nextId();
    hdir.down(503);
    const before = hdir.attempts;
    try {
      await post(
        registration(id, {
          guidelineFlags: ['HP-LYMFOM'],
          indication: 'Diffust storcellet B-cellelymfom',
          name: 'Epkoritamab',
        }),
      );
      await eventually(() => hdir.attempts >= before + 3, 20_000, 'several attempts while down');
      expect(received(id)).toHaveLength(0);
      const health = await h.hub.health();
      expect(health.hdir?.ok).toBe(false);
      expect(health.hdir?.detail).toContain('503');
    } finally {
      hdir.up();
    }
    await eventually(() => received(id, 'FLAGGED').length === 1, 30_000, 'delivered after recovery');
    await post(decision(id, '2024-05-02'));
    await eventually(() => received(id, 'DECISION').length === 1, 20_000, 'decision delivered');
    expect(received(id)).toHaveLength(2);
    expect((await h.hub.health()).hdir?.ok).toBe(true);
  });

  it('sends a notification Helsedirektoratet refuses to the dead-letter topic with its answer, and goes on', async () => {
    const id = nextId();
    hdir.rejectNext(422, 'ukjent retningslinje');
    await post(
      registration(id, {
        guidelineFlags: ['HP-MYELOMATOSE'],
        indication: 'Myelomatose',
        name: 'Teklistamab',
      }),
    );
    const kafka = testKafka();
    const dlq = `${h.topics['hdir.guideline-flags.v1']}.dlq`;
    let reason = '';
    await eventually(
      async () => {
        for (const m of await readAll(kafka, dlq).catch(() => [])) {
          const info = readDeadLetterInfo(m.headers);
          if (info.reason.includes('ukjent retningslinje')) reason = `${info.errorClass}: ${info.reason}`;
        }
        return reason !== '';
      },
      30_000,
      'dead letter for the refused notification',
    );
    expect(reason).toContain('PARTNER_REJECTED');
    await post(decision(id, '2024-06-03'));
    await eventually(() => received(id, 'DECISION').length === 1, 20_000, 'next notification delivered');
  });
});

describe('implementation status', () => {
  let id: string;
  beforeAll(async () => {
    id = nextId();
    await post([registration(id), decision(id, '2024-01-20')]);
    await eventually(
      async () => (await flagsOf(id)).some((f) => f.decidedOn === '2024-01-20'),
      20_000,
      'decided flag',
    );
  });

  it('takes reports forward, keeps them on the topic and serves them filtered', async () => {
    const first = await report({
      methodId: id,
      guidelineId: 'HP-LUNGE',
      status: 'IN_PROGRESS',
      date: '2024-02-01',
    });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { outcome: string; flag: GuidelineFlag }).flag).toMatchObject({
      implementationStatus: 'IN_PROGRESS',
      implementationStatusOn: '2024-02-01',
      reportedBy: 'hdir-fagavdeling',
    });
    const again = await report({
      methodId: id,
      guidelineId: 'HP-LUNGE',
      status: 'IN_PROGRESS',
      date: '2024-02-01',
    });
    expect(((await again.json()) as { outcome: string }).outcome).toBe('unchanged');
    const done = await report({
      methodId: id,
      guidelineId: 'HP-LUNGE',
      status: 'IMPLEMENTED',
      date: '2024-04-30',
      note: 'Tatt inn i versjon 12 av handlingsprogrammet',
    });
    expect(done.status).toBe(200);
    const r = await h.call(`/hdir/v1/flags?status=IMPLEMENTED&methodId=${id}`, { token: tokens.read });
    const body = (await r.json()) as { count: number; flags: FlagView[] };
    expect(body.count).toBe(1);
    expect(body.flags[0]!.statusNote).toBe('Tatt inn i versjon 12 av handlingsprogrammet');
    const times = (await (await h.call('/hdir/v1/implementation-times', { token: tokens.read })).json()) as {
      guidelines: { guidelineId: string; implemented: number; maxDays: number }[];
    };
    expect(times.guidelines.find((g) => g.guidelineId === 'HP-LUNGE')).toMatchObject({ implemented: 1 });
    // Reports are not echoed back to Helsedirektoratet.
    expect(received(id, 'IMPLEMENTATION_STATUS')).toHaveLength(0);
  });

  it('refuses an invalid change of status with the allowed ones named', async () => {
    const back = await report({
      methodId: id,
      guidelineId: 'HP-LUNGE',
      status: 'NOT_STARTED',
      date: '2024-05-01',
    });
    expect(back.status).toBe(409);
    const problem = await problemOf(back);
    expect(problem.code).toBe('ILLEGAL_STATUS_CHANGE');
    expect(problem.detail).toContain('IMPLEMENTED -> NOT_STARTED');
    const earlier = await report({
      methodId: id,
      guidelineId: 'HP-LUNGE',
      status: 'IN_PROGRESS',
      date: '2024-03-01',
    });
    expect(earlier.status).toBe(422);
    expect((await problemOf(earlier)).code).toBe('INVALID_STATUS_DATE');
    const future = await report({
      methodId: id,
      guidelineId: 'HP-LUNGE',
      status: 'IN_PROGRESS',
      date: '2999-01-01',
    });
    expect(future.status).toBe(422);
    expect((await problemOf(future)).detail).toContain('in the future');
  });

  it('refuses an unknown method, an unknown guideline and a guideline the method is not flagged for', async () => {
    const unknownMethod = await report({
      methodId: 'ID2099_999',
      guidelineId: 'HP-LUNGE',
      status: 'IN_PROGRESS',
      date: '2024-02-01',
    });
    expect(unknownMethod.status).toBe(404);
    expect((await problemOf(unknownMethod)).code).toBe('UNKNOWN_METHOD');
    const unknownGuideline = await report({
      methodId: id,
      guidelineId: 'HP-FINNES-IKKE',
      status: 'IN_PROGRESS',
      date: '2024-02-01',
    });
    expect(unknownGuideline.status).toBe(404);
    expect((await problemOf(unknownGuideline)).code).toBe('UNKNOWN_GUIDELINE');
    const notFlagged = await report({
      methodId: id,
      guidelineId: 'HP-BRYST',
      status: 'IN_PROGRESS',
      date: '2024-02-01',
    });
    expect(notFlagged.status).toBe(404);
    const problem = await problemOf(notFlagged);
    expect(problem.code).toBe('NOT_FLAGGED');
    expect(problem.detail).toContain('HP-LUNGE');
    const unknownRead = await h.call('/hdir/v1/flags/ID2099_998', { token: tokens.read });
    expect(unknownRead.status).toBe(404);
  });

  it('refuses bad auth and a malformed report', async () => {
    const body = { methodId: id, guidelineId: 'HP-LUNGE', status: 'IN_PROGRESS', date: '2024-06-01' };
    const none = await report(body, null);
    expect(none.status).toBe(401);
    expect((await problemOf(none)).code).toBe('MISSING_TOKEN');
    const readOnly = await report(body, tokens.read);
    expect(readOnly.status).toBe(403);
    expect((await problemOf(readOnly)).detail).toContain(STATUS);
    const forged = await report(body, `${tokens.status.slice(0, -4)}AAAA`);
    expect(forged.status).toBe(401);
    const noRead = await h.call('/hdir/v1/flags', { token: tokens.caseOnly });
    expect(noRead.status).toBe(403);
    const malformed = await report({
      methodId: 'lunge',
      guidelineId: 'HP-LUNGE',
      status: 'DONE',
      date: '1. mai',
    });
    expect(malformed.status).toBe(400);
    expect((await problemOf(malformed)).code).toBe('INVALID_REQUEST');
    const badQuery = await h.call('/hdir/v1/flags?status=FERDIG', { token: tokens.read });
    expect(badQuery.status).toBe(400);
  });

  it('refuses unknown fields and query parameters by name instead of dropping them, and text/plain with 415', async () => {
    const body = { methodId: id, guidelineId: 'HP-LUNGE', status: 'IN_PROGRESS', date: '2024-06-01' };
    const extra = await report({ ...body, reportedBy: 'someone', priority: 1 });
    expect(extra.status).toBe(400);
    const problem = (await extra.json()) as { code: string; detail: string; errors: { path: string }[] };
    expect(problem.code).toBe('INVALID_REQUEST');
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['priority', 'reportedBy']);
    expect(problem.detail).toContain('reportedBy');
    const unknownQuery = await h.call('/hdir/v1/alerts?since=2024-01-01', { token: tokens.read });
    expect(unknownQuery.status).toBe(400);
    expect(((await unknownQuery.json()) as { detail: string }).detail).toContain('since');
    const plain = await h.call('/hdir/v1/implementation-status', {
      method: 'POST',
      token: tokens.status,
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(body),
    });
    expect(plain.status).toBe(415);
    expect(((await plain.json()) as { detail: string }).detail).toContain('application/json');
  });
});

describe('monitoring and documentation', () => {
  it('raises a run past its deadline as an alert, a metric and a filter, and drops it once implemented', async () => {
    const id = nextId();
    await post([
      registration(id, { indication: 'Malignt melanom', name: 'Nivolumab ved malignt melanom' }),
      decision(id, '2024-02-01'),
    ]);
    await eventually(
      async () =>
        (await flagsOf(id)).some((f) => f.guidelineId === 'HP-MELANOM' && f.decidedOn === '2024-02-01'),
      20_000,
      'decided melanoma flag',
    );
    const overdue = (await (await h.call('/hdir/v1/flags?overdue=true', { token: tokens.read })).json()) as {
      flags: FlagView[];
    };
    const flag = overdue.flags.find((f) => f.flagId === `${id}/HP-MELANOM`);
    expect(flag?.run).toMatchObject({ overdue: true, deadline: '2024-03-02' });
    const alerts = (await (await h.call('/hdir/v1/alerts', { token: tokens.read })).json()) as {
      alerts: { flagId: string; daysOverdue: number }[];
    };
    expect(alerts.alerts.find((a) => a.flagId === `${id}/HP-MELANOM`)?.daysOverdue).toBeGreaterThan(0);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toMatch(/metodehub_hdir_overdue_runs\{guideline="HP-MELANOM"\} [1-9]/);

    expect(
      (await report({ methodId: id, guidelineId: 'HP-MELANOM', status: 'IMPLEMENTED', date: '2024-04-01' }))
        .status,
    ).toBe(200);
    const after = (await (await h.call('/hdir/v1/alerts', { token: tokens.read })).json()) as {
      alerts: { flagId: string }[];
    };
    expect(after.alerts.map((a) => a.flagId)).not.toContain(`${id}/HP-MELANOM`);
    expect(await (await fetch(`${h.url}/metrics`)).text()).toContain(
      'metodehub_hdir_decision_to_implemented_days_count{guideline="HP-MELANOM"}',
    );
  });

  it('links the assessment and the public price note for everyone; the confidential note only with the confidential scope', async () => {
    const id = nextId();
    const secretNote = 'https://intern.sykehusinnkjop.no/prisnotat/ID-konfidensielt.pdf';
    const status = (to: string, n: number) => ({
      eventId: randomUUID(),
      methodId: id,
      type: 'STATUS_CHANGED',
      occurredAt: at(`2024-03-${String(n).padStart(2, '0')}`),
      statusChanged: { to },
    });
    await post([
      registration(id, {
        indication: 'Metastatisk brystkreft',
        name: 'Trastuzumab deruxtecan ved brystkreft',
        supplierConfidentialNote: 'Leverandøren tilbyr 40 prosent rabatt',
      }),
      status('AWAITING_ORDERING', 1),
      status('ASSESSMENT_ORDERED', 2),
      status('ASSESSMENT_IN_PROGRESS', 3),
      {
        eventId: randomUUID(),
        methodId: id,
        type: 'ASSESSMENT_DELIVERED',
        occurredAt: at('2024-03-10'),
        assessmentDelivered: {
          deliveredOn: '2024-03-10',
          reportUrl: 'https://www.nyemetoder.no/rapport/metodevurdering.pdf',
        },
      },
      status('ASSESSMENT_COMPLETED', 11),
      status('PRICE_NEGOTIATION', 12),
      {
        eventId: randomUUID(),
        methodId: id,
        type: 'PRICE_NEGOTIATION_CONCLUDED',
        occurredAt: at('2024-03-20'),
        priceNegotiationConcluded: {
          concludedOn: '2024-03-20',
          agreementType: 'FLAT_DISCOUNT',
          publicPriceNoteUrl: 'https://www.nyemetoder.no/prisnotat/offentlig.pdf',
          confidentialPriceNoteUrl: secretNote,
        },
      },
    ]);
    await eventually(
      async () => (await flagsOf(id)).some((f) => f.publicPriceNoteUrl !== null),
      20_000,
      'documentation on the flag',
    );
    const open = await h.call(`/hdir/v1/flags/${id}`, { token: tokens.read });
    const openText = await open.text();
    expect(JSON.parse(openText).flags[0].documentation).toEqual({
      assessmentUrl: 'https://www.nyemetoder.no/rapport/metodevurdering.pdf',
      publicPriceNoteUrl: 'https://www.nyemetoder.no/prisnotat/offentlig.pdf',
    });
    expect(openText).not.toContain(secretNote);
    expect(openText).not.toContain('40 prosent');
    const listText = await (await h.call('/hdir/v1/flags', { token: tokens.read })).text();
    expect(listText).not.toContain(secretNote);
    const trusted = (await flagsOf(id, tokens.confidential))[0]!;
    expect(trusted.documentation.confidentialPriceNoteUrl).toBe(secretNote);
    expect(trusted.documentation.supplierConfidentialNote).toBe('Leverandøren tilbyr 40 prosent rabatt');
    await eventually(() => received(id, 'FLAGGED').length === 1, 20_000, 'flag notified');
    expect(JSON.stringify(received(id))).not.toContain(secretNote);
  });
});

describe('operator CLI', () => {
  it('sets a status through the same API and checks, and lists flags and alerts', async () => {
    const id = nextId();
    await post([
      registration(id, { name: 'Lorlatinib ved ikke-småcellet lungekreft' }),
      decision(id, '2024-02-10'),
    ]);
    await eventually(
      async () => (await flagsOf(id)).some((f) => f.decidedOn === '2024-02-10'),
      20_000,
      'decided flag',
    );
    const operator = await mint([READ, STATUS], 'operator:kari');
    const target = ['--hub', h.url, '--token', operator];
    const lines: string[] = [];
    const run = (...args: string[]) =>
      hdirCommand((t) => lines.push(t)).parseAsync([...args, ...target], { from: 'user' });

    await run(
      'status',
      id,
      'HP-LUNGE',
      'in-progress',
      '--date',
      '2024-03-01',
      '--note',
      'Satt av fagdirektør',
    );
    expect(lines.at(-1)).toBe(`${id}/HP-LUNGE: IN_PROGRESS since 2024-03-01 (changed)`);
    const flag = (await flagsOf(id)).find((f) => f.guidelineId === 'HP-LUNGE')!;
    expect(flag).toMatchObject({ implementationStatus: 'IN_PROGRESS', reportedBy: 'operator:kari' });

    await expect(run('status', id, 'HP-LUNGE', 'not-started', '--date', '2024-03-02')).rejects.toThrow(
      /409 ILLEGAL_STATUS_CHANGE/,
    );
    await expect(run('status', id, 'HP-LUNGE', 'ferdig')).rejects.toThrow(/must be one of/);

    await run('flags', '--method', id);
    expect(lines.at(-1)).toContain(`${id}/HP-LUNGE`);
    await run('alerts', '--json');
    const alerts = JSON.parse(lines.at(-1)!) as { alerts: { flagId: string }[] };
    expect(alerts.alerts.map((a) => a.flagId)).toContain(`${id}/HP-LUNGE`);
  });
});

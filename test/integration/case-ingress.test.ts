/**
 * The case system's way in, end to end against the real broker and registry: HTTP ingress and direct
 * Kafka producing, method state on the API and on the state topic, time travel, and every kind of bad
 * input getting its own clear answer.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { readDeadLetterInfo } from '../../core/bus/deadLetter.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import { decisionOf, medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, produceMethodEvents, readAll, testBus, testKafka } from '../support/kafka.ts';

let h: TestHub;
let serial = 100;
const nextId = () => `ID2025_${String(serial++).padStart(3, '0')}`;

beforeAll(async () => {
  h = await startTestHub();
});
afterAll(async () => {
  await h?.close();
});

const day = (n: number) => new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString();

function registration(methodId: string, extra: Record<string, unknown> = {}) {
  return {
    eventId: randomUUID(),
    methodId,
    type: 'METHOD_REGISTERED',
    occurredAt: day(0),
    registered: {
      details: {
        name: 'Pembrolizumab til behandling av blærekreft',
        methodType: 'MEDICINE',
        specialty: 'Onkologi',
        substances: ['pembrolizumab'],
        atcCodes: ['L01FF02'],
        supplierConfidentialNote: 'Rabatt på 31 prosent i forhandlingene',
        ...extra,
      },
    },
  };
}

const statusChange = (methodId: string, to: string, n: number, from?: string) => ({
  eventId: randomUUID(),
  methodId,
  type: 'STATUS_CHANGED',
  occurredAt: day(n),
  statusChanged: { to, from: from ?? null, reason: 'Vurdert i møte i Bestillerforum' },
});

const post = (body: unknown, token?: string | null) =>
  h.call('/api/v1/case-events', { method: 'POST', json: body, token });

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  return (await response.json()) as {
    code: string;
    detail: string;
    errors?: { code?: string; reason: string; index?: number; path?: string }[];
  };
}

async function stateOf(methodId: string, asOf?: string): Promise<MethodState> {
  const r = await h.call(`/api/v1/methods/${methodId}${asOf ? `?asOf=${asOf}` : ''}`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { state: MethodState }).state;
}

describe('HTTP ingress', () => {
  it('accepts a batch, answers after it is folded, and serves the state without confidential fields', async () => {
    const id = nextId();
    const r = await post([registration(id), statusChange(id, 'HORIZON_SCANNING', 3)]);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { results: { outcome: string; version: number; status: string }[] };
    expect(body.results.map((x) => [x.outcome, x.version, x.status])).toEqual([
      ['applied', 1, 'PROPOSAL_RECEIVED'],
      ['applied', 2, 'HORIZON_SCANNING'],
    ]);
    const state = await stateOf(id);
    expect(state.status).toBe('HORIZON_SCANNING');
    expect(state.details.supplierConfidentialNote).toBeNull();
    expect(JSON.stringify(state)).not.toContain('Rabatt');
  });

  it('keeps method-state current on its topic', async () => {
    const id = nextId();
    expect((await post(registration(id))).status).toBe(200);
    const kafka = testKafka();
    const { registry } = testBus(kafka);
    registry.alias(h.state, 'nyemetoder.method-state.v1');
    await eventually(
      async () => {
        const messages = await readAll(kafka, h.state);
        for (const m of messages) {
          const { value } = await registry.decode<MethodState>(h.state, m.value);
          if (value.methodId === id) return value.version === 1 && value.recentEventIds.length === 1;
        }
        return false;
      },
      30_000,
      `state of ${id} on ${h.state}`,
    );
  });

  it('treats a resent event as harmless and an id reused for another event as a conflict', async () => {
    const id = nextId();
    const first = registration(id);
    expect((await post(first)).status).toBe(200);
    const again = await post(first);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { results: { outcome: string }[] }).results[0]!.outcome).toBe(
      'duplicate',
    );
    expect((await stateOf(id)).version).toBe(1);
    const reused = await post({ ...statusChange(id, 'HORIZON_SCANNING', 2), eventId: first.eventId });
    expect(reused.status).toBe(409);
    expect((await problemOf(reused)).code).toBe('EVENT_ID_REUSED');
  });

  it.each([
    ['an unknown method', () => [statusChange('ID2025_999', 'HORIZON_SCANNING', 1)], 'UNKNOWN_METHOD'],
    ['an invalid method ID', () => [registration('ID25_1')], 'INVALID_METHOD_ID'],
    ['an invalid ATC code', () => [registration(nextId(), { atcCodes: ['L01XX9'] })], 'INVALID_ATC_CODE'],
    [
      'an illegal transition',
      () => {
        const id = nextId();
        return [registration(id), statusChange(id, 'DECIDED', 2)];
      },
      'ILLEGAL_TRANSITION',
    ],
    [
      'an out-of-order event',
      () => {
        const id = nextId();
        return [
          registration(id),
          statusChange(id, 'HORIZON_SCANNING', 5),
          statusChange(id, 'AWAITING_ORDERING', 4),
        ];
      },
      'OUT_OF_ORDER',
    ],
  ])(
    'refuses %s with 422, naming the reason, and writes nothing of the batch',
    async (_what, events, code) => {
      const batch = events();
      const r = await post(batch);
      expect(r.status).toBe(422);
      const problem = await problemOf(r);
      expect(problem.code).toBe('REJECTED');
      expect(problem.errors!.map((e) => e.code)).toContain(code);
      expect(problem.detail).toContain('nothing was written');
      const first = batch[0]!;
      if (first.type === 'METHOD_REGISTERED' && code !== 'INVALID_METHOD_ID' && code !== 'INVALID_ATC_CODE') {
        expect((await h.call(`/api/v1/methods/${first.methodId}`)).status).toBe(404);
      }
    },
  );

  it('refuses an unknown query parameter with 400 naming it, and writes nothing', async () => {
    const id = nextId();
    const r = await h.call('/api/v1/case-events?dryRun=true', { method: 'POST', json: registration(id) });
    expect(r.status).toBe(400);
    const problem = await problemOf(r);
    expect(problem.code).toBe('UNKNOWN_QUERY_PARAMETER');
    expect(problem.detail).toContain('dryRun');
    expect((await h.call(`/api/v1/methods/${id}`)).status).toBe(404);
  });

  it('lists every contract problem of every event with 400', async () => {
    const r = await post([{ ...registration(nextId()), type: 'METHOD_INVENTED' }, { eventId: 7 }]);
    expect(r.status).toBe(400);
    const problem = await problemOf(r);
    expect(problem.code).toBe('INVALID_EVENT');
    expect(problem.errors!.some((e) => e.index === 0 && e.path === 'type')).toBe(true);
    expect(problem.errors!.some((e) => e.index === 1 && e.reason.includes('methodId'))).toBe(true);
  });

  it('refuses malformed and oversized JSON', async () => {
    const malformed = await h.call('/api/v1/case-events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"eventId": "x",',
    });
    expect(malformed.status).toBe(400);
    expect((await problemOf(malformed)).code).toBe('MALFORMED_JSON');
    const huge = await post([registration(nextId(), { shortDescription: 'å'.repeat(150_000) })]);
    expect(huge.status).toBe(413);
    expect((await problemOf(huge)).code).toBe('BODY_TOO_LARGE');
  });

  it('refuses missing, expired, foreign and wrong-scope tokens', async () => {
    const body = registration(nextId());
    const missing = await post(body, null);
    expect(missing.status).toBe(401);
    expect((await problemOf(missing)).code).toBe('MISSING_TOKEN');
    const expired = await post(body, await h.hub.devToken(undefined, -300));
    expect(expired.status).toBe(401);
    expect((await problemOf(expired)).code).toBe('TOKEN_EXPIRED');
    const stranger = await DevIssuer.ephemeral();
    const foreign = await post(
      body,
      await stranger.mint({ scopes: ['nyemetoder:case-events:write'], audience: 'metodehub' }),
    );
    expect(foreign.status).toBe(401);
    const readOnly = await post(body, await h.hub.devToken(['nyemetoder:methods:read']));
    expect(readOnly.status).toBe(403);
    expect((await problemOf(readOnly)).code).toBe('INSUFFICIENT_SCOPE');
    expect((await h.call(`/api/v1/methods/${body.methodId}`)).status).toBe(404);
  });
});

describe('direct Kafka producing', () => {
  const produce = (events: MethodEvent[]) => produceMethodEvents(h.events, events);

  it('folds good events and dead-letters refused ones with the reason', async () => {
    const id = nextId();
    const { methodEvent } = await import('../../core/lifecycle/eventBuilder.ts');
    const good = methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }, { occurredAt: day(1) });
    const illegal = methodEvent('DECISION_MADE', id, decisionOf('INTRODUCED', '2025-03-01'), {
      occurredAt: day(2),
    });
    await produce([good, illegal]);
    await eventually(
      async () => (await h.call(`/api/v1/methods/${id}`)).status === 200,
      20_000,
      'state on the API',
    );
    let info: ReturnType<typeof readDeadLetterInfo> | undefined;
    await eventually(
      async () => {
        const dead = await readAll(testKafka(), `${h.events}.dlq`);
        info = dead.map((m) => readDeadLetterInfo(m.headers)).find((i) => i.reason?.includes(id));
        return info !== undefined;
      },
      30_000,
      'the dead letter',
    );
    expect(info?.errorClass).toBe('DOMAIN_RULE');
    expect(info?.reason).toContain('ILLEGAL_TRANSITION');
    expect((await stateOf(id)).version).toBe(1);
  });
});

describe('reads', () => {
  const id = nextId();
  beforeAll(async () => {
    const r = await post([
      registration(id),
      statusChange(id, 'HORIZON_SCANNING', 10),
      { ...statusChange(id, 'AWAITING_ORDERING', 40), actor: 'Sekretariatet for Nye metoder' },
      {
        eventId: randomUUID(),
        methodId: id,
        type: 'DETAILS_CHANGED',
        occurredAt: day(45),
        detailsChanged: {
          details: { ...registration(id).registered.details, name: 'Pembrolizumab ved urotelialt karsinom' },
        },
      },
    ]);
    expect(r.status).toBe(200);
  });

  it('travels in time by when events occurred', async () => {
    expect((await stateOf(id, day(5))).status).toBe('PROPOSAL_RECEIVED');
    expect((await stateOf(id, '2025-01-20')).status).toBe('HORIZON_SCANNING');
    expect((await stateOf(id)).status).toBe('AWAITING_ORDERING');
    const before = await h.call(`/api/v1/methods/${id}?asOf=2024-12-31`);
    expect(before.status).toBe(404);
    expect((await problemOf(before)).code).toBe('NOT_YET_REGISTERED');
    const bad = await h.call(`/api/v1/methods/${id}?asOf=last-tuesday`);
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).code).toBe('INVALID_AS_OF');
  });

  it('gives the history with a change log of status and text changes', async () => {
    const r = await h.call(`/api/v1/methods/${id}/history`);
    const body = (await r.json()) as {
      events: MethodEvent[];
      changeLog: {
        type: string;
        status: { from: string; to: string } | null;
        textChanges: { field: string; to: string }[];
      }[];
    };
    expect(body.events).toHaveLength(4);
    expect(body.changeLog.map((c) => c.status?.to ?? null)).toEqual([
      'PROPOSAL_RECEIVED',
      'HORIZON_SCANNING',
      'AWAITING_ORDERING',
      null,
    ]);
    expect(body.changeLog[3]!.textChanges).toContainEqual({
      field: 'details.name',
      from: 'Pembrolizumab til behandling av blærekreft',
      to: 'Pembrolizumab ved urotelialt karsinom',
    });
    expect(JSON.stringify(body)).not.toContain('Rabatt');
    const past = (await (await h.call(`/api/v1/methods/${id}/history?asOf=${day(20)}`)).json()) as {
      events: unknown[];
    };
    expect(past.events).toHaveLength(2);
  });

  it('filters the list and refuses an unknown status', async () => {
    const list = (await (
      await h.call('/api/v1/methods?status=AWAITING_ORDERING&atc=L01F&substance=pembro')
    ).json()) as {
      items: { methodId: string }[];
    };
    expect(list.items.map((i) => i.methodId)).toContain(id);
    const none = (await (await h.call('/api/v1/methods?type=MEDICAL_DEVICE')).json()) as { total: number };
    expect(none.total).toBe(0);
    const bad = await h.call('/api/v1/methods?status=WAITING');
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).detail).toContain('WAITING');
  });

  it('serves stage statistics with drill-down, and the OpenAPI document', async () => {
    const stats = (await (await h.call('/api/v1/stats/stages?by=specialty')).json()) as {
      durations: { group: string; stages: { stage: string; visits: number }[] }[];
      counts: Record<string, number>;
    };
    const onkologi = stats.durations.find((g) => g.group === 'Onkologi')!;
    expect(onkologi.stages.find((s) => s.stage === 'PROPOSAL_RECEIVED')!.visits).toBeGreaterThan(0);
    expect(stats.counts.AWAITING_ORDERING).toBeGreaterThan(0);
    const past = (await (await h.call(`/api/v1/stats/stages?asOf=${day(20)}`)).json()) as {
      counts: Record<string, number>;
    };
    expect(past.counts.AWAITING_ORDERING).toBe(0);
    const openapi = (await (await h.call('/api/v1/openapi.json', { token: null })).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/case-events',
        '/api/v1/methods/{id}',
        '/api/v1/methods/{id}/history',
        '/api/v1/stats/stages',
      ]),
    );
  });
});

/**
 * The method routes on a real server on 127.0.0.1 over a real store: search by level (national or local
 * mini-HTA), unknown parameters refused by name, asOf dates as Norwegian days, exceptions per region, and the
 * decision rounds in the history and the statistics.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { decisionOf, medicineDetails } from '../demo/fixtures.ts';
import { loadConfig } from '../config/spec.ts';
import { methodEvent } from '../lifecycle/eventBuilder.ts';
import { MethodStore } from '../lifecycle/methodStore.ts';
import { TokenVerifier } from './auth.ts';
import { DEV_ISSUER, DevIssuer } from './devIssuer.ts';
import { methodRoutes, parseAsOf } from './methodRoutes.ts';
import { createHubServer } from './server.ts';

const READ = 'nyemetoder:methods:read';
const store = new MethodStore();
let app: FastifyInstance;
let url: string;
let token: string;

interface Item {
  methodId: string;
  level: string;
}
interface Exception {
  exceptionId: string;
  trust: string | null;
}
interface Region {
  rhf: string;
  valid: number;
  exceptions: Exception[];
}
/** The fields of the answers these tests read. */
interface Body {
  total: number;
  methods: number;
  asOf: string | null;
  validOn: string;
  items: Item[];
  errors: { path: string }[];
  regions: Region[];
  decisions: { round: number; outcome: string; after: string | null }[];
  newPriceOffers: unknown[];
  paths: Record<string, { get: { parameters: { name: string }[] } }>;
}

const get = async (path: string) => {
  const r = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as Body };
};

const status = (id: string, to: string, at: string) =>
  methodEvent('STATUS_CHANGED', id, { from: null, to, reason: null } as never, { occurredAt: at });

/** A national medicine decided "not introduced", a new price offer and a new decision, with two exceptions. */
function nationalLife(id: string): MethodEvent[] {
  const at = (n: number) => new Date(Date.UTC(2023, 0, 2, 10) + n * 86_400_000).toISOString();
  const date = (n: number) => at(n).slice(0, 10);
  return [
    methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }, { occurredAt: at(0) }),
    ...['AWAITING_ORDERING', 'ASSESSMENT_ORDERED', 'ASSESSMENT_IN_PROGRESS'].map((to, i) =>
      status(id, to, at(i + 1)),
    ),
    methodEvent(
      'EXCEPTION_GRANTED',
      id,
      {
        exceptionId: 'EPU-1',
        kind: 'INDIVIDUAL_PATIENT',
        scope: null,
        holder: { rhf: 'HELSE_MIDT_NORGE', trust: 'St. Olavs hospital HF' },
        effectiveOn: date(5),
      },
      { occurredAt: at(5) },
    ),
    methodEvent(
      'EXCEPTION_GRANTED',
      id,
      {
        exceptionId: 'GU-1',
        kind: 'GROUP',
        scope: 'Barn',
        holder: { rhf: 'HELSE_NORD', trust: null },
        effectiveOn: date(6),
      },
      { occurredAt: at(6) },
    ),
    ...['ASSESSMENT_COMPLETED', 'AWAITING_DECISION'].map((to, i) => status(id, to, at(i + 10))),
    methodEvent('DECISION_MADE', id, decisionOf('NOT_INTRODUCED', date(20)), { occurredAt: at(20) }),
    methodEvent(
      'EXCEPTION_OVERRIDDEN',
      id,
      {
        exceptionId: 'GU-1',
        kind: 'GROUP',
        scope: 'Barn',
        holder: { rhf: 'HELSE_NORD', trust: null },
        effectiveOn: date(34),
      },
      { occurredAt: at(21) },
    ),
    methodEvent('PRICE_NEGOTIATION_STARTED', id, { startedOn: date(100) }, { occurredAt: at(100) }),
    methodEvent(
      'PRICE_NEGOTIATION_CONCLUDED',
      id,
      {
        concludedOn: date(130),
        agreementType: 'FLAT_DISCOUNT',
        publicPriceNoteUrl: null,
        confidentialPriceNoteUrl: null,
      },
      { occurredAt: at(130) },
    ),
    methodEvent('DECISION_MADE', id, decisionOf('INTRODUCED', date(150), { effectiveFrom: date(160) }), {
      occurredAt: at(150),
    }),
  ];
}

beforeAll(async () => {
  for (const event of [
    ...nationalLife('ID2023_001'),
    methodEvent(
      'METHOD_REGISTERED',
      'ID2023_002',
      {
        details: {
          ...medicineDetails(),
          methodType: 'PROCEDURE',
          level: 'LOCAL',
          name: 'Mini-metodevurdering',
        },
      },
      // 00:30 on 1 July in Oslo, 30 June in UTC
      { occurredAt: '2024-06-30T22:30:00.000Z' },
    ),
  ]) {
    expect(store.offer(event).outcome, event.type).toBe('applied');
  }
  const issuer = await DevIssuer.ephemeral();
  app = await createHubServer({
    config: loadConfig({}),
    verifier: new TokenVerifier({ jwks: issuer.jwks(), issuer: DEV_ISSUER, audience: 'metodehub' }),
    ready: () => true,
  });
  await app.register(methodRoutes(store, READ));
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  token = await issuer.mint({ scopes: [READ], audience: 'metodehub', subject: 'secretariat' });
});

afterAll(async () => {
  await app?.close();
});

describe('search by level', () => {
  it('filters on ?level=LOCAL or NATIONAL, lists both without it, and each item carries its level', async () => {
    const local = await get('/api/v1/methods?level=LOCAL');
    expect(local.status).toBe(200);
    expect(local.body.items.map((i) => [i.methodId, i.level])).toEqual([['ID2023_002', 'LOCAL']]);
    const national = await get('/api/v1/methods?level=NATIONAL&type=MEDICINE');
    expect(national.body.items.map((i) => [i.methodId, i.level])).toEqual([['ID2023_001', 'NATIONAL']]);
    expect((await get('/api/v1/methods')).body.total).toBe(2);
    expect((await get('/api/v1/stats/stages?level=LOCAL')).body.methods).toBe(1);
  });

  it('refuses a level that is not one, and unknown parameters on every method route, naming them', async () => {
    const bad = await get('/api/v1/methods?level=REGIONAL');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('level');
    for (const path of [
      '/api/v1/methods?nivå=LOCAL',
      '/api/v1/methods/ID2023_001?nivå=LOCAL',
      '/api/v1/methods/ID2023_001/history?nivå=LOCAL',
      '/api/v1/methods/ID2023_001/exceptions?nivå=LOCAL',
      '/api/v1/stats/stages?nivå=LOCAL',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(
        r.body.errors.map((e) => e.path),
        path,
      ).toEqual(['nivå']);
    }
  });

  it('documents level in the OpenAPI document', async () => {
    const doc = await get('/api/v1/openapi.json');
    const params = doc.body.paths['/api/v1/methods']!.get.parameters.map((p) => p.name);
    expect(params).toContain('level');
    expect(doc.body.paths['/api/v1/methods/{id}/exceptions']).toBeDefined();
  });
});

describe('asOf as a date', () => {
  it('means the end of that day in Europe/Oslo, not UTC', async () => {
    expect(parseAsOf('2024-06-30')).toEqual({ ok: true, at: Date.parse('2024-06-30T21:59:59.999Z') });
    expect(parseAsOf('2024-01-15')).toEqual({ ok: true, at: Date.parse('2024-01-15T22:59:59.999Z') });
    // registered 00:30 on 1 July Norwegian time: not there at the end of 30 June, there at the end of 1 July
    expect((await get('/api/v1/methods/ID2023_002?asOf=2024-06-30')).status).toBe(404);
    const july = await get('/api/v1/methods/ID2023_002?asOf=2024-07-01');
    expect(july.status).toBe(200);
    expect(july.body.asOf).toBe('2024-07-01T21:59:59.999Z');
    expect((await get('/api/v1/methods?asOf=2024-06-30&level=LOCAL')).body.total).toBe(0);
  });
});

describe('exceptions per region', () => {
  it('shows which regions and trusts hold which exceptions, and from when a decision overrode each', async () => {
    const r = await get('/api/v1/methods/ID2023_001/exceptions');
    expect(r.status).toBe(200);
    const held = r.body.regions.map((g) => [g.rhf, g.valid, g.exceptions.map((x) => x.exceptionId)]);
    expect(held).toEqual([
      ['HELSE_SOR_OST', 0, []],
      ['HELSE_VEST', 0, []],
      ['HELSE_MIDT_NORGE', 1, ['EPU-1']],
      ['HELSE_NORD', 0, ['GU-1']],
    ]);
    const group = r.body.regions[3]!.exceptions[0];
    expect(group).toMatchObject({
      overriddenFrom: '2023-02-05',
      overriddenBy: { outcome: 'NOT_INTRODUCED', decidedOn: '2023-01-22' },
      valid: false,
    });
    expect(r.body.regions[2]!.exceptions[0]!.trust).toBe('St. Olavs hospital HF');
    // before the override date, the group exception still held
    const before = await get('/api/v1/methods/ID2023_001/exceptions?asOf=2023-02-04');
    expect(before.body.validOn).toBe('2023-02-04');
    expect(before.body.regions[3]!.valid).toBe(1);
    expect((await get('/api/v1/methods/ID2099_001/exceptions')).status).toBe(404);
  });
});

describe('a new decision after a new price offer', () => {
  it('is in the history as a second round and in the stage statistics', async () => {
    const history = await get('/api/v1/methods/ID2023_001/history');
    expect(history.body.decisions.map((d) => [d.round, d.outcome, d.after])).toEqual([
      [1, 'NOT_INTRODUCED', null],
      [2, 'INTRODUCED', 'NEW_PRICE_OFFER'],
    ]);
    const stats = await get('/api/v1/stats/stages');
    expect(stats.body.newPriceOffers).toEqual([
      expect.objectContaining({
        methodId: 'ID2023_001',
        days: 50,
        decidedAgainAt: '2023-06-01T10:00:00.000Z',
      }),
    ]);
  });
});

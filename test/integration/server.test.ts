/**
 * The hub's HTTP doors on a real server on 127.0.0.1 with real routes (methods, the fest vendor routes):
 * unknown fields and query parameters, media types, UTF-8, strict dates, the 5xx log with correlation ids,
 * and vendor webhook URLs refused at registration and again at send time, via a resolver that never
 * reaches a real DNS server and with no traffic but loopback.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VilkarCatalogue } from '../../adapters/fest/catalogue.ts';
import { WebhookPusher } from '../../adapters/fest/push.ts';
import { festRoutes } from '../../adapters/fest/routes.ts';
import { VendorWebhooks } from '../../adapters/fest/vendors.ts';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { FestVendorEmulator } from '../emulators/fest-vendor/server.ts';
import { deleteTopics, testBus, testKafka, uniqueName } from '../support/kafka.ts';
import { StateStore } from '../../core/bus/stateStore.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { MethodStore } from '../../core/lifecycle/methodStore.ts';
import { TokenVerifier } from '../../core/http/auth.ts';
import { DEV_ISSUER, DevIssuer } from '../../core/http/devIssuer.ts';
import { methodRoutes, parseAsOf } from '../../core/http/methodRoutes.ts';
import { isInstant } from '../../core/http/queryFormats.ts';
import { createHubServer, invalidUtf8Offset, loggableUrl } from '../../core/http/server.ts';
import { UrlGuard } from '../../core/http/urlGuard.ts';

const READ = 'nyemetoder:methods:read';
const VENDOR = 'fest:vilkar:read';
const logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});
/** What each test host name resolves to now; anything else does not resolve. */
const dns = new Map<string, string[]>();
const guard = new UrlGuard({
  allowHttp: true,
  allowedHosts: [],
  resolve: async (host) => {
    const answer = dns.get(host);
    if (!answer) throw Object.assign(new Error(`${host} not found`), { code: 'ENOTFOUND' });
    return answer;
  },
});
const vendor = new FestVendorEmulator('vendor-secret-0123456789');
let app: FastifyInstance;
let url: string;
let token: string;
let webhooks: VendorWebhooks;
let catalogue: VilkarCatalogue;
let pusher: WebhookPusher;
const kafka = testKafka();
const bus = testBus(kafka);
const stateTopics: string[] = [];
/** Webhooks kept on a fresh compacted topic of the real broker, as the fest adapter keeps them. */
const freshWebhooks = () => {
  const topic = uniqueName('test.fest-vendor-webhooks');
  stateTopics.push(topic);
  bus.registry.alias(topic, 'fest.vendor-webhooks.v1');
  return new VendorWebhooks(
    new StateStore(kafka, bus.registry, bus.producer, { declared: 'fest.vendor-webhooks.v1', topic }),
    randomBytes(32).toString('base64'),
  );
};

const call = (path: string, init: RequestInit & { json?: unknown } = {}) => {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  return fetch(`${url}${path}`, {
    ...init,
    headers,
    body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
  });
};
const problemOf = async (r: Response) =>
  (await r.json()) as {
    code: string;
    detail: string;
    correlationId?: string;
    errors?: { code?: string; path?: string; reason: string }[];
  };

const entry = (n: number): FestVilkar => ({
  vilkarId: `NM-ID2026_${String(n).padStart(3, '0')}`,
  methodId: `ID2026_${String(n).padStart(3, '0')}`,
  catalogueVersion: n,
  withdrawn: false,
  statusCode: 'UNDER_VURDERING',
  statusText: 'Under vurdering',
  text: 'Metoden er under vurdering i Nye metoder.',
  validFrom: null,
  validTo: null,
  substances: ['tarlatamab'],
  atcCodes: ['L01FX33'],
  indication: null,
  link: null,
  changedAt: new Date().toISOString(),
  entryId: null,
  earlierEntries: [],
  vilkarNr: n,
});

beforeAll(async () => {
  const issuer = await DevIssuer.ephemeral();
  const config = loadConfig({});
  app = await createHubServer({
    config,
    verifier: new TokenVerifier({ jwks: issuer.jwks(), issuer: DEV_ISSUER, audience: 'metodehub' }),
    ready: () => true,
    logger: pino({ level: 'info' }, logStream),
  });
  await app.register(methodRoutes(new MethodStore(), READ));
  catalogue = new VilkarCatalogue();
  webhooks = freshWebhooks();
  await webhooks.load();
  const render = { codeSetOid: '2.16.578.1.12.4.1.1.9901' };
  pusher = new WebhookPusher(
    webhooks,
    catalogue,
    { ...render, batchSize: 10, retryBaseMs: 60_000, retryMaxMs: 60_000, timeoutMs: 2000 },
    guard,
  );
  await app.register(
    festRoutes({
      catalogue,
      webhooks,
      pusher,
      urlGuard: guard,
      vendorScope: VENDOR,
      ready: () => true,
      ...render,
    }),
  );
  app.get('/test/explode', async () => {
    throw new Error('the projection lost its ledger (internal detail)');
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  token = await issuer.mint({ scopes: [READ, VENDOR], audience: 'metodehub', subject: 'vendor-dips' });
  await vendor.start();
});

afterAll(async () => {
  await pusher?.stop();
  await app?.close();
  await bus.producer.disconnect();
  await deleteTopics(kafka, stateTopics);
  await vendor.stop();
});

describe('unknown fields and query parameters', () => {
  it('refuses unknown query parameters on a route with a closed querystring, naming each', async () => {
    const r = await call('/api/v1/methods?type=MEDICINE&region=vest&foo=1');
    expect(r.status).toBe(400);
    const problem = await problemOf(r);
    expect(problem.code).toBe('INVALID_REQUEST');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['foo', 'region']);
    expect(problem.detail).toContain('unknown query parameters: ');
    expect((await call('/api/v1/methods?type=MEDICINE&limit=5')).status).toBe(200);
  });

  it('refuses query parameters on a route that declares none', async () => {
    for (const path of ['/fest/v1/webhook?verbose=1', '/health?x=1', '/api/v1/openapi.json?foo=bar']) {
      const r = await call(path);
      expect(r.status, path).toBe(400);
      expect((await problemOf(r)).errors?.[0]?.path).toBe(path.split('?')[1]!.split('=')[0]);
    }
  });

  it('refuses unknown body fields on PUT /fest/v1/webhook instead of dropping them', async () => {
    dns.set('hooks.vendor.test', ['93.184.216.34']);
    const r = await call('/fest/v1/webhook', {
      method: 'PUT',
      json: { url: 'https://hooks.vendor.test/fest', secret: 'another-secret-0123456789', events: 'all' },
    });
    expect(r.status).toBe(400);
    const problem = await problemOf(r);
    expect(problem.errors).toEqual([expect.objectContaining({ code: 'UNKNOWN_FIELD', path: 'events' })]);
    expect(webhooks.get('vendor-dips')).toBeUndefined();
  });

  it('documents 400 on every route and 415 on routes that take a body', async () => {
    const doc = (await (await call('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.paths['/api/v1/methods']!.get!.responses)).toContain('400');
    expect(Object.keys(doc.paths['/fest/v1/webhook']!.put!.responses)).toEqual(
      expect.arrayContaining(['400', '415']),
    );
  });
});

describe('media types and bytes', () => {
  it('answers text/plain with 415 naming what the route takes', async () => {
    const r = await call('/fest/v1/webhook/resend', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"fromVersion":0}',
    });
    expect(r.status).toBe(415);
    const problem = await problemOf(r);
    expect(problem.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(problem.detail).toContain('application/json');
    expect(problem.detail).toContain('text/plain');
  });

  it('refuses invalid UTF-8 in a JSON body with the byte offset, not a silent U+FFFD', async () => {
    const body = Buffer.concat([
      Buffer.from('{"fromVersion":0,"x":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    const r = await call('/fest/v1/webhook/resend', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(r.status).toBe(400);
    const problem = await problemOf(r);
    expect(problem.code).toBe('INVALID_UTF8');
    expect(problem.detail).toContain('offset 22');
  });

  it('finds the first invalid UTF-8 sequence', () => {
    expect(invalidUtf8Offset(Buffer.from('æøå ok', 'utf8'))).toBe(-1);
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xff]))).toBe(1);
    expect(invalidUtf8Offset(Buffer.from([0x61, 0xe2, 0x82]))).toBe(1);
    expect(invalidUtf8Offset(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a UTF-16 surrogate
    expect(invalidUtf8Offset(Buffer.from([0xc0, 0xaf]))).toBe(0); // overlong
  });
});

describe('dates and instants', () => {
  it('refuses asOf=2023-02-30 instead of rolling into March, naming the parameter', async () => {
    const r = await call('/api/v1/methods?asOf=2023-02-30');
    expect(r.status).toBe(400);
    const problem = await problemOf(r);
    expect(problem.code).toBe('INVALID_AS_OF');
    expect(problem.detail).toContain('asOf=2023-02-30');
    expect((await call('/api/v1/methods?asOf=2024-02-29')).status).toBe(200);
  });

  it.each([
    ['2023-02-30', false],
    ['2023-02-28', true],
    ['2023-02-28T24:00:00Z', false],
    ['2023-02-30T10:00:00Z', false],
    ['2023-02-28T10:60:00Z', false],
    ['2023-02-28T10:00:00', false],
    ['2023-02-28T10:00:00+25:00', false],
    ['2023-02-28T10:00:00.123+01:00', true],
    ['2023-02-28T10:00Z', true],
    ['last-tuesday', false],
  ])('reads asOf=%s strictly', (raw, ok) => {
    expect(parseAsOf(raw).ok).toBe(ok);
    if (raw.includes('T')) expect(isInstant(raw)).toBe(ok);
  });
});

describe('errors and correlation ids', () => {
  it('logs a 500 with method, url without secrets, status and correlation id, and gives the id back', async () => {
    const r = await call('/test/explode', { headers: { 'x-correlation-id': 'case-4711' } });
    expect(r.status).toBe(500);
    expect(r.headers.get('x-correlation-id')).toBe('case-4711');
    const problem = await problemOf(r);
    expect(problem.correlationId).toBe('case-4711');
    expect(problem.detail).not.toContain('internal detail');
    const line = logLines.find((l) => l.correlationId === 'case-4711');
    expect(line).toMatchObject({ method: 'GET', url: '/test/explode', status: 500, level: 50 });
    expect(JSON.stringify(line)).toContain('internal detail');
  });

  it('generates a correlation id when none (or an unusable one) is given, on 4xx too', async () => {
    const r = await call('/api/v1/methods/nope', { headers: { 'x-correlation-id': 'bad id\twith spaces' } });
    const id = r.headers.get('x-correlation-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await problemOf(r)).correlationId).toBe(id);
  });

  it('redacts secret-looking query values in logged URLs', () => {
    expect(loggableUrl('/x?asOf=2024-01-01&access_token=abc&apiKey=k')).toBe(
      '/x?asOf=2024-01-01&access_token=%5Bredacted%5D&apiKey=%5Bredacted%5D',
    );
  });
});

describe('vendor webhook URLs', () => {
  it.each([
    'http://127.0.0.1:8080/',
    'https://localhost/',
    'https://[::1]/',
    'https://0.0.0.0/',
    'https://169.254.169.254/latest/meta-data/',
    'https://0xA9FEA9FE/',
    'https://2852039166/',
    'https://0251.0376.0251.0376/',
    'https://10.0.0.1/',
    'https://172.16.5.4/',
    'https://172.31.255.255/',
    'https://192.168.1.1/',
    'https://100.64.0.1/',
    'https://[fc00::1]/',
    'https://[fd12:3456::1]/',
    'https://[fe80::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://224.0.0.1/',
    'https://[ff02::1]/',
    'https://255.255.255.255/',
    'https://user:pass@hooks.vendor.test/',
    'ftp://hooks.vendor.test/',
    'https://internal.vendor.test/',
  ])('refuses %s at registration', async (target) => {
    dns.set('hooks.vendor.test', ['93.184.216.34']);
    dns.set('internal.vendor.test', ['93.184.216.34', '10.1.2.3']);
    const r = await call('/fest/v1/webhook', {
      method: 'PUT',
      json: { url: target, secret: 'another-secret-0123456789' },
    });
    expect(r.status).toBe(400);
    const problem = await problemOf(r);
    expect(['INVALID_WEBHOOK_URL', 'INVALID_REQUEST']).toContain(problem.code);
    expect(webhooks.get('vendor-dips')).toBeUndefined();
  });

  it('refuses http unless the dev setting allows it', async () => {
    const strict = new UrlGuard({
      allowHttp: false,
      allowedHosts: [],
      resolve: async () => ['93.184.216.34'],
    });
    expect(await strict.check('http://hooks.vendor.test/')).toMatchObject({ ok: false });
    expect(await strict.check('https://hooks.vendor.test/')).toMatchObject({ ok: true });
    const allowed = new UrlGuard({ allowHttp: true, allowedHosts: ['127.0.0.1'] });
    expect(await allowed.check('http://127.0.0.1:9/x')).toMatchObject({ ok: true });
  });

  it('refuses at send time a host whose resolution changed to a private address, telling the vendor only that', async () => {
    const host = 'rebinding.vendor.test';
    const port = new URL(vendor.url).port;
    dns.set(host, ['93.184.216.34']); // public at registration; the catalogue is empty, so nothing is sent
    const put = await call('/fest/v1/webhook', {
      method: 'PUT',
      json: { url: `http://${host}:${port}/fest/deltas`, secret: vendor.secret },
    });
    expect(put.status).toBe(201);
    dns.set(host, ['127.0.0.1']); // now it points at the hub's own machine
    catalogue.offer(entry(1));
    expect(await pusher.deliverNext(webhooks.get('vendor-dips')!)).toBe('failed');
    const view = (await (await call('/fest/v1/webhook')).json()) as { lastError: string; cursor: number };
    expect(view.lastError).toMatch(/^refused by policy: .*127\.0\.0\.1.*loopback/);
    expect(view.cursor).toBe(0);
    expect(vendor.attempts).toBe(0);
  });

  it('refuses in the connection lookup an answer that changed between the check and the connect', async () => {
    const host = 'flipping.vendor.test';
    let lookups = 0;
    const flipping = new UrlGuard({
      allowHttp: true,
      allowedHosts: [],
      resolve: async () => (lookups++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']),
    });
    const alone = freshWebhooks();
    await alone.load();
    const own = new WebhookPusher(
      alone,
      catalogue,
      {
        codeSetOid: '2.16.578.1.12.4.1.1.9901',
        batchSize: 10,
        retryBaseMs: 1,
        retryMaxMs: 1,
        timeoutMs: 2000,
      },
      flipping,
    );
    await alone.put({
      vendor: 'vendor-flip',
      url: `http://${host}:${new URL(vendor.url).port}/fest/deltas`,
      secret: vendor.secret,
      cursor: 0,
      registeredAt: new Date().toISOString(),
      lastDeliveredAt: null,
      failures: 0,
      lastError: null,
    });
    expect(await own.deliverNext(alone.get('vendor-flip')!)).toBe('failed');
    expect(lookups).toBe(2);
    expect(alone.get('vendor-flip')!.lastError).toMatch(/^refused by policy: .*127\.0\.0\.1/);
    expect(vendor.attempts).toBe(0);
  });

  it("tells the vendor only its endpoint's status class, never the body", async () => {
    const allowed = new UrlGuard({ allowHttp: true, allowedHosts: ['127.0.0.1'] });
    const alone = freshWebhooks();
    await alone.load();
    const own = new WebhookPusher(
      alone,
      catalogue,
      {
        codeSetOid: '2.16.578.1.12.4.1.1.9901',
        batchSize: 10,
        retryBaseMs: 1,
        retryMaxMs: 1,
        timeoutMs: 2000,
      },
      allowed,
    );
    await alone.put({
      vendor: 'vendor-loop',
      url: vendor.url,
      secret: vendor.secret,
      cursor: 0,
      registeredAt: new Date().toISOString(),
      lastDeliveredAt: null,
      failures: 0,
      lastError: null,
    });
    vendor.failNext(1, 503);
    expect(await own.deliverNext(alone.get('vendor-loop')!)).toBe('failed');
    expect(alone.get('vendor-loop')!.lastError).toBe('your endpoint answered HTTP 5xx');
    expect(await own.deliverNext(alone.get('vendor-loop')!)).toBe('delivered');
    expect(vendor.deliveries.at(-1)?.signatureValid).toBe(true);
  });
});

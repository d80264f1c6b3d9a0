/**
 * The fest adapter end to end against the real broker and registry, with the demo history loaded: a
 * vendor fetches the full extract and validates it with libxml2 against the official FEST 2.5.1 strict schema,
 * fetches an incremental extract since the time of its last one after a new decision and sees exactly that
 * change (the old entry utgått, a new active one), and its registered webhook receives it within a second;
 * retries, resend, restart, auth and the confidential search.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { festAdapter, type FestAdapter } from '../../adapters/fest/adapter.ts';
import { entryIdOf, festVilkarIdOf } from '../../adapters/fest/ids.ts';
import { draftOf, festVilkarFor, sameVilkar, type VilkarDraft } from '../../adapters/fest/mapping.ts';
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { StateStore } from '../../core/bus/stateStore.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { demoHistory } from '../../core/demo/history.ts';
import { createHub } from '../../bin/hub.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { FestVendorEmulator } from '../emulators/fest-vendor/server.ts';
import { officialFestSchemas, validateOfficialFest } from '../support/festSchema.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testBus, testKafka, uniqueName } from '../support/kafka.ts';

const SCOPE = 'fest:vilkar:read';
const LINK_BASE = 'https://www.nyemetoder.no/metoder/';
const schemas = officialFestSchemas();
/** Valid against the official strict schema (libxml2), every xs:ID once (which libxml2 does not check). */
async function expectOfficialFest(xml: string): Promise<void> {
  const ids = [...xml.matchAll(/<Id>([^<]*)<\/Id>/g)].map((m) => m[1]);
  expect(new Set(ids).size).toBe(ids.length);
  if (!schemas) {
    console.warn('FEST_SCHEMAS_MISSING: official-schema check skipped (no shared/reference/fest-2.5.1)');
    return;
  }
  expect(await validateOfficialFest(xml)).toEqual({ valid: true, errors: [] });
}
/** A webhook body the vendor stand-in checked against the official schema (skipped, saying so, like the above). */
async function expectValidDelivery(delivery: { schemaErrors: () => Promise<string[]> }): Promise<void> {
  if (!schemas) {
    console.warn('FEST_SCHEMAS_MISSING: official-schema check of a webhook body skipped');
    return;
  }
  expect(await delivery.schemaErrors()).toEqual([]);
}
const hentetDatoOf = (xml: string): string => /<HentetDato>([^<]+)<\/HentetDato>/.exec(xml)![1]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  isArray: (name) => ['OppfVilkar', 'StrukturertVilkar'].includes(name),
});

interface Oppf {
  Id: string;
  Tidspunkt: string;
  Status: { '@_V': string; '@_DN': string };
  Vilkar?: {
    Id: string;
    Tekst: string;
    GyldigFraDato?: string;
    GyldigTilDato?: string;
    StrukturertVilkar: { Type: { '@_V': string }; VerdiKodet?: { '@_V': string } }[];
  };
}
const entriesOf = (xml: string): Oppf[] => parser.parse(xml).FEST.KatVilkar?.OppfVilkar ?? [];
const statusOf = (o: Oppf) =>
  o.Vilkar!.StrukturertVilkar.find((s) => s.Type['@_V'] === 'BESLUTNING')!.VerdiKodet!['@_V'];

let h: TestHub;
let fest: FestAdapter;
let vendorToken: string;
const secretKey = randomBytes(32).toString('base64');
const vendor = new FestVendorEmulator('vendor-secret-0123456789');
/** Every text that left the hub toward a vendor, for the confidential search. */
const outputs: string[] = [];
const demo = demoHistory({ methods: 60, until: '2026-01-01' });
const env = () => ({
  FEST_SECRET_KEY: secretKey,
  FEST_PUSH_RETRY_BASE_MS: '50',
  FEST_PUSH_RETRY_MAX_MS: '300',
  FEST_VENDOR_SCOPE: SCOPE,
  // The vendor stand-in listens on loopback over http, which the URL guard refuses unless allowed.
  OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
  OUTBOUND_ALLOW_HTTP: 'true',
});

/** What the extract must hold for the demo: each method folded and mapped. */
function expectedDrafts(events: MethodEvent[]): Map<string, VilkarDraft> {
  const states = new Map<string, MethodState>();
  for (const event of events) {
    const result = applyEvent(states.get(event.methodId), event);
    if (result.ok) states.set(event.methodId, result.value);
  }
  const drafts = new Map<string, VilkarDraft>();
  for (const state of states.values()) {
    const draft = festVilkarFor(state, { linkBase: LINK_BASE });
    if (draft) drafts.set(draft.vilkarId, draft);
  }
  return drafts;
}

const vilkar = async (
  path = '/fest/v1/vilkar',
  headers: Record<string, string> = {},
  token: string | null = vendorToken,
) => {
  const r = await h.call(path, { token, headers });
  const text = await r.text();
  outputs.push(text);
  return { r, text };
};

/** A raw GET (fetch would undo the gzip), for the bytes on the wire. */
function rawGet(
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${h.url}${path}`,
      { headers: { authorization: `Bearer ${vendorToken}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const post = async (events: MethodEvent[]) => {
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: events });
  expect(r.status, await r.clone().text()).toBe(200);
};

let serial = 900;
const newMethodId = () => `ID2026_${serial++}`;
const day = (n: number) => new Date(Date.UTC(2026, 0, 5) + n * 86_400_000).toISOString();
function toAwaitingDecision(id: string): MethodEvent[] {
  let n = 0;
  const next = () => ({ occurredAt: day(n++) });
  return [
    methodEvent(
      'METHOD_REGISTERED',
      id,
      {
        details: {
          name: 'Tarlatamab til behandling av småcellet lungekreft',
          shortDescription: null,
          methodType: 'MEDICINE',
          level: 'NATIONAL',
          specialty: 'Onkologi',
          indication: 'Småcellet lungekreft',
          substances: ['tarlatamab'],
          atcCodes: ['L01FX33'],
          marketingAuthorisation: 'GRANTED',
          supplier: 'Amgen',
          hPrescription: false,
          estimatedPatientsPerYear: 80,
          guidelineFlags: [],
          assessmentUrl: null,
          supplierConfidentialNote: 'HEMMELIG: rabatt på 41 prosent',
        },
      },
      next(),
    ),
    methodEvent('STATUS_CHANGED', id, { from: null, to: 'HORIZON_SCANNING', reason: null }, next()),
    methodEvent('STATUS_CHANGED', id, { from: null, to: 'AWAITING_ORDERING', reason: null }, next()),
    methodEvent(
      'ASSIGNMENT_ORDERED',
      id,
      { assignee: 'SLV', slvTrack: 'A', fhiProduct: null, orderedOn: '2026-01-20', deadline: null },
      next(),
    ),
    methodEvent('ASSESSMENT_STARTED', id, { startedOn: '2026-01-21', assessor: 'SLV' }, next()),
    methodEvent(
      'ASSESSMENT_DELIVERED',
      id,
      { deliveredOn: '2026-03-01', reportUrl: null, simplified: false },
      next(),
    ),
    methodEvent('STATUS_CHANGED', id, { from: null, to: 'ASSESSMENT_COMPLETED', reason: null }, next()),
    methodEvent('PRICE_NEGOTIATION_STARTED', id, { startedOn: '2026-03-02' }, next()),
    methodEvent(
      'PRICE_NEGOTIATION_CONCLUDED',
      id,
      {
        concludedOn: '2026-03-20',
        agreementType: 'FLAT_DISCOUNT',
        publicPriceNoteUrl: null,
        confidentialPriceNoteUrl: `https://intern.sykehusinnkjop.no/prisnotater/${id}-hemmelig.pdf`,
      },
      next(),
    ),
  ].map((e) => e);
}
const decision = (id: string) =>
  methodEvent(
    'DECISION_MADE',
    id,
    {
      forum: 'BESLUTNINGSFORUM',
      outcome: 'TEMPORARILY_INTRODUCED',
      decidedOn: '2026-04-20',
      effectiveFrom: '2026-05-01',
      indication: null,
      conditions: [],
      withoutDocumentation: false,
      withoutDocumentationReason: null,
      temporaryIntroduction: {
        reassessBy: '2028-05-01',
        outcomeMeasures: ['overlevelse'],
        dataPlan: 'Register',
        exitPlan: 'Avslutt',
      },
    },
    { occurredAt: new Date().toISOString() },
  );

beforeAll(async () => {
  await vendor.start();
  h = await startTestHub(['api', 'projection', 'fest'], env(), {
    adapters: [festAdapter],
    topics: ['fest.vilkar.v1'],
  });
  fest = h.hub.adapters.get('fest') as FestAdapter;
  vendorToken = await h.issuer.mint({
    scopes: [SCOPE],
    audience: 'metodehub',
    issuer: 'metodehub-dev-issuer',
    subject: 'vendor-dips',
  });
  for (let i = 0; i < demo.length; i += 100) await post(demo.slice(i, i + 100));
  const expected = expectedDrafts(demo);
  // Caught up when every condition is as the demo history says, not merely when there are as many.
  await eventually(
    () =>
      fest.catalogue.active().length === expected.size &&
      [...expected.values()].every((draft) => {
        const known = fest.catalogue.get(draft.vilkarId);
        if (!known) return false;
        return sameVilkar(draftOf(known), draft);
      }),
    60_000,
    `the ${expected.size} conditions of the demo history in the catalogue`,
  );
}, 180_000);

afterAll(async () => {
  await h?.close();
  await vendor.stop();
});

describe('fest extracts', () => {
  it('serves the full extract of the demo data: valid against the official schema, one condition per medicine method, stable ids', async () => {
    const expected = new Map([...expectedDrafts(demo).values()].map((d) => [festVilkarIdOf(d.vilkarId), d]));
    const { r, text } = await vilkar();
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/xml');
    await expectOfficialFest(text);
    expect(hentetDatoOf(text)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const entries = entriesOf(text);
    expect(entries.length).toBe(expected.size);
    expect(expected.size).toBeGreaterThan(10);
    const numbers = new Set<string>();
    for (const entry of entries) {
      const draft = expected.get(entry.Vilkar!.Id)!;
      expect(draft, entry.Vilkar!.Id).toBeDefined();
      expect(statusOf(entry)).toBe(draft.statusCode);
      expect(entry.Vilkar!.Tekst).toBe(draft.text);
      expect(entry.Vilkar!.Tekst).not.toContain('..');
      expect(entry.Id).toBe(entryIdOf(fest.catalogue.get(draft.vilkarId)!));
      expect(entry.Id).toMatch(/^ID_[0-9A-F-]{36}$/);
      expect(entry.Tidspunkt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      expect(entry.Status).toEqual({ '@_V': 'A', '@_DN': 'Aktiv oppføring' });
      numbers.add((entry.Vilkar as unknown as { VilkarNr: string }).VilkarNr);
    }
    // Small sequence numbers, one per condition.
    expect(numbers.size).toBe(entries.length);
    expect(Math.max(...[...numbers].map(Number))).toBeLessThanOrEqual(fest.catalogue.size);
    expect(new Set(entries.map((e) => statusOf(e))).size).toBeGreaterThan(2);
    const again = await vilkar();
    expect(entriesOf(again.text).map((e) => e.Id)).toEqual(entries.map((e) => e.Id));
  });

  it('answers 304 to a matching If-None-Match and gzips when asked', async () => {
    const { r, text } = await vilkar();
    const etag = r.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"fest-vilkar-\d+"$/);
    const cached = await vilkar('/fest/v1/vilkar', { 'if-none-match': etag });
    expect(cached.r.status).toBe(304);
    expect(cached.text).toBe('');
    const zipped = await rawGet('/fest/v1/vilkar', { 'accept-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const unzipped = gunzipSync(zipped.body).toString('utf8');
    outputs.push(unzipped);
    expect(unzipped.replace(/<HentetDato>.*?<\/HentetDato>/, '')).toBe(
      text.replace(/<HentetDato>.*?<\/HentetDato>/, ''),
    );
    expect(zipped.body.length).toBeLessThan(Buffer.byteLength(text) / 3);
  });

  it('refuses a request without a token, without the vendor scope, or with a bad version, saying why', async () => {
    expect((await vilkar('/fest/v1/vilkar', {}, null)).r.status).toBe(401);
    const other = await h.issuer.mint({
      scopes: ['nyemetoder:methods:read'],
      audience: 'metodehub',
      issuer: 'metodehub-dev-issuer',
    });
    expect((await vilkar('/fest/v1/vilkar', {}, other)).r.status).toBe(403);
    // A time, as FEST asks, not our catalogue version.
    for (const since of ['yesterday', String(fest.catalogue.version), '2026-02-30T10:00:00']) {
      const bad = await vilkar(`/fest/v1/vilkar?since=${since}`);
      expect(bad.r.status, since).toBe(400);
      expect(JSON.parse(bad.text).code).toBe('INVALID_SINCE');
      expect(JSON.parse(bad.text).detail).toContain('HentetDato');
    }
    const ahead = await vilkar('/fest/v1/vilkar?since=2099-01-01T00:00:00');
    expect(ahead.r.status).toBe(400);
    expect(JSON.parse(ahead.text).code).toBe('SINCE_AHEAD');
  });

  it('documents its routes in the OpenAPI document', async () => {
    const r = await h.call('/api/v1/openapi.json');
    expect(r.status).toBe(200);
    const paths = Object.keys(((await r.json()) as { paths: Record<string, unknown> }).paths);
    for (const path of [
      '/fest/v1/vilkar',
      '/fest/v1/vilkar/gjelder-for',
      '/fest/v1/webhook',
      '/fest/v1/webhook/resend',
    ])
      expect(paths).toContain(path);
  });

  it('tells vendors which substances and ATC codes each condition applies to', async () => {
    const { r, text } = await vilkar('/fest/v1/vilkar/gjelder-for?atc=L01');
    expect(r.status).toBe(200);
    const body = JSON.parse(text) as {
      conditions: { vilkarId: string; atcCodes: string[]; substances: string[] }[];
    };
    expect(body.conditions.length).toBeGreaterThan(0);
    for (const c of body.conditions) expect(c.atcCodes.some((a) => a.startsWith('L01'))).toBe(true);
  });
});

describe('a new decision', () => {
  it('appears alone in the incremental extract and reaches the registered webhook within a second', async () => {
    const id = newMethodId();
    await post(toAwaitingDecision(id));
    await eventually(
      () => fest.catalogue.get(`NM-${id}`)?.statusCode === 'UNDER_VURDERING',
      30_000,
      `${id} under assessment`,
    );
    const before = fest.catalogue.version;
    const underAssessment = entryIdOf(fest.catalogue.get(`NM-${id}`)!);
    // The next extract's HentetDato (to the second) then lies after the condition was published.
    await sleep(1100);
    const fullBefore = await vilkar();
    const etagBefore = fullBefore.r.headers.get('etag')!;
    const since = hentetDatoOf(fullBefore.text);
    expect(fullBefore.text).toContain(`<Id>${underAssessment}</Id>`);
    const registered = await h.call('/fest/v1/webhook', {
      method: 'PUT',
      token: vendorToken,
      json: { url: vendor.url, secret: vendor.secret, fromVersion: before },
    });
    expect(registered.status).toBe(201);
    const unchanged = await vilkar(`/fest/v1/vilkar?since=${since}`);
    expect(entriesOf(unchanged.text)).toEqual([]);

    const decidedAt = Date.now();
    await post([decision(id)]);
    await eventually(
      () => vendor.deliveries.some((d) => d.body.includes(`<VerdiTekst>${id}</VerdiTekst>`)),
      10_000,
      'the webhook delivery',
    );
    const delivery = vendor.deliveries.find((d) => d.body.includes(`<VerdiTekst>${id}</VerdiTekst>`))!;
    console.info(
      `fest: the webhook received the decision ${delivery.receivedAt - decidedAt} ms after the decision was posted`,
    );
    expect(delivery.receivedAt - decidedAt).toBeLessThan(1000);
    expect(delivery.fromVersion).toBe(before);
    outputs.push(delivery.body);

    const { r, text } = await vilkar(`/fest/v1/vilkar?since=${since}`);
    expect(r.status).toBe(200);
    // The change rule: the entry under assessment ends (utgått, only Id, Tidspunkt, Status), a new one starts.
    const changed = entriesOf(text);
    expect(changed.map((e) => [e.Id === underAssessment, e.Status, e.Vilkar?.Id])).toEqual([
      [true, { '@_V': 'U', '@_DN': 'Utgått oppføring' }, undefined],
      [false, { '@_V': 'A', '@_DN': 'Aktiv oppføring' }, festVilkarIdOf(`NM-${id}`)],
    ]);
    const introduced = changed[1]!;
    expect(introduced.Id).toMatch(/^ID_[0-9A-F-]{36}$/);
    expect(statusOf(introduced)).toBe('MIDLERTIDIG_INNFORT');
    expect(introduced.Vilkar!.GyldigFraDato).toBe('2026-05-01');
    // Temporarily introduced: the reassessment date is in the text, the condition does not expire on it.
    expect(introduced.Vilkar!.GyldigTilDato).toBeUndefined();
    expect(introduced.Vilkar!.Tekst).toContain('Skal revurderes innen 01.05.2028');
    expect(entriesOf(delivery.body).map((e) => e.Id)).toEqual([underAssessment, introduced.Id]);
    const full = await vilkar('/fest/v1/vilkar', { 'if-none-match': etagBefore });
    expect(full.r.status).toBe(200);
    expect(full.r.headers.get('etag')).not.toBe(etagBefore);
    expect(full.text).toContain(`<Id>${introduced.Id}</Id>`);
    expect(full.text).not.toContain(underAssessment);
    // Every output validates: the incremental extract and the webhook body (the full extract above).
    await expectOfficialFest(text);
    await expectValidDelivery(delivery);
  });

  it('shows a withdrawn condition in the incremental extract and leaves it out of the full one', async () => {
    const id = newMethodId();
    await post(toAwaitingDecision(id).slice(0, 3));
    await eventually(() => fest.catalogue.get(`NM-${id}`) !== undefined, 30_000, `${id} published`);
    const published = entryIdOf(fest.catalogue.get(`NM-${id}`)!);
    await sleep(1100);
    const since = hentetDatoOf((await vilkar()).text);
    await post([
      methodEvent(
        'METHOD_CLOSED',
        id,
        { reason: 'WITHDRAWN', note: null },
        { occurredAt: new Date().toISOString() },
      ),
    ]);
    await eventually(() => fest.catalogue.get(`NM-${id}`)?.withdrawn === true, 30_000, `${id} withdrawn`);
    const { text } = await vilkar(`/fest/v1/vilkar?since=${since}`);
    await expectOfficialFest(text);
    const changed = entriesOf(text);
    // Withdrawn: the entry ends, carrying only Id, Tidspunkt and Status.
    expect(changed.map((e) => [e.Id, e.Status['@_V'], e.Vilkar])).toEqual([[published, 'U', undefined]]);
    const full = await vilkar();
    expect(full.text).not.toContain(festVilkarIdOf(`NM-${id}`));
    expect(full.text).not.toContain(published);
  });
});

describe('webhook pushes', () => {
  it('retries a failing vendor with backoff and moves the cursor only after it answers 2xx', async () => {
    vendor.failNext(3, 503);
    const attemptsBefore = vendor.attempts;
    const id = newMethodId();
    await post(toAwaitingDecision(id).slice(0, 1));
    await eventually(
      () => vendor.deliveries.some((d) => d.body.includes(`<VerdiTekst>${id}</VerdiTekst>`)),
      20_000,
      'delivery after failures',
    );
    expect(vendor.attempts - attemptsBefore).toBeGreaterThanOrEqual(4);
    const status = await h.call('/fest/v1/webhook', { token: vendorToken });
    const view = (await status.json()) as {
      cursor: number;
      failures: number;
      behind: number;
      lastError: string | null;
    };
    expect(view.cursor).toBe(fest.catalogue.version);
    expect(view.failures).toBe(0);
    expect(view.behind).toBe(0);
  });

  it('records why delivery fails while the vendor drops connections, then catches up', async () => {
    vendor.failNext(1000, 'drop');
    const id = newMethodId();
    await post(toAwaitingDecision(id).slice(0, 1));
    await eventually(
      async () => {
        const view = (await (await h.call('/fest/v1/webhook', { token: vendorToken })).json()) as {
          failures: number;
          lastError: string | null;
        };
        return view.failures >= 2 && (view.lastError ?? '').includes('did not answer');
      },
      20_000,
      'failures recorded',
    );
    vendor.failNext(0);
    await eventually(
      () => vendor.deliveries.some((d) => d.body.includes(`<VerdiTekst>${id}</VerdiTekst>`)),
      20_000,
      'delivery after the vendor came back',
    );
  });

  it('resends from any version on request', async () => {
    const count = vendor.deliveries.length;
    const r = await h.call('/fest/v1/webhook/resend', {
      method: 'POST',
      token: vendorToken,
      json: { fromVersion: 0 },
    });
    expect(r.status).toBe(202);
    await eventually(
      () => vendor.deliveries.slice(count).some((d) => d.toVersion === fest.catalogue.version),
      20_000,
      'resent everything',
    );
    const resent = vendor.deliveries.slice(count);
    expect(resent[0]!.fromVersion).toBe(0);
    for (const d of resent) await expectValidDelivery(d);
    const ids = new Set(resent.flatMap((d) => entriesOf(d.body).map((e) => e.Id)));
    for (const vilkarId of [...expectedDrafts(demo).keys()])
      expect(ids.has(entryIdOf(fest.catalogue.get(vilkarId)!)), vilkarId).toBe(true);
    outputs.push(...resent.map((d) => d.body));
  });

  it('refuses a webhook without a usable URL or secret, and a resend for a vendor without one', async () => {
    const bad = await h.call('/fest/v1/webhook', {
      method: 'PUT',
      token: vendorToken,
      json: { url: 'ftp://x', secret: 'short' },
    });
    expect(bad.status).toBe(400);
    const stranger = await h.issuer.mint({
      scopes: [SCOPE],
      audience: 'metodehub',
      issuer: 'metodehub-dev-issuer',
      subject: 'vendor-unknown',
    });
    const none = await h.call('/fest/v1/webhook/resend', {
      method: 'POST',
      token: stranger,
      json: { fromVersion: 0 },
    });
    expect(none.status).toBe(404);
    expect(((await none.json()) as { code: string }).code).toBe('WEBHOOK_NOT_REGISTERED');
    const put = await h.call('/fest/v1/webhook', {
      method: 'PUT',
      token: stranger,
      json: {
        url: 'http://127.0.0.1:9/nowhere',
        secret: 'another-secret-0123456789',
        fromVersion: fest.catalogue.version,
      },
    });
    expect(put.status).toBe(201);
    expect((await h.call('/fest/v1/webhook', { method: 'DELETE', token: stranger })).status).toBe(204);
    expect((await h.call('/fest/v1/webhook', { token: stranger })).status).toBe(404);
  });
});

describe('confidential fields', () => {
  it('are no secret when they only repeat public text: the condition is published, not held back for ever', async () => {
    const id = newMethodId();
    const [registration] = toAwaitingDecision(id);
    // A careless note that repeats the method's public name carries nothing secret (the guard refusing it
    // kept the prescriber's status from every vendor); a real secret is refused by the guard's unit tests.
    registration!.registered!.details.supplierConfidentialNote = registration!.registered!.details.name;
    const refusedBefore = fest.publisher.refused;
    await post([registration!]);
    await eventually(() => fest.catalogue.get(`NM-${id}`) !== undefined, 30_000, 'the condition published');
    expect(fest.publisher.refused).toBe(refusedBefore);
    expect((await fest.health()).ok).toBe(true);
  });

  it('appear in no output: extracts, gzip, JSON, webhook bodies, the vendor-webhooks or the fest.vilkar.v1 topic', async () => {
    const secrets = new Set<string>(['HEMMELIG', 'intern.sykehusinnkjop.no', 'taushetsbelagt']);
    for (const e of demo) {
      const note =
        e.registered?.details.supplierConfidentialNote ?? e.detailsChanged?.details?.supplierConfidentialNote;
      if (note) secrets.add(note);
      const url = e.priceNegotiationConcluded?.confidentialPriceNoteUrl;
      if (url) secrets.add(url);
    }
    // The demo has both kinds, so the search is not vacuous.
    expect([...secrets].some((s) => s.includes('prisnotater'))).toBe(true);
    expect(secrets.has('Leverandøren har varslet en prisendring som er taushetsbelagt.')).toBe(true);
    const topic = await readAll(testKafka(), h.topics['fest.vilkar.v1']!);
    expect(topic.length).toBeGreaterThan(0);
    const webhooks = await readAll(testKafka(), h.topics['fest.vendor-webhooks.v1']!);
    expect(webhooks.length).toBeGreaterThan(0);
    const stored = webhooks.map((m) => m.value?.toString('latin1') ?? '');
    // The signing secret is stored sealed, never in plain text.
    for (const text of stored) expect(text).not.toContain('vendor-secret-0123456789');
    const everything = [
      ...outputs,
      ...vendor.deliveries.map((d) => d.body),
      ...topic.map((m) => m.value?.toString('utf8') ?? ''),
      ...stored,
    ];
    expect(everything.length).toBeGreaterThan(10);
    for (const text of everything) for (const secret of secrets) expect(text).not.toContain(secret);
  });
});

describe('restart', () => {
  const hubWith = (overrides: Record<string, string>) => {
    const settings = { ...env(), ...overrides };
    return createHub({
      config: loadConfig({
        KAFKA_BROKERS: inject('kafkaBrokers'),
        SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
        HUB_PORT: '0',
        AUTH_DEV_ISSUER: 'true',
        ...settings,
      }),
      components: ['fest'],
      topics: h.topics,
      groupPrefix: uniqueName('test'),
      devIssuer: h.issuer,
      env: { ...process.env, ...settings },
      adapters: [festAdapter],
    });
  };

  it('keeps the cursor in Kafka, publishes nothing again and pushes what came while it was down, signed as before', async () => {
    await eventually(
      async () => {
        const view = (await (await h.call('/fest/v1/webhook', { token: vendorToken })).json()) as {
          behind: number;
        };
        return view.behind === 0;
      },
      20_000,
      'vendor caught up',
    );
    const version = fest.catalogue.version;
    const bus = testBus(testKafka());
    bus.registry.alias(h.topics['fest.vendor-webhooks.v1']!, 'fest.vendor-webhooks.v1');
    const saved = await new StateStore(testKafka(), bus.registry, bus.producer, {
      declared: 'fest.vendor-webhooks.v1',
      topic: h.topics['fest.vendor-webhooks.v1']!,
    }).restore();
    expect(saved.get('vendor-dips')?.cursor).toBe(version);
    expect(saved.get('vendor-dips')?.secretCiphertext).toMatch(/^v1\./);

    // A second hub on the same topics, with no file of the first and nothing in memory, running only fest.
    await fest.stop();
    const id = newMethodId();
    await post(toAwaitingDecision(id).slice(0, 1));
    const count = vendor.deliveries.length;
    await expect(hubWith({ FEST_SECRET_KEY: '' }).start()).rejects.toThrow(
      /^FEST_SECRET_KEY_MISSING: 1 vendor/,
    );
    await expect(hubWith({ FEST_SECRET_KEY: randomBytes(32).toString('base64') }).start()).rejects.toThrow(
      /^FEST_SECRET_KEY_WRONG: the webhook secret of vendor vendor-dips/,
    );
    expect(vendor.deliveries.length).toBe(count);
    const second = hubWith({});
    try {
      await second.start();
      const restarted = second.adapters.get('fest') as FestAdapter;
      await eventually(
        () => restarted.catalogue.get(`NM-${id}`) !== undefined,
        30_000,
        'the new method after restart',
      );
      expect(restarted.catalogue.version).toBe(version + 1);
      await eventually(() => vendor.deliveries.length > count, 20_000, 'push after restart');
      const after = vendor.deliveries.slice(count);
      expect(after[0]!.fromVersion).toBe(version);
      expect(after.every((d) => d.signatureValid)).toBe(true);
      expect(after.flatMap((d) => entriesOf(d.body).map((e) => e.Vilkar?.Id))).toEqual([
        festVilkarIdOf(`NM-${id}`),
      ]);
    } finally {
      await second.stop();
      await bus.producer.disconnect();
    }
  });
});

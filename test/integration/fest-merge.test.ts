/**
 * The hub with the fest adapter on a generated FEST source extract, against the real broker and registry: a method's
 * products carry RefVilkar to its condition in GET /fest/v1/fest (valid against the official strict schema), a new
 * decision shows there, a product removed from the source (picked up by the scheduled re-read) loses its link, and a
 * broken source is kept out, reported in /readyz, while the last good one is still served.
 */
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { festAdapter, type FestAdapter } from '../../adapters/fest/adapter.ts';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import {
  festSourceXml,
  generatedMedicines,
  productIdsOf,
  type SourceMedicine,
} from '../support/festExtract.ts';
import { officialFestSchemas, validateOfficialFest } from '../support/festSchema.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/kafka.ts';
import { festVilkarIdOf } from '../../adapters/fest/ids.ts';

const SCOPE = 'fest:vilkar:read';
const tarlatamab: SourceMedicine = { key: 'T1', name: 'Imdelltra', substance: 'tarlatamab', atc: 'L01FX33' };
const others = [...generatedMedicines(40)];
const id = 'ID2026_950';

let h: TestHub;
let fest: FestAdapter;
let vendorToken: string;
let sourcePath: string;

const day = (n: number) => new Date(Date.UTC(2026, 0, 5) + n * 86_400_000).toISOString();
function registered(methodId: string): MethodEvent[] {
  let n = 0;
  const next = () => ({ occurredAt: day(n++) });
  return [
    methodEvent(
      'METHOD_REGISTERED',
      methodId,
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
          supplierConfidentialNote: null,
        },
      },
      next(),
    ),
    methodEvent('STATUS_CHANGED', methodId, { from: null, to: 'HORIZON_SCANNING', reason: null }, next()),
    methodEvent('STATUS_CHANGED', methodId, { from: null, to: 'AWAITING_ORDERING', reason: null }, next()),
    methodEvent(
      'ASSIGNMENT_ORDERED',
      methodId,
      { assignee: 'SLV', slvTrack: 'A', fhiProduct: null, orderedOn: '2026-01-20', deadline: null },
      next(),
    ),
    methodEvent('ASSESSMENT_STARTED', methodId, { startedOn: '2026-01-21', assessor: 'SLV' }, next()),
    methodEvent(
      'ASSESSMENT_DELIVERED',
      methodId,
      { deliveredOn: '2026-03-01', reportUrl: null, simplified: false },
      next(),
    ),
    methodEvent('STATUS_CHANGED', methodId, { from: null, to: 'ASSESSMENT_COMPLETED', reason: null }, next()),
    methodEvent('PRICE_NEGOTIATION_STARTED', methodId, { startedOn: '2026-03-02' }, next()),
    methodEvent(
      'PRICE_NEGOTIATION_CONCLUDED',
      methodId,
      {
        concludedOn: '2026-03-20',
        agreementType: 'FLAT_DISCOUNT',
        publicPriceNoteUrl: null,
        confidentialPriceNoteUrl: null,
      },
      next(),
    ),
  ];
}
const decided = (methodId: string) =>
  methodEvent(
    'DECISION_MADE',
    methodId,
    {
      forum: 'BESLUTNINGSFORUM',
      outcome: 'INTRODUCED',
      decidedOn: '2026-04-20',
      effectiveFrom: '2026-05-01',
      indication: null,
      conditions: [],
      withoutDocumentation: false,
      withoutDocumentationReason: null,
      temporaryIntroduction: null,
    },
    { occurredAt: new Date().toISOString() },
  );

const post = async (events: MethodEvent[]) => {
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: events });
  expect(r.status, await r.clone().text()).toBe(200);
};
const merged = async (headers: Record<string, string> = {}) => {
  const r = await h.call('/fest/v1/fest', { token: vendorToken, headers });
  return { r, text: await r.text() };
};
interface GjelderFor {
  sourceExtract: { hentetDato: string } | null;
  conditions: { vilkarId: string; methodId: string; statusCode: string; products: string[] }[];
}
const gjelderFor = async (): Promise<GjelderFor> =>
  (await (await h.call('/fest/v1/vilkar/gjelder-for', { token: vendorToken })).json()) as GjelderFor;
const conditionOf = async (methodId: string) =>
  (await gjelderFor()).conditions.find((c) => c.methodId === methodId);
/** The Vilkar ids a product references in a merged document. */
const refsOf = (xml: string, productId: string) => {
  const product = [
    ...xml.matchAll(/<fs:(LegemiddelMerkevare|LegemiddelVirkestoff|Legemiddelpakning)>(.*?)<\/fs:\1>/gs),
  ].find((m) => m[2]!.includes(`<fs:Id>${productId}</fs:Id>`));
  return product
    ? [...product[2]!.matchAll(/<fs:RefVilkar>([^<]*)<\/fs:RefVilkar>/g)].map((m) => m[1])
    : undefined;
};

/** A raw GET (fetch would undo the gzip), for the bytes on the wire. */
const rawGet = (path: string, headers: Record<string, string>) =>
  new Promise<{ encoding: unknown; body: Buffer }>((resolve, reject) => {
    httpRequest(
      `${h.url}${path}`,
      { headers: { authorization: `Bearer ${vendorToken}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
        );
      },
    )
      .on('error', reject)
      .end();
  });

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fest-merge-hub-'));
  sourcePath = join(dir, 'fest251.xml');
  writeFileSync(sourcePath, festSourceXml({ medicines: [tarlatamab, ...others], katVilkar: 'one' }));
  h = await startTestHub(
    ['api', 'projection', 'fest'],
    {
      FEST_VENDOR_SCOPE: SCOPE,
      FEST_SOURCE_EXTRACT: sourcePath,
      FEST_SOURCE_DIR: join(dir, 'source'),
      FEST_SOURCE_RELOAD_MS: '1000',
    },
    { adapters: [festAdapter], topics: ['fest.vilkar.v1'] },
  );
  fest = h.hub.adapters.get('fest') as FestAdapter;
  vendorToken = await h.issuer.mint({
    scopes: [SCOPE],
    audience: 'metodehub',
    issuer: 'metodehub-dev-issuer',
    subject: 'vendor-dips',
  });
  await eventually(() => fest.source.current !== undefined, 20_000, 'the source extract read');
}, 180_000);

afterAll(async () => {
  await h?.close();
});

describe.skipIf(!officialFestSchemas())('GET /fest/v1/fest', () => {
  it("carries RefVilkar from every product of the method's ATC code to its condition, valid against the official strict schema", async () => {
    await post(registered(id));
    await eventually(async () => (await conditionOf(id))?.products.length === 3, 30_000, `${id} linked`);
    const condition = (await conditionOf(id))!;
    expect(condition.products.sort()).toEqual(productIdsOf(tarlatamab).sort());

    const { r, text } = await merged();
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/xml');
    expect(r.headers.get('etag')).toMatch(/^W\/"fest-merged-\d+-[0-9a-f]{16}"$/);
    expect((await validateOfficialFest(text)).errors).toEqual([]);
    for (const product of productIdsOf(tarlatamab))
      expect(refsOf(text, product)).toContain(festVilkarIdOf(condition.vilkarId));
    for (const m of others)
      for (const product of productIdsOf(m))
        expect(refsOf(text, product)).not.toContain(festVilkarIdOf(condition.vilkarId));
    expect(text).toContain(`<Vilkar><Id>${festVilkarIdOf(condition.vilkarId)}</Id>`);

    const cached = await merged({ 'if-none-match': r.headers.get('etag')! });
    expect(cached.r.status).toBe(304);
    const zipped = await rawGet('/fest/v1/fest', { 'accept-encoding': 'gzip' });
    expect(zipped.encoding).toBe('gzip');
    expect(gunzipSync(zipped.body).toString('utf8')).toBe(text);
  });

  it('shows the condition after a new decision', async () => {
    const before = await merged();
    const underAssessment = (await conditionOf(id))!;
    await post([decided(id)]);
    await eventually(
      async () => (await conditionOf(id))?.statusCode === 'INNFORT',
      30_000,
      `${id} introduced`,
    );
    const now = (await conditionOf(id))!;
    const { r, text } = await merged();
    expect(r.headers.get('etag')).not.toBe(before.r.headers.get('etag'));
    expect((await validateOfficialFest(text)).errors).toEqual([]);
    const entry = new RegExp(
      `<OppfVilkar>(?:(?!</OppfVilkar>).)*<Vilkar><Id>${festVilkarIdOf(now.vilkarId)}</Id>.*?</OppfVilkar>`,
      's',
    ).exec(text);
    expect(entry?.[0]).toContain('V="INNFORT"');
    expect(underAssessment.statusCode).toBe('UNDER_VURDERING');
    for (const product of productIdsOf(tarlatamab))
      expect(refsOf(text, product)).toContain(festVilkarIdOf(now.vilkarId));
  });

  it('drops the link of a product gone from the source when it is read again on schedule', async () => {
    writeFileSync(sourcePath, festSourceXml({ medicines: others, katVilkar: 'one' }));
    await eventually(async () => (await conditionOf(id))?.products.length === 0, 20_000, 'the link dropped');
    const { text } = await merged();
    expect((await validateOfficialFest(text)).errors).toEqual([]);
    expect(refsOf(text, productIdsOf(tarlatamab)[0]!)).toBeUndefined();
    // The condition is still in KatVilkar; no product references it any more.
    const vilkarId = (await conditionOf(id))!.vilkarId;
    expect(text).toContain(`<Vilkar><Id>${festVilkarIdOf(vilkarId)}</Id>`);
    expect(text).not.toContain(`<fs:RefVilkar>${festVilkarIdOf(vilkarId)}</fs:RefVilkar>`);
  });

  it('keeps the last good source when the new one is unreadable, and says so in /readyz and on reload', async () => {
    writeFileSync(sourcePath, festSourceXml({ medicines: [tarlatamab, ...others], katVilkar: 'one' }));
    const reloaded = await h.call('/fest/v1/source/reload', { method: 'POST' });
    expect(reloaded.status, await reloaded.clone().text()).toBe(200);
    expect(((await reloaded.json()) as { products: number }).products).toBe((others.length + 1) * 3);
    await eventually(async () => (await conditionOf(id))?.products.length === 3, 10_000, 'linked again');
    const good = await merged();

    const xml = festSourceXml({ medicines: others });
    writeFileSync(sourcePath, xml.slice(0, xml.length - 200));
    const refused = await h.call('/fest/v1/source/reload', { method: 'POST' });
    expect(refused.status).toBe(502);
    const problem = (await refused.json()) as { code: string; detail: string };
    expect(problem.code).toBe('FEST_SOURCE_INVALID');
    expect(problem.detail).toMatch(/keeping the last good one/);

    const ready = (await (await h.call('/readyz')).json()) as {
      adapters: Record<string, { detail: string }>;
    };
    expect(ready.adapters.fest!.detail).toMatch(
      /source extract .* could not be read .*FEST_SOURCE_INVALID.*keeping the last good one/,
    );
    const still = await merged();
    expect(still.r.status).toBe(200);
    expect(still.r.headers.get('etag')).toBe(good.r.headers.get('etag'));
    expect(still.text).toBe(good.text);
    expect((await conditionOf(id))!.products).toHaveLength(3);

    const vendorOnly = await h.call('/fest/v1/source/reload', { method: 'POST', token: vendorToken });
    expect(vendorOnly.status).toBe(403);
  });

  it('is in the OpenAPI document', async () => {
    const r = await h.call('/api/v1/openapi.json');
    const paths = Object.keys(((await r.json()) as { paths: Record<string, unknown> }).paths);
    expect(paths).toContain('/fest/v1/fest');
    expect(paths).toContain('/fest/v1/source/reload');
  });
});

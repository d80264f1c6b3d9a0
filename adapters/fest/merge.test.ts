/**
 * The source extract read streaming, conditions linked to its products and merged into it, on FEST documents built
 * to the official schema (test/support/festExtract.ts) and checked by libxml2 against the strict one; reloads from a
 * file and from a loopback URL, and what a bad new source leaves in place.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { UrlGuard } from '../../core/http/urlGuard.ts';
import {
  festSourceXml,
  generatedMedicines,
  productIdsOf,
  SOURCE_VILKAR_ID,
  type SourceMedicine,
  writeFestSource,
} from '../../test/support/festExtract.ts';
import { officialFestSchemas, validateOfficialFest } from '../../test/support/festSchema.ts';
import { linkConditions } from './links.ts';
import { mergedFest } from './merge.ts';
import { readProductIndex } from './productIndex.ts';
import { FestSourceExtract } from './source.ts';
import { festVilkarIdOf } from './ids.ts';

const render = { codeSetOid: '2.16.578.1.12.4.1.1.9901' };
const schemas = officialFestSchemas();

const condition = (methodId: string, atcCodes: string[], substances: string[]): FestVilkar => ({
  vilkarId: `NM-${methodId}`,
  entryId: `ID_${methodId}-entry`,
  earlierEntries: [],
  vilkarNr: 1,
  methodId,
  catalogueVersion: 1,
  withdrawn: false,
  statusCode: 'INNFORT',
  statusText: 'Innført',
  text: 'Innført til behandling av småcellet lungekreft; gjelder også pasienter < 18 år & eldre.',
  validFrom: '2025-02-01',
  validTo: null,
  substances,
  atcCodes,
  indication: 'Småcellet lungekreft',
  link: `https://www.nyemetoder.no/metoder/${methodId}`,
  changedAt: '2025-01-20T10:00:00.000Z',
});
/** Nivolumab by ATC; ipilimumab by ATC (and by substance for the products FEST lists without a code); everolimus by substance only. */
const conditions = [
  condition('ID2020_001', ['L01FF01'], ['nivolumab']),
  condition('ID2020_002', ['L01FX04'], ['ipilimumab']),
  condition('ID2020_003', [], ['everolimus']),
];
const medicines = [...generatedMedicines(200)];
const expectedFor = (vilkarId: string): string[] => {
  const c = conditions.find((x) => x.vilkarId === vilkarId)!;
  return medicines
    .filter(
      (m) =>
        (m.atc ? c.atcCodes.includes(m.atc) : false) ||
        ((!m.atc || c.atcCodes.length === 0) && c.substances.includes(m.substance)),
    )
    .flatMap(productIdsOf);
};

let dir: string;
const merge = async (sourcePath: string, conds = conditions) => {
  const index = await readProductIndex(createReadStream(sourcePath, 'utf8'));
  const links = linkConditions(index.products, conds);
  let xml = '';
  for await (const piece of mergedFest({ sourcePath, conditions: conds, links: links.byProduct, render }))
    xml += piece;
  return { index, links, xml };
};
/** Each product element of the merged document by its FEST id. */
const productsOf = (xml: string) => {
  const out = new Map<string, string>();
  for (const m of xml.matchAll(
    /<fs:(LegemiddelMerkevare|LegemiddelVirkestoff|Legemiddelpakning)>(.*?)<\/fs:\1>/gs,
  ))
    out.set(/<fs:Id>(.*?)<\/fs:Id>/.exec(m[2]!)![1]!, m[2]!);
  return out;
};
const ourRefs = (product: string) =>
  [...product.matchAll(/<fs:RefVilkar>(ID_(?!VILKAR_SOURCE)[^<]*)<\/fs:RefVilkar>/g)].map((m) => m[1]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fest-merge-'));
});

describe.skipIf(!schemas)('the merged FEST document', () => {
  for (const katVilkar of ['absent', 'empty', 'one'] as const) {
    it(`links every product of a method's ATC code (or substance) and validates strictly (KatVilkar ${katVilkar} in the source)`, async () => {
      const sourcePath = join(dir, `source-${katVilkar}.xml`);
      const bytes = await writeFestSource(sourcePath, { medicines, katVilkar, sections: 2 });
      expect(bytes).toBeGreaterThan(600_000); // several read chunks: insertions across chunk boundaries
      const source = readFileSync(sourcePath, 'utf8');
      expect((await validateOfficialFest(source)).errors).toEqual([]);

      const { xml, links, index } = await merge(sourcePath);
      expect(index.products.length).toBe(medicines.length * 3);
      const verdict = await validateOfficialFest(xml);
      expect(verdict.errors).toEqual([]);
      expect(verdict.valid).toBe(true);

      const products = productsOf(xml);
      for (const c of conditions) {
        const expected = expectedFor(c.vilkarId);
        expect(expected.length).toBeGreaterThan(10);
        expect(links.byCondition.get(c.vilkarId)?.sort()).toEqual([...expected].sort());
        for (const id of expected)
          expect(ourRefs(products.get(id)!), id).toContain(festVilkarIdOf(c.vilkarId));
      }
      const linked = new Set(conditions.flatMap((c) => expectedFor(c.vilkarId)));
      for (const [id, product] of products) {
        if (!linked.has(id)) expect(ourRefs(product), id).toEqual([]);
        // typeLegemiddel order: LegemiddelformKort, then RefVilkar (the source's first), then Preparattype.
        if (linked.has(id))
          expect(product).toMatch(
            /<fs:LegemiddelformKort [^>]*\/>(<fs:RefVilkar>ID_VILKAR_SOURCE_1<\/fs:RefVilkar>)?(<fs:RefVilkar>ID_(?!VILKAR_SOURCE)[^<]+<\/fs:RefVilkar>)+<fs:Preparattype /,
          );
      }
      // A product without an ATC code is linked by its substance.
      const noAtc = medicines.find((m) => m.atc === null && m.substance === 'ipilimumab')!;
      expect(ourRefs(products.get(productIdsOf(noAtc)[1]!)!)).toEqual([festVilkarIdOf('NM-ID2020_002')]);

      const entries = [...xml.matchAll(/<OppfVilkar>/g)].length;
      expect(entries).toBe(conditions.length + (katVilkar === 'one' ? 1 : 0));
      if (katVilkar === 'one') expect(xml).toContain(`<fs:RefVilkar>${SOURCE_VILKAR_ID}</fs:RefVilkar>`);
      // Everything else passes through byte for byte.
      const stripped = xml
        .replace(/<fs:RefVilkar>ID_(?!VILKAR_SOURCE)[^<]*<\/fs:RefVilkar>/g, '')
        .replace(/<OppfVilkar><Id>ID_ID\d{4}_\d{3}-entry<\/Id>.*?<\/OppfVilkar>/gs, '');
      const expectedSource =
        katVilkar === 'absent'
          ? source.replace('<KatKodeverk/>', '<KatVilkar></KatVilkar><KatKodeverk/>')
          : katVilkar === 'empty'
            ? source.replace('<KatVilkar/>', '<KatVilkar></KatVilkar>')
            : source;
      expect(stripped).toBe(expectedSource);
    });
  }

  it('creates KatVilkar before the closing FEST tag when no later catalogue follows', async () => {
    const sourcePath = join(dir, 'no-later.xml');
    writeFileSync(
      sourcePath,
      festSourceXml({ medicines: medicines.slice(0, 20) }).replace('<KatKodeverk/>', ''),
    );
    const { xml } = await merge(sourcePath);
    expect(xml).toMatch(/<\/KatLegemiddelVirkestoff><KatVilkar><OppfVilkar>.*<\/KatVilkar><\/FEST>/s);
    expect((await validateOfficialFest(xml)).errors).toEqual([]);
  });
});

describe('the source extract', () => {
  let server: Server;
  let served = '';
  let url = '';
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' }).end(served);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fest/fest251.xml`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  const open = new UrlGuard({ allowHttp: true, allowedHosts: ['127.0.0.1'] });

  it('is re-read from a file; a product gone from the new one loses its link', async () => {
    const path = join(dir, 'changing.xml');
    const tarlatamab: SourceMedicine = {
      key: 'T1',
      name: 'Imdelltra',
      substance: 'tarlatamab',
      atc: 'L01FX33',
    };
    writeFileSync(path, festSourceXml({ medicines: [tarlatamab, ...medicines.slice(0, 10)] }));
    const source = new FestSourceExtract({
      location: path,
      dir: join(dir, 'copy-1'),
      reloadMs: 60_000,
      urlGuard: open,
    });
    const first = await source.reload();
    expect(first.ok).toBe(true);
    const c = [condition('ID2026_900', ['L01FX33'], ['tarlatamab'])];
    expect(linkConditions(source.current!.index.products, c).byCondition.get('NM-ID2026_900')).toEqual(
      productIdsOf(tarlatamab),
    );
    writeFileSync(path, festSourceXml({ medicines: medicines.slice(0, 10) }));
    expect((await source.reload()).ok).toBe(true);
    expect(
      linkConditions(source.current!.index.products, c).byCondition.get('NM-ID2026_900'),
    ).toBeUndefined();
    expect(source.generation).toBe(2);
  });

  it('keeps the last good one when the new one is unreadable or not FEST, and says so', async () => {
    const path = join(dir, 'breaking.xml');
    const good = festSourceXml({ medicines: medicines.slice(0, 10) });
    writeFileSync(path, good);
    const source = new FestSourceExtract({
      location: path,
      dir: join(dir, 'copy-2'),
      reloadMs: 60_000,
      urlGuard: open,
    });
    expect((await source.reload()).ok).toBe(true);
    const kept = source.current!;

    writeFileSync(path, good.slice(0, good.length / 2));
    const truncated = await source.reload();
    expect(truncated).toMatchObject({ ok: false, kept });
    expect(!truncated.ok && truncated.error).toMatch(/^FEST_SOURCE_INVALID: /);
    expect(source.current).toBe(kept);
    expect(readFileSync(kept.path, 'utf8')).toBe(good);
    expect(source.describe()).toMatch(
      /could not be read .*FEST_SOURCE_INVALID.*keeping the last good one: source extract 30 products/,
    );

    writeFileSync(
      path,
      '<?xml version="1.0"?><Katalog xmlns="urn:annet"><HentetDato>2025-01-01T00:00:00</HentetDato></Katalog>',
    );
    const foreign = await source.reload();
    expect(!foreign.ok && foreign.error).toMatch(
      /^FEST_SOURCE_INVALID: .*root element is \{urn:annet\}Katalog/,
    );

    const missing = new FestSourceExtract({
      location: join(dir, 'nowhere.xml'),
      dir: join(dir, 'copy-3'),
      reloadMs: 60_000,
      urlGuard: open,
    });
    const none = await missing.reload();
    expect(none).toMatchObject({ ok: false, kept: undefined });
    expect(!none.ok && none.error).toMatch(/^FEST_SOURCE_UNREADABLE: .*nowhere\.xml/);
    expect(missing.describe()).toMatch(/nothing to keep: GET \/fest\/v1\/fest answers 503/);

    writeFileSync(path, good);
    expect((await source.reload()).ok).toBe(true);
    expect(source.lastError).toBeUndefined();
  });

  it('is read from an http(s) URL through the outbound URL guard', async () => {
    served = festSourceXml({ medicines: medicines.slice(0, 5) });
    const allowed = new FestSourceExtract({
      location: url,
      dir: join(dir, 'copy-4'),
      reloadMs: 60_000,
      urlGuard: open,
    });
    const outcome = await allowed.reload();
    expect(outcome.ok && outcome.source.index.products.length).toBe(15);
    expect(outcome.ok && outcome.source.bytes).toBe(Buffer.byteLength(served));

    const guarded = new FestSourceExtract({
      location: url,
      dir: join(dir, 'copy-5'),
      reloadMs: 60_000,
      urlGuard: new UrlGuard({ allowHttp: false, allowedHosts: [] }),
    });
    const refused = await guarded.reload();
    expect(!refused.ok && refused.error).toMatch(
      /^FEST_SOURCE_UNREADABLE: http:\/\/127\.0\.0\.1:\d+\/fest\/fest251\.xml: /,
    );
    expect(guarded.current).toBeUndefined();
  });
});

/**
 * FEST XML against the official FEST 2.5.1 strict schema, applied by libxml2 (skipped, saying so, where
 * shared/reference/fest-2.5.1 is not beside the checkout), and FEST's code sets, ids and times.
 */
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { FestVilkar } from '../../contracts/generated/types.ts';
import { officialFestSchemas, validateOfficialFest } from '../../test/support/festSchema.ts';
import { festVilkarIdOf } from './ids.ts';
import {
  FEST_NAMESPACE,
  festDocument,
  osloDateTime,
  parseFestInstant,
  renderOppfVilkar,
  renderOppfVilkarByBuilder,
} from './xml.ts';

const schemas = officialFestSchemas();
if (!schemas)
  console.warn('FEST_SCHEMAS_MISSING: official-schema tests skipped (no shared/reference/fest-2.5.1)');
const withSchemas = it.skipIf(!schemas);
const render = { codeSetOid: '2.16.578.1.12.4.1.1.9901' };
const GUID_ID = /^ID_[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  isArray: (n) => ['OppfVilkar', 'StrukturertVilkar', 'VerdiTekst', 'VerdiKodet'].includes(n),
});
const entry = (over: Partial<FestVilkar> = {}): FestVilkar => ({
  vilkarId: 'NM-ID2021_042',
  methodId: 'ID2021_042',
  catalogueVersion: 3,
  withdrawn: false,
  statusCode: 'INNFORT',
  statusText: 'Innført',
  text: 'Blærekreft: innført for pasienter < 75 år & "ECOG 0–1"; fåes på sykehus. Ære, øl, å.',
  validFrom: '2022-02-01',
  validTo: null,
  substances: ['nivolumab', 'ipilimumab'],
  atcCodes: ['L01FF01', 'L01FX04'],
  indication: 'Lungekreft',
  link: 'https://www.nyemetoder.no/metoder/ID2021_042?a=1&b=2',
  changedAt: '2025-03-30T01:30:00.000Z',
  entryId: 'ID_0A6A7C0E-4C55-5B8B-9C1F-2D6E1F0B9A11',
  earlierEntries: [
    { entryId: 'ID_3B1E2C5A-7D4F-5E6A-8B9C-0D1E2F3A4B5C', endedAt: '2025-03-30T01:30:00.000Z' },
  ],
  vilkarNr: 9,
  ...over,
});
const withdrawn = entry({
  vilkarId: 'NM-ID2020_001',
  methodId: 'ID2020_001',
  withdrawn: true,
  changedAt: '2025-01-15T12:00:00.000Z',
  entryId: 'ID_5C2F4A1B-1E3D-5F7A-9B8C-6D5E4F3A2B1C',
  earlierEntries: [],
  vilkarNr: 33,
});

/** Every xs:ID in the document (OppfVilkar/Id, Vilkar/Id): libxml2 does not check that they are unique. */
const idsOf = (xml: string) => [...xml.matchAll(/<Id>([^<]*)<\/Id>/g)].map((m) => m[1]!);

describe('FEST XML', () => {
  const incremental = festDocument([entry(), withdrawn], Date.parse('2025-07-01T10:00:00Z'), render, {
    endedSince: 0,
  });

  withSchemas('full and incremental documents validate against the official strict schema', async () => {
    const full = festDocument(
      [entry(), entry({ vilkarId: 'NM-X', methodId: 'X', entryId: 'ID_X', vilkarNr: 1 })],
      Date.now(),
      render,
    );
    for (const xml of [full, incremental]) {
      expect(await validateOfficialFest(xml)).toEqual({ valid: true, errors: [] });
      const ids = idsOf(xml);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('uses FEST code sets, ids and local times, and gives utgått entries only Id, Tidspunkt and Status', () => {
    const doc = parser.parse(incremental);
    expect(doc.FEST['@_xmlns']).toBe(FEST_NAMESPACE);
    expect(doc.FEST.HentetDato).toBe('2025-07-01T12:00:00');
    const [ended, active, gone] = doc.FEST.KatVilkar.OppfVilkar;
    expect(ended).toEqual({
      Id: 'ID_3B1E2C5A-7D4F-5E6A-8B9C-0D1E2F3A4B5C',
      Tidspunkt: '2025-03-30T03:30:00',
      Status: { '@_V': 'U', '@_DN': 'Utgått oppføring' },
    });
    expect(active.Id).toMatch(GUID_ID);
    expect(active.Tidspunkt).toBe('2025-03-30T03:30:00'); // just after the spring change, no offset
    expect(active.Status).toEqual({ '@_V': 'A', '@_DN': 'Aktiv oppføring' });
    expect(active.Vilkar.Id).toBe(festVilkarIdOf('NM-ID2021_042'));
    expect(active.Vilkar.Id).toMatch(GUID_ID);
    expect(active.Vilkar.VilkarNr).toBe('9');
    expect(active.Vilkar.Gruppe).toEqual({
      '@_V': '1',
      '@_S': '2.16.578.1.12.4.1.1.7437',
      '@_DN': 'Legemiddel',
    });
    expect(active.Vilkar.GjelderFor).toEqual({ '@_V': '1', '@_DN': 'Rekvirent' });
    expect(active.Vilkar.Tekst).toBe(entry().text);
    expect(active.Vilkar.GyldigFraDato).toBe('2022-02-01');
    expect(active.Vilkar.GyldigTilDato).toBeUndefined();
    const structured = active.Vilkar.StrukturertVilkar.map(
      (s: { Type: { '@_V': string }; VerdiTekst?: string[]; VerdiKodet?: { '@_V': string }[] }) => [
        s.Type['@_V'],
        s.VerdiTekst ?? s.VerdiKodet?.map((k) => k['@_V']),
      ],
    );
    expect(structured).toEqual([
      ['METODE-ID', ['ID2021_042']],
      ['BESLUTNING', ['INNFORT']],
      ['LENKE', ['https://www.nyemetoder.no/metoder/ID2021_042?a=1&b=2']],
      ['VIRKESTOFF', ['nivolumab', 'ipilimumab']],
      ['ATC', ['L01FF01', 'L01FX04']],
    ]);
    expect(gone).toEqual({
      Id: 'ID_5C2F4A1B-1E3D-5F7A-9B8C-6D5E4F3A2B1C',
      Tidspunkt: '2025-01-15T13:00:00',
      Status: { '@_V': 'U', '@_DN': 'Utgått oppføring' },
    });
    expect(incremental).toContain('&lt; 75 år &amp;');
    // The full extract names no earlier entries.
    expect(festDocument([entry()], Date.now(), render)).not.toContain('ID_3B1E2C5A');
  });

  it('renders each entry exactly as fast-xml-parser builds it', () => {
    const tricky = [
      entry(),
      withdrawn,
      entry({ link: null, substances: [], atcCodes: [], vilkarNr: null, entryId: null }),
      entry({
        text: `'Sitat' "dobbel" <b>&amp; æøå ÆØÅ`,
        statusText: 'A&B "C"',
        methodId: 'X1',
        vilkarId: 'NM-X1',
      }),
      entry({ validFrom: null, indication: null, substances: ['én'], atcCodes: ['L01'] }),
    ];
    for (const e of tricky) expect(renderOppfVilkar(e, render)).toBe(renderOppfVilkarByBuilder(e, render));
  });

  it('writes and reads FEST times in Oslo local time across both changes', () => {
    expect(osloDateTime(Date.parse('2025-10-26T00:59:59.000Z'))).toBe('2025-10-26T02:59:59');
    expect(osloDateTime(Date.parse('2025-10-26T01:00:00.000Z'))).toBe('2025-10-26T02:00:00');
    expect(parseFestInstant('2025-07-01T12:00:00')).toBe(Date.parse('2025-07-01T10:00:00Z'));
    expect(parseFestInstant('2025-01-15T13:00:00.250')).toBe(Date.parse('2025-01-15T12:00:00.250Z'));
    // The autumn hour that occurs twice is read as its first occurrence: a repeat, never a miss.
    expect(parseFestInstant('2025-10-26T02:30:00')).toBe(Date.parse('2025-10-26T00:30:00Z'));
    // The spring hour that does not exist: the earlier of its two readings.
    expect(parseFestInstant('2025-03-30T02:30:00')).toBe(Date.parse('2025-03-30T00:30:00Z'));
    expect(parseFestInstant('2025-07-01T10:00:00Z')).toBe(Date.parse('2025-07-01T10:00:00Z'));
    expect(parseFestInstant('2025-07-01T12:00:00+02:00')).toBe(Date.parse('2025-07-01T10:00:00Z'));
    for (const bad of ['42', 'yesterday', '2025-02-30T10:00:00', '2025-07-01', '2025-07-01T24:00:00'])
      expect(parseFestInstant(bad), bad).toBeUndefined();
  });

  withSchemas(
    'libxml2 finds what the official schema refuses: order, OID facets, the StrukturertVilkar choice',
    async () => {
      const good = festDocument([entry()], Date.now(), render);
      const broken = [
        good.replace(/<Tekst>(.*?)<\/Tekst>(<GyldigFraDato>.*?<\/GyldigFraDato>)/, '$2<Tekst>$1</Tekst>'),
        good.replace('S="2.16.578.1.12.4.1.1.7437"', 'S="NYE-METODER"'),
        good.replace(
          '<VerdiTekst>ID2021_042</VerdiTekst>',
          '<VerdiTekst>ID2021_042</VerdiTekst><VerdiKodet V="X"/>',
        ),
      ];
      const verdicts = await Promise.all(broken.map((xml) => validateOfficialFest(xml)));
      expect(verdicts.map((v) => v.valid)).toEqual([false, false, false]);
      expect(verdicts[1]!.errors.join('\n')).toMatch(/pattern|oid/i);
    },
  );

  withSchemas('a real-shaped 2017 FEST KatVilkar validates', async () => {
    // Per the schema and the facts seen in a 2017 extract (shared/reference/fest-2.5.1/README.md).
    const katVilkar = `<?xml version="1.0" encoding="UTF-8"?>
<FEST xmlns="http://www.kith.no/xmlstds/eresept/m30/2014-12-01">
  <HentetDato>2016-10-13T16:43:16</HentetDato>
  <KatVilkar>
    <OppfVilkar>
      <Id>ID_8900C2B1-2E56-4E61-B241-233A7EEC22F5</Id>
      <Tidspunkt>2016-10-13T16:43:16</Tidspunkt>
      <Status V="A" DN="Aktiv oppføring"/>
      <Vilkar>
        <Id>ID_1B4E28BA-2FA1-11D2-883F-0016D3CCA427</Id>
        <VilkarNr>136</VilkarNr>
        <Gruppe V="3" S="2.16.578.1.12.4.1.1.7437" DN="Refusjon"/>
        <GjelderFor V="3" DN="Rekvirent og utleverer"/>
        <Tekst>Refusjon ytes kun til pasienter som har forsøkt annen behandling først.</Tekst>
        <GyldigFraDato>2016-11-01</GyldigFraDato>
        <StrukturertVilkar>
          <Type V="1" S="2.16.578.1.12.4.1.1.7437" DN="Legemiddel"/>
          <VerdiTekst>Everolimus</VerdiTekst>
          <VerdiTekst>Afinitor</VerdiTekst>
        </StrukturertVilkar>
      </Vilkar>
    </OppfVilkar>
    <OppfVilkar>
      <Id>ID_6FA459EA-EE8A-3CA4-894E-DB77E160355E</Id>
      <Tidspunkt>2016-10-13T16:43:16</Tidspunkt>
      <Status V="A" DN="Aktiv oppføring"/>
      <Vilkar>
        <Id>ID_886313E1-3B8A-5372-9B90-0C9AEE199E5D</Id>
        <VilkarNr>9</VilkarNr>
        <Gruppe V="1" S="2.16.578.1.12.4.1.1.7437" DN="Legemiddel"/>
        <GjelderFor V="1" DN="Rekvirent"/>
        <Tekst>Forskrives kun av spesialist i onkologi.</Tekst>
      </Vilkar>
    </OppfVilkar>
    <OppfVilkar>
      <Id>ID_0A2C7F3E-9D41-4B7A-A5C6-1E2F3A4B5C6D</Id>
      <Tidspunkt>2016-09-01T08:00:00</Tidspunkt>
      <Status V="U" DN="Utgått oppføring"/>
    </OppfVilkar>
  </KatVilkar>
</FEST>
`;
    expect(await validateOfficialFest(katVilkar)).toEqual({ valid: true, errors: [] });
  });
});

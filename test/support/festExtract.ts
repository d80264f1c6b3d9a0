/**
 * FEST 2.5.1 source extracts built to the official schema (tests check them with validateOfficialFest): per medicine a
 * Virkestoff, a VirkestoffMedStyrke, a LegemiddelMerkevare, a Legemiddelpakning and a LegemiddelVirkestoff, written
 * as a stream so the bench can make 200 MB ones without holding them.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const M30 = 'http://www.kith.no/xmlstds/eresept/m30/2014-12-01';
export const FS = 'http://www.kith.no/xmlstds/eresept/forskrivning/2014-12-01';
const ATC_OID = '2.16.578.1.12.4.1.1.7180';

export interface SourceMedicine {
  /** Suffix of every id this medicine gives its products: ID_LM_<key>, ID_LP_<key>, ID_LV_<key>. */
  key: string;
  /** Brand name (Varenavn). */
  name: string;
  substance: string;
  /** Level-5 ATC code; null for a product FEST lists without one. */
  atc: string | null;
}

export interface SourceSpec {
  medicines: Iterable<SourceMedicine>;
  /** KatVilkar in the source: absent, present and empty, or with one condition the first product references. */
  katVilkar?: 'absent' | 'empty' | 'one';
  /** Product description sections per product, to reach realistic sizes (a real LegemiddelMerkevare is a few KB). */
  sections?: number;
  hentetDato?: string;
}

/** The FEST ids of a medicine's three products. */
export const productIdsOf = (m: Pick<SourceMedicine, 'key'>) => [
  `ID_LM_${m.key}`,
  `ID_LP_${m.key}`,
  `ID_LV_${m.key}`,
];
export const SOURCE_VILKAR_ID = 'ID_VILKAR_SOURCE_1';

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const oppf = (id: string) =>
  `<Id>OPPF_${id}</Id><Tidspunkt>2025-01-10T08:00:00</Tidspunkt><Status V="A" DN="Aktiv oppføring"/>`;
const substanceId = (substance: string) => `ID_VS_${substance.replace(/[^A-Za-z0-9]/g, '_')}`;

function typeLegemiddel(m: SourceMedicine, refVilkar: boolean): string {
  return (
    (m.atc ? `<fs:Atc V="${m.atc}" S="${ATC_OID}" DN="${esc(m.substance)}"/>` : '') +
    `<fs:NavnFormStyrke>${esc(m.name)} inf kons 20 mg/ml</fs:NavnFormStyrke>` +
    '<fs:Reseptgruppe V="C" DN="C"/>' +
    '<fs:LegemiddelformKort V="46" S="2.16.578.1.12.4.1.1.7448" DN="Inf kons"/>' +
    (refVilkar ? `<fs:RefVilkar>${SOURCE_VILKAR_ID}</fs:RefVilkar>` : '') +
    '<fs:Preparattype V="1" DN="Vanlig"/>'
  );
}

function sectionsXml(n: number): string {
  let xml = '';
  for (let i = 0; i < n; i++)
    xml +=
      `<fs:Preparatomtaleavsnitt><fs:Avsnittoverskrift V="${i + 1}" DN="Avsnitt ${i + 1}: indikasjoner, dosering, forsiktighetsregler og bivirkninger (æøå)"/>` +
      `<fs:Lenke><fs:Beskrivelse>Preparatomtale, avsnitt ${i + 1}, for helsepersonell</fs:Beskrivelse><fs:Www V="https://www.felleskatalogen.no/medisin/avsnitt-${i + 1}"/></fs:Lenke></fs:Preparatomtaleavsnitt>`;
  return xml;
}

function merkevare(m: SourceMedicine, refVilkar: boolean, sections: number): string {
  const [lm] = productIdsOf(m);
  return (
    `<OppfLegemiddelMerkevare>${oppf(lm!)}<fs:LegemiddelMerkevare>${typeLegemiddel(m, refVilkar)}` +
    `<fs:Id>${lm}</fs:Id><fs:Varenavn>${esc(m.name)}</fs:Varenavn><fs:LegemiddelformLang>Konsentrat til infusjonsvæske, oppløsning</fs:LegemiddelformLang>` +
    `<fs:SortertVirkestoffMedStyrke><fs:Sortering>1</fs:Sortering><fs:RefVirkestoffMedStyrke>ID_VMS_${m.key}</fs:RefVirkestoffMedStyrke></fs:SortertVirkestoffMedStyrke>` +
    `${sectionsXml(sections)}</fs:LegemiddelMerkevare></OppfLegemiddelMerkevare>`
  );
}

function pakning(m: SourceMedicine, sections: number): string {
  const [lm, lp] = productIdsOf(m);
  return (
    `<OppfLegemiddelpakning>${oppf(lp!)}<fs:Legemiddelpakning>${typeLegemiddel(m, false)}` +
    `<fs:Id>${lp}</fs:Id><fs:Varenr>${m.key.replace(/\D/g, '').padStart(6, '0').slice(-6)}</fs:Varenr>` +
    `<fs:Pakningsinfo><fs:RefLegemiddelMerkevare>${lm}</fs:RefLegemiddelMerkevare><fs:Pakningsstr>10</fs:Pakningsstr>` +
    '<fs:EnhetPakning V="2" S="2.16.578.1.12.4.1.1.7452" DN="ml"/><fs:Pakningstype V="HGL" S="2.16.578.1.12.4.1.1.7453" DN="Hetteglass"/><fs:Mengde>10</fs:Mengde></fs:Pakningsinfo>' +
    '<fs:PrisVare><fs:Type V="5" S="2.16.578.1.12.4.1.1.7454" DN="Maksimal AUP"/><fs:Pris V="12345.60" U="NOK"/><fs:GyldigFraDato>2025-01-01</fs:GyldigFraDato></fs:PrisVare>' +
    `${sectionsXml(Math.ceil(sections / 2))}</fs:Legemiddelpakning></OppfLegemiddelpakning>`
  );
}

function legemiddelVirkestoff(m: SourceMedicine): string {
  const [lm, lp, lv] = productIdsOf(m);
  return (
    `<OppfLegemiddelVirkestoff>${oppf(lv!)}<fs:LegemiddelVirkestoff>${typeLegemiddel(m, false)}<fs:Id>${lv}</fs:Id>` +
    `<fs:SortertVirkestoffMedStyrke><fs:Sortering>1</fs:Sortering><fs:RefVirkestoffMedStyrke>ID_VMS_${m.key}</fs:RefVirkestoffMedStyrke></fs:SortertVirkestoffMedStyrke>` +
    `<fs:RefLegemiddelMerkevare>${lm}</fs:RefLegemiddelMerkevare><fs:RefPakning>${lp}</fs:RefPakning></fs:LegemiddelVirkestoff></OppfLegemiddelVirkestoff>`
  );
}

const SOURCE_VILKAR =
  `<OppfVilkar><Id>OPPF_${SOURCE_VILKAR_ID}</Id><Tidspunkt>2024-06-01T12:00:00</Tidspunkt><Status V="A" DN="Aktiv oppføring"/>` +
  `<Vilkar><Id>${SOURCE_VILKAR_ID}</Id><VilkarNr>9</VilkarNr><Gruppe V="3" S="2.16.578.1.12.4.1.1.7437" DN="Refusjon"/>` +
  '<GjelderFor V="1" DN="Rekvirent"/><Tekst>Refusjon ytes kun etter søknad.</Tekst></Vilkar></OppfVilkar>';

/**
 * The document in pieces, one catalogue entry at a time. The medicines are iterated once per catalogue (five
 * times), so pass something that can be iterated again (an array, or an object whose iterator starts over).
 */
export function* festSourceChunks(spec: SourceSpec): Generator<string> {
  const sections = spec.sections ?? 1;
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<FEST xmlns="${M30}" xmlns:fs="${FS}"><HentetDato>${spec.hentetDato ?? '2025-01-10T08:00:00'}</HentetDato>`;
  let first = true;
  yield '<KatLegemiddelMerkevare>';
  for (const m of spec.medicines) {
    yield merkevare(m, first && spec.katVilkar === 'one', sections);
    first = false;
  }
  yield '</KatLegemiddelMerkevare><KatLegemiddelpakning>';
  for (const m of spec.medicines) yield pakning(m, sections);
  yield '</KatLegemiddelpakning><KatVirkestoff>';
  const seen = new Set<string>();
  for (const m of spec.medicines) {
    const vs = substanceId(m.substance);
    if (!seen.has(vs)) {
      seen.add(vs);
      yield `<OppfVirkestoff>${oppf(vs)}<fs:Virkestoff><fs:Id>${vs}</fs:Id><fs:Navn>${esc(m.substance)}</fs:Navn></fs:Virkestoff></OppfVirkestoff>`;
    }
    yield `<OppfVirkestoff>${oppf(`ID_VMS_${m.key}`)}<fs:VirkestoffMedStyrke><fs:Id>ID_VMS_${m.key}</fs:Id><fs:Styrke V="20" U="mg"/>` +
      `<fs:RefVirkestoff>${vs}</fs:RefVirkestoff><fs:Styrkeoperator V="1" S="2.16.578.1.12.4.1.1.7471" DN="Eksakt"/></fs:VirkestoffMedStyrke></OppfVirkestoff>`;
  }
  yield '</KatVirkestoff><KatLegemiddelVirkestoff>';
  for (const m of spec.medicines) yield legemiddelVirkestoff(m);
  yield '</KatLegemiddelVirkestoff>';
  if (spec.katVilkar === 'empty') yield '<KatVilkar/>';
  if (spec.katVilkar === 'one') yield `<KatVilkar>${SOURCE_VILKAR}</KatVilkar>`;
  yield '<KatKodeverk/></FEST>\n';
}

export const festSourceXml = (spec: SourceSpec): string => [...festSourceChunks(spec)].join('');

/** Writes the document to a file, honouring back-pressure; answers its size in bytes. */
export async function writeFestSource(path: string, spec: SourceSpec): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let batch = '';
  for (const chunk of festSourceChunks(spec)) {
    batch += chunk;
    if (batch.length < 1 << 16) continue;
    bytes += Buffer.byteLength(batch);
    if (!out.write(batch)) await once(out, 'drain');
    batch = '';
  }
  bytes += Buffer.byteLength(batch);
  out.end(batch);
  await once(out, 'finish');
  return bytes;
}

const BENCH_ATC = ['L01FF01', 'L01FX04', 'L04AA18', 'L01EX99', 'A10BJ06', 'C10AX13', 'N07XX12', 'B01AF02'];
const BENCH_SUBSTANCES = [
  'nivolumab',
  'ipilimumab',
  'everolimus',
  'x-stoff',
  'semaglutid',
  'evolokumab',
  'risdiplam',
  'apiksaban',
];

/** `count` generated medicines (every 50th without an ATC code), iterable again and again without holding them. */
export function generatedMedicines(count: number): Iterable<SourceMedicine> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < count; i++) {
        const k = i % BENCH_ATC.length;
        yield {
          key: String(i),
          name: `Preparat ${i} ${BENCH_SUBSTANCES[k]}`,
          substance: BENCH_SUBSTANCES[k]!,
          atc: i % 50 === 49 ? null : BENCH_ATC[k]!,
        };
      }
    },
  };
}

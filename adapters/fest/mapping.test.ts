import { XMLParser } from 'fast-xml-parser';
import { decisionOf } from '../../test/support/fixtures.ts';
import { describe, expect, it } from 'vitest';
import type { FestVilkar, MethodDetails, MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { XsdValidator } from '../../test/emulators/fest-vendor/xsdValidator.ts';
import { festXsdPath } from '../../test/emulators/fest-vendor/server.ts';
import { festVilkarFor, osloDateOf, sameVilkar, withdrawnVilkar } from './mapping.ts';
import {
  FEST_NAMESPACE,
  festDocument,
  osloDateTime,
  renderOppfVilkar,
  renderOppfVilkarByBuilder,
} from './xml.ts';

const id = 'ID2021_042';
const options = { linkBase: 'https://www.nyemetoder.no/metoder/' };
const details: MethodDetails = {
  name: 'Nivolumab til behandling av lungekreft',
  shortDescription: null,
  methodType: 'MEDICINE',
  level: 'NATIONAL',
  specialty: 'Onkologi',
  indication: 'Ikke-småcellet lungekreft',
  substances: ['nivolumab'],
  atcCodes: ['L01FF01'],
  marketingAuthorisation: 'GRANTED',
  supplier: 'Bristol-Myers Squibb',
  hPrescription: true,
  estimatedPatientsPerYear: 250,
  guidelineFlags: [],
  assessmentUrl: null,
  supplierConfidentialNote: 'Rabatt på 31 prosent, hemmelig',
};

let clock = Date.parse('2021-03-01T09:00:00Z');
const at = () => {
  clock += 86_400_000;
  return new Date(clock).toISOString();
};
function fold(events: MethodEvent[]): MethodState {
  let state: MethodState | undefined;
  for (const event of events) {
    const result = applyEvent(state, event);
    if (!result.ok) throw new Error(result.errors.map((e) => `${e.code}: ${e.reason}`).join('; '));
    state = result.value;
  }
  return state!;
}
const registered = (extra: Partial<MethodDetails> = {}) =>
  methodEvent(
    'METHOD_REGISTERED',
    id,
    { details: { ...details, ...extra } },
    { occurredAt: '2021-03-01T23:30:00Z' },
  );
const toStatus = (to: MethodState['status']) =>
  methodEvent('STATUS_CHANGED', id, { from: null, to, reason: null }, { occurredAt: at() });
const throughAssessment = () => [
  registered(),
  toStatus('HORIZON_SCANNING'),
  toStatus('AWAITING_ORDERING'),
  methodEvent(
    'ASSIGNMENT_ORDERED',
    id,
    { assignee: 'SLV', slvTrack: 'A', fhiProduct: null, orderedOn: '2021-04-12', deadline: null },
    { occurredAt: at() },
  ),
  methodEvent('ASSESSMENT_STARTED', id, { startedOn: '2021-05-01', assessor: 'SLV' }, { occurredAt: at() }),
  methodEvent(
    'ASSESSMENT_DELIVERED',
    id,
    { deliveredOn: '2021-10-01', reportUrl: null, simplified: false },
    { occurredAt: at() },
  ),
  toStatus('ASSESSMENT_COMPLETED'),
  toStatus('AWAITING_DECISION'),
];
const decided = (
  outcome: 'INTRODUCED' | 'INTRODUCED_WITH_CONDITIONS' | 'TEMPORARILY_INTRODUCED' | 'NOT_INTRODUCED',
  extra = {},
) =>
  methodEvent(
    'DECISION_MADE',
    id,
    decisionOf(outcome, '2022-01-24', { effectiveFrom: '2022-02-01', ...extra }),
    { occurredAt: at() },
  );
const temporary = {
  temporaryIntroduction: {
    reassessBy: '2024-02-01',
    outcomeMeasures: ['totaloverlevelse'],
    dataPlan: 'Registerdata',
    exitPlan: 'Avslutt ved manglende effekt',
  },
};

describe('the prescriber status of a medicine method', () => {
  it.each([
    ['just registered', () => [registered()], 'UNDER_VURDERING', '2021-03-02', null],
    ['under assessment', () => throughAssessment().slice(0, 6), 'UNDER_VURDERING', '2021-03-02', null],
    ['introduced', () => [...throughAssessment(), decided('INTRODUCED')], 'INNFORT', '2022-02-01', null],
    [
      'introduced with conditions',
      () => [
        ...throughAssessment(),
        decided('INTRODUCED_WITH_CONDITIONS', { conditions: ['Kun andrelinje'] }),
      ],
      'INNFORT_MED_VILKAR',
      '2022-02-01',
      null,
    ],
    [
      'temporarily introduced',
      () => [...throughAssessment(), decided('TEMPORARILY_INTRODUCED', temporary)],
      'MIDLERTIDIG_INNFORT',
      '2022-02-01',
      '2024-02-01',
    ],
    [
      'not introduced',
      () => [...throughAssessment(), decided('NOT_INTRODUCED')],
      'IKKE_INNFORT',
      '2022-01-24',
      null,
    ],
    [
      'phased out',
      () => [
        ...throughAssessment(),
        decided('INTRODUCED'),
        methodEvent(
          'PHASED_OUT',
          id,
          { effectiveFrom: '2023-06-01', subGroup: null, reason: null },
          { occurredAt: at() },
        ),
      ],
      'UTFASET',
      '2023-06-01',
      null,
    ],
  ])('%s', (_what, events, status, validFrom, validTo) => {
    const draft = festVilkarFor(fold(events()), options)!;
    expect(draft.statusCode).toBe(status);
    expect(draft.validFrom).toBe(validFrom);
    expect(draft.validTo).toBe(validTo);
    expect(draft.vilkarId).toBe('NM-ID2021_042');
    expect(draft.substances).toEqual(['nivolumab']);
    expect(draft.atcCodes).toEqual(['L01FF01']);
    expect(draft.link).toBe('https://www.nyemetoder.no/metoder/ID2021_042');
  });

  it('tells prescribers not to start new patients while the method is assessed, from its Oslo registration day', () => {
    const draft = festVilkarFor(fold([registered()]), options)!;
    // Registered 23:30 UTC on 1 March is 2 March in Oslo.
    expect(osloDateOf(Date.parse('2021-03-01T23:30:00Z'))).toBe('2021-03-02');
    expect(draft.text).toContain('Skal ikke tas i bruk for nye pasienter');
    expect(draft.statusText).toBe('Under vurdering i Nye metoder');
  });

  it('gives no condition for a method that is not a medicine, or closed before a decision', () => {
    expect(
      festVilkarFor(fold([registered({ methodType: 'PROCEDURE', substances: [], atcCodes: [] })]), options),
    ).toBeNull();
    const closed = fold([
      registered(),
      methodEvent('METHOD_CLOSED', id, { reason: 'WITHDRAWN', note: null }, { occurredAt: at() }),
    ]);
    expect(festVilkarFor(closed, options)).toBeNull();
  });

  it('never carries the supplier note', () => {
    const state = fold([...throughAssessment(), decided('INTRODUCED')]);
    expect(JSON.stringify(festVilkarFor(state, options))).not.toContain('Rabatt');
  });

  it('withdraws a published condition and sees unchanged drafts as the same', () => {
    const draft = festVilkarFor(fold([registered()]), options)!;
    const published: FestVilkar = { ...draft, catalogueVersion: 7, changedAt: '2021-03-02T10:00:00.000Z' };
    const withdrawn = withdrawnVilkar(published);
    expect(withdrawn.withdrawn).toBe(true);
    expect(sameVilkar(draft, { ...draft })).toBe(true);
    expect(sameVilkar(draft, withdrawn)).toBe(false);
  });
});

describe('FEST XML', () => {
  const validator = XsdValidator.fromFile(festXsdPath);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    isArray: (n) => ['OppfVilkar', 'StrukturertVilkar'].includes(n),
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
    ...over,
  });

  it('round-trips through fast-xml-parser with Norwegian letters, escaping and Oslo time offsets intact, and validates', () => {
    const xml = festDocument(
      [
        entry(),
        entry({
          vilkarId: 'NM-ID2020_001',
          methodId: 'ID2020_001',
          withdrawn: true,
          changedAt: '2025-01-15T12:00:00.000Z',
        }),
      ],
      Date.parse('2025-07-01T10:00:00Z'),
      { codeSetOid: '2.16.578.1.12.4.1.1.9901' },
    );
    expect(validator.validate(xml)).toEqual([]);
    const doc = parser.parse(xml);
    expect(doc.FEST['@_xmlns']).toBe(FEST_NAMESPACE);
    expect(doc.FEST.HentetDato).toBe('2025-07-01T12:00:00.000+02:00');
    const [first, second] = doc.FEST.KatVilkar.OppfVilkar;
    expect(first.Tidspunkt).toBe('2025-03-30T03:30:00.000+02:00'); // just after the spring change
    expect(Date.parse(first.Tidspunkt)).toBe(Date.parse('2025-03-30T01:30:00.000Z'));
    expect(second.Tidspunkt).toBe('2025-01-15T13:00:00.000+01:00');
    expect(first.Status).toEqual({ '@_V': 'A', '@_DN': 'Aktiv' });
    expect(second.Status['@_V']).toBe('U');
    expect(first.Vilkar.Id).toBe('NM-ID2021_042');
    expect(first.Vilkar.VilkarNr).toBe('2021042');
    expect(first.Vilkar.Tekst).toBe(entry().text);
    expect(first.Vilkar.Gruppe['@_S']).toBe('2.16.578.1.12.4.1.1.9901');
    expect(first.Vilkar.GyldigFraDato).toBe('2022-02-01');
    expect(first.Vilkar.GyldigTilDato).toBeUndefined();
    const structured = first.Vilkar.StrukturertVilkar.map(
      (s: { Type: { '@_V': string }; VerdiTekst?: string; VerdiKodet?: { '@_V': string } }) => [
        s.Type['@_V'],
        s.VerdiTekst ?? s.VerdiKodet?.['@_V'],
      ],
    );
    expect(structured).toEqual([
      ['METODE-ID', 'ID2021_042'],
      ['BESLUTNING', 'INNFORT'],
      ['LENKE', 'https://www.nyemetoder.no/metoder/ID2021_042?a=1&b=2'],
      ['VIRKESTOFF', 'nivolumab'],
      ['VIRKESTOFF', 'ipilimumab'],
      ['ATC', 'L01FF01'],
      ['ATC', 'L01FX04'],
    ]);
    expect(xml).toContain('&lt; 75 år &amp;');
  });

  it('renders each entry exactly as fast-xml-parser builds it', () => {
    const tricky = [
      entry(),
      entry({ withdrawn: true, validTo: '2024-02-01', link: null, substances: [], atcCodes: [] }),
      entry({
        text: `'Sitat' "dobbel" <b>&amp; æøå ÆØÅ`,
        statusText: 'A&B "C"',
        methodId: 'X1',
        vilkarId: 'NM-X1',
      }),
      entry({ validFrom: null, indication: null }),
    ];
    for (const e of tricky)
      expect(renderOppfVilkar(e, { codeSetOid: '1.2&3' })).toBe(
        renderOppfVilkarByBuilder(e, { codeSetOid: '1.2&3' }),
      );
  });

  it('renders UTC instants in Oslo time across the autumn change', () => {
    expect(osloDateTime(Date.parse('2025-10-26T00:59:59.000Z'))).toBe('2025-10-26T02:59:59.000+02:00');
    expect(osloDateTime(Date.parse('2025-10-26T01:00:00.000Z'))).toBe('2025-10-26T02:00:00.000+01:00');
  });

  it('the validator finds documents that break the schema', () => {
    const good = festDocument([entry()], Date.now(), { codeSetOid: '1.2.3' });
    expect(validator.validate(good)).toEqual([]);
    const swapped = good.replace(
      /<Tekst>(.*?)<\/Tekst>(<GyldigFraDato>.*?<\/GyldigFraDato>)/,
      '$2<Tekst>$1</Tekst>',
    );
    expect(validator.validate(swapped).join('\n')).toMatch(/not allowed here|Tekst is required/);
    expect(validator.validate(good.replace(/ S="1\.2\.3"/, '')).join('\n')).toContain('required attribute S');
    expect(validator.validate(good.replace('2022-02-01', '2022-02-30')).join('\n')).toContain('xs:date');
    expect(
      validator.validate(good.replace('<Id>OPPF-NM-ID2021_042</Id>', '<Id>NM-ID2021_042</Id>')).join('\n'),
    ).toContain('used twice');
    expect(validator.validate(good.replace(FEST_NAMESPACE, 'urn:other')).join('\n')).toContain('namespace');
    expect(validator.validate(good.replace('</FEST>', '')).join('\n')).toContain('well-formed');
  });
});

import { describe, expect, it } from 'vitest';
import { hostile, jcaDocument, toXml } from '../../test/emulators/eu-jca/documents.ts';
import { documentFromJson } from './notification.ts';
import { documentFromXml } from './xmlDocument.ts';

describe('JSON and XML read to the same document', () => {
  it('maps every field of the XML face to the JSON one', () => {
    const doc = jcaDocument({ indication: 'Behandling av «tidlig» brystkreft & <æøå>' });
    const fromXml = documentFromXml(toXml(doc));
    const fromJson = documentFromJson(JSON.stringify(doc));
    expect(fromXml.ok).toBe(true);
    expect(fromJson.ok).toBe(true);
    if (fromXml.ok && fromJson.ok) expect(fromXml.document).toEqual(fromJson.document);
  });

  it('reads the member states of each PICO, the first clock stop and the endorsement from JSON and XML alike', () => {
    const doc = jcaDocument({
      milestone: 'REPORT_ENDORSED',
      milestoneOn: '2026-01-14',
      picos: [
        { ...jcaDocument().picos![0]!, memberStates: ['NO', 'SE'] },
        { ...jcaDocument().picos![0]!, population: 'PD-L1 1-49 %', memberStates: ['DE'] },
      ],
      dates: { firstClockStopOn: '2025-04-10', reportEndorsedOn: '2026-01-14' },
    });
    const fromXml = documentFromXml(toXml(doc));
    const fromJson = documentFromJson(JSON.stringify(doc));
    expect(fromXml.ok && fromJson.ok).toBe(true);
    if (fromXml.ok && fromJson.ok) {
      expect(fromXml.document).toEqual(fromJson.document);
      expect(fromXml.document.picos!.map((p) => p.memberStates)).toEqual([['NO', 'SE'], ['DE']]);
      expect(fromXml.document.dates).toMatchObject({
        firstClockStopOn: '2025-04-10',
        reportEndorsedOn: '2026-01-14',
      });
    }
  });

  it('refuses a PICO member state that is not an EU/EEA country, naming the field', () => {
    const doc = jcaDocument({ picos: [{ ...jcaDocument().picos![0]!, memberStates: ['US'] }] });
    const checked = documentFromJson(JSON.stringify(doc));
    expect(checked.ok).toBe(false);
    if (!checked.ok)
      expect(checked.problems).toContainEqual(expect.objectContaining({ path: 'picos.0.memberStates.0' }));
  });

  it('refuses a report published before its endorsement', () => {
    const doc = jcaDocument({ dates: { reportEndorsedOn: '2026-01-20', reportPublishedOn: '2026-01-15' } });
    const checked = documentFromJson(JSON.stringify(doc));
    expect(checked.ok || checked.code).toBe('INVALID_DOCUMENT');
    if (!checked.ok) expect(checked.problems[0]).toMatchObject({ path: 'dates.reportPublishedOn' });
  });

  it('reads empty lists and omitted optional elements', () => {
    const { picos: _p, documents: _d, dates: _x, ...bare } = jcaDocument();
    const checked = documentFromXml(toXml({ ...bare, picos: [] }));
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.document.picos).toEqual([]);
  });
});

describe('hostile XML is refused before parsing', () => {
  it.each([
    ['an external entity', hostile.xxeFile()],
    ['an external DTD', hostile.xxeHttp('http://127.0.0.1:9/x')],
    ['a parameter entity', hostile.xxeParameter('http://127.0.0.1:9/x')],
    ['the billion laughs', hostile.billionLaughs()],
    ['a quadratic blow-up', hostile.quadraticBlowup()],
    ['a lower-case doctype', hostile.sneakyDoctype()],
  ])('refuses %s with XML_DTD_FORBIDDEN', (_name, body) => {
    const checked = documentFromXml(body);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(checked.status).toBe(400);
      expect(checked.code).toBe('XML_DTD_FORBIDDEN');
      expect(checked.detail).toMatch(/DOCTYPE|ENTITY/);
    }
  });

  it('refuses malformed XML naming the line', () => {
    const checked = documentFromXml(hostile.malformedXml());
    expect(checked.ok || checked.code).toBe('MALFORMED_XML');
    if (!checked.ok)
      expect(checked.detail).toMatch(/unclosed element\(s\) jcaNotification, milestone \(line \d+/);
  });

  it('refuses nesting deeper than a notification has', () => {
    const checked = documentFromXml(hostile.deepXml(50));
    expect(checked.ok).toBe(false);
  });

  it('refuses another encoding, root or namespace', () => {
    const doc = jcaDocument();
    const latin = toXml(doc).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"');
    expect(documentFromXml(latin)).toMatchObject({ ok: false, code: 'XML_ENCODING' });
    expect(documentFromXml('<other/>')).toMatchObject({ ok: false, code: 'INVALID_DOCUMENT' });
    expect(documentFromXml(toXml(doc, 'urn:example:jca:2'))).toMatchObject({
      ok: false,
      status: 422,
      code: 'UNSUPPORTED_SCHEMA_VERSION',
    });
  });

  it('lists schema problems of an XML document by path', () => {
    const xml = toXml(jcaDocument())
      .replace(/<milestone>[^<]*<\/milestone>/, '<milestone>APPROVED</milestone>')
      .replace('<assessor>DE</assessor>', '<assessor>US</assessor><surprise>x</surprise>');
    const checked = documentFromXml(xml);
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      const paths = checked.problems.map((p) => `${p.path}: ${p.reason}`);
      expect(paths.some((p) => p.startsWith('milestone: must be one of'))).toBe(true);
      expect(paths.some((p) => p.startsWith('assessor'))).toBe(true);
      expect(paths.some((p) => p.includes('unknown field "surprise"'))).toBe(true);
    }
  });
});

describe('namespaces', () => {
  it('reads a prefixed root and ignores other namespace declarations', () => {
    const xml = toXml(jcaDocument())
      .replace(
        /<jcaNotification xmlns="([^"]+)"/,
        '<j:jcaNotification xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:j="$1"',
      )
      .replace('</jcaNotification>', '</j:jcaNotification>')
      .replaceAll(/<(\/?)(?!j:|\?)([a-zA-Z]+)/g, '<$1j:$2');
    const checked = documentFromXml(xml);
    expect(checked).toMatchObject({ ok: true });
  });
});

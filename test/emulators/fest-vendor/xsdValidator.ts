/**
 * A structural XML Schema validator for the subset of XSD our schemas use (no xmllint on the machines):
 * global elements, named and anonymous complex types with one xs:sequence of elements (minOccurs,
 * maxOccurs), attributes with use="required", and the simple types xs:string, xs:token, xs:integer,
 * xs:date, xs:dateTime, xs:ID (NCName, unique in the document) and xs:IDREF. It reads the order and
 * cardinalities from the XSD itself; anything else in the XSD is refused so it can't be silently skipped.
 */
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

interface Particle {
  name: string;
  min: number;
  max: number;
  type: string | Model;
}
interface AttributeRule {
  name: string;
  type: string;
  required: boolean;
}
interface Model {
  sequence: Particle[];
  attributes: AttributeRule[];
}

const simpleTypes = new Set([
  'xs:string',
  'xs:token',
  'xs:integer',
  'xs:date',
  'xs:dateTime',
  'xs:ID',
  'xs:IDREF',
]);
const NCNAME = /^[A-Za-z_][\w.-]*$/;
const TZ = '(Z|[+-](0\\d|1[0-4]):[0-5]\\d)?';
const DATE = new RegExp(`^(\\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])${TZ}$`);
const DATE_TIME = new RegExp(
  `^(\\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d+)?${TZ}$`,
);

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
});

const tagOf = (node: Node): string => Object.keys(node).find((k) => k !== ':@')!;
const childrenOf = (node: Node): Node[] => node[tagOf(node)] as Node[];
const elementsOf = (node: Node): Node[] => childrenOf(node).filter((c) => !('#text' in c) && !('?xml' in c));

export class XsdValidator {
  readonly targetNamespace: string;
  private readonly complexTypes = new Map<string, Node>();
  private readonly globals = new Map<string, Node>();

  constructor(xsdText: string) {
    const schema = (parser.parse(xsdText) as Node[]).find((n) => tagOf(n) === 'xs:schema');
    if (!schema) throw new Error('not an XSD: no xs:schema root');
    this.targetNamespace = schema[':@']?.targetNamespace ?? '';
    if (schema[':@']?.elementFormDefault !== 'qualified')
      throw new Error('only elementFormDefault="qualified" is supported');
    for (const child of elementsOf(schema)) {
      const tag = tagOf(child);
      const name = child[':@']?.name;
      if (tag === 'xs:complexType' && name) this.complexTypes.set(name, child);
      else if (tag === 'xs:element' && name) this.globals.set(name, child);
      else if (tag !== '#comment') throw new Error(`unsupported top-level XSD construct ${tag}`);
    }
  }

  static fromFile(path: string): XsdValidator {
    return new XsdValidator(readFileSync(path, 'utf8'));
  }

  private modelOf(complexType: Node): Model {
    const model: Model = { sequence: [], attributes: [] };
    for (const part of elementsOf(complexType)) {
      const tag = tagOf(part);
      if (tag === '#comment') continue;
      if (tag === 'xs:sequence') {
        for (const element of elementsOf(part)) {
          if (tagOf(element) === '#comment') continue;
          if (tagOf(element) !== 'xs:element')
            throw new Error(`unsupported particle ${tagOf(element)} in a sequence`);
          model.sequence.push(this.particleOf(element));
        }
      } else if (tag === 'xs:attribute') {
        const a = part[':@']!;
        model.attributes.push({ name: a.name!, type: a.type ?? 'xs:string', required: a.use === 'required' });
      } else throw new Error(`unsupported complexType content ${tag}`);
    }
    return model;
  }

  private particleOf(element: Node): Particle {
    const a = element[':@'] ?? {};
    const max = a.maxOccurs === 'unbounded' ? Number.POSITIVE_INFINITY : Number(a.maxOccurs ?? 1);
    return { name: a.name!, min: Number(a.minOccurs ?? 1), max, type: this.typeOf(element) };
  }

  private typeOf(element: Node): string | Model {
    const type = element[':@']?.type;
    if (type) {
      if (simpleTypes.has(type)) return type;
      const named = this.complexTypes.get(type);
      if (!named) throw new Error(`unknown type ${type}`);
      return this.modelOf(named);
    }
    const anonymous = elementsOf(element).find((c) => tagOf(c) === 'xs:complexType');
    if (!anonymous) return 'xs:string';
    return this.modelOf(anonymous);
  }

  /** Every way the document breaks the schema; empty when it is valid. */
  validate(xml: string): string[] {
    const errors: string[] = [];
    let nodes: Node[];
    try {
      nodes = parser.parse(xml, true) as Node[];
    } catch (error) {
      return [`not well-formed: ${(error as Error).message}`];
    }
    const roots = nodes.filter((n) => !('?xml' in n) && !('#text' in n && String(n['#text']).trim() === ''));
    if (roots.length !== 1) return [`expected one root element, found ${roots.length}`];
    const root = roots[0]!;
    const name = tagOf(root);
    const declaration = this.globals.get(name);
    if (!declaration) return [`root element ${name} is not declared in the schema`];
    if (root[':@']?.xmlns !== this.targetNamespace)
      errors.push(
        `root ${name} must be in namespace ${this.targetNamespace}, has "${root[':@']?.xmlns ?? ''}"`,
      );
    const ids = new Set<string>();
    const refs: string[] = [];
    this.check(root, this.typeOf(declaration), `/${name}`, errors, ids, refs, true);
    for (const ref of refs) if (!ids.has(ref)) errors.push(`IDREF ${ref} names no ID in the document`);
    return errors;
  }

  private check(
    node: Node,
    type: string | Model,
    path: string,
    errors: string[],
    ids: Set<string>,
    refs: string[],
    isRoot = false,
  ): void {
    const attributes = { ...(node[':@'] ?? {}) };
    if (isRoot) delete attributes.xmlns;
    for (const key of Object.keys(attributes))
      if (key.startsWith('xmlns')) errors.push(`${path}: namespace declaration ${key} is not expected`);
    const children = childrenOf(node);
    if (typeof type === 'string') {
      if (children.some((c) => !('#text' in c)))
        errors.push(`${path}: simple content expected, found child elements`);
      if (Object.keys(attributes).length > 0) errors.push(`${path}: no attributes expected`);
      const text = children.map((c) => String(c['#text'] ?? '')).join('');
      this.checkSimple(text, type, path, errors, ids, refs);
      return;
    }
    for (const rule of type.attributes) {
      const value = attributes[rule.name];
      delete attributes[rule.name];
      if (value === undefined) {
        if (rule.required) errors.push(`${path}: required attribute ${rule.name} is missing`);
        continue;
      }
      this.checkSimple(value, rule.type, `${path}/@${rule.name}`, errors, ids, refs);
    }
    for (const key of Object.keys(attributes))
      if (!key.startsWith('xmlns')) errors.push(`${path}: attribute ${key} is not in the schema`);
    for (const c of children)
      if ('#text' in c && String(c['#text']).trim() !== '')
        errors.push(`${path}: text "${String(c['#text']).slice(0, 40)}" not allowed in element-only content`);
    const elements = children.filter((c) => !('#text' in c));
    let at = 0;
    for (const particle of type.sequence) {
      let count = 0;
      while (at < elements.length && tagOf(elements[at]!) === particle.name) {
        count++;
        if (count <= particle.max)
          this.check(elements[at]!, particle.type, `${path}/${particle.name}[${count}]`, errors, ids, refs);
        at++;
      }
      if (count < particle.min)
        errors.push(`${path}: ${particle.name} is required (at least ${particle.min}), found ${count}`);
      if (count > particle.max)
        errors.push(`${path}: at most ${particle.max} ${particle.name}, found ${count}`);
    }
    if (at < elements.length)
      errors.push(
        `${path}: element ${tagOf(elements[at]!)} is not allowed here (out of order or not in the schema)`,
      );
  }

  private checkSimple(
    text: string,
    type: string,
    path: string,
    errors: string[],
    ids: Set<string>,
    refs: string[],
  ) {
    const fail = (what: string) => errors.push(`${path}: "${text.slice(0, 60)}" is not ${what}`);
    switch (type) {
      case 'xs:string':
        return;
      case 'xs:token':
        if (/[\t\n\r]|^ | $| {2}/.test(text))
          fail('an xs:token (no leading, trailing or double spaces, no tabs or newlines)');
        return;
      case 'xs:integer':
        if (!/^[+-]?\d+$/.test(text)) fail('an xs:integer');
        return;
      case 'xs:date': {
        const m = DATE.exec(text);
        if (!m || !realDay(m)) fail('an xs:date');
        return;
      }
      case 'xs:dateTime': {
        const m = DATE_TIME.exec(text);
        if (!m || !realDay(m)) fail('an xs:dateTime');
        return;
      }
      case 'xs:ID':
        if (!NCNAME.test(text)) fail('an xs:ID (an NCName)');
        else if (ids.has(text)) errors.push(`${path}: ID ${text} is used twice in the document`);
        ids.add(text);
        return;
      case 'xs:IDREF':
        if (!NCNAME.test(text)) fail('an xs:IDREF (an NCName)');
        refs.push(text);
        return;
      default:
        throw new Error(`unsupported simple type ${type}`);
    }
  }
}

function realDay(m: RegExpExecArray): boolean {
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** The two faces of the intake contract, the JSON Schema and the XSD, must name the same fields. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { contractsDir } from '../../core/contracts/catalogue.ts';
import { jcaNotificationJsonSchema } from './notification.ts';

type Node = Record<string, unknown>;
const xsd = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true }).parse(
  readFileSync(join(contractsDir, 'xml', 'jca-notification.xsd'), 'utf8'),
) as { schema: Node };
const asList = (v: unknown): Node[] =>
  v === undefined ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node];
const complexTypes = new Map(asList(xsd.schema.complexType).map((t) => [t['@name'] as string, t]));
const simpleTypes = new Map(asList(xsd.schema.simpleType).map((t) => [t['@name'] as string, t]));

function elementsOf(type: Node): Node[] {
  const group = (type.sequence ?? type.all) as Node | undefined;
  return group ? asList(group.element) : [];
}
const namesOf = (type: Node) => elementsOf(type).map((e) => e['@name'] as string);
const jsonProperties = (schema: Node) => Object.keys((schema.properties ?? {}) as Node);
const enumOf = (simpleType: Node | undefined) =>
  asList((simpleType?.restriction as Node | undefined)?.enumeration).map((e) => e['@value']);

describe('the XSD and the JSON Schema of a JCA notification', () => {
  const root = complexTypes.get('JcaNotification')!;
  const json = jcaNotificationJsonSchema as Node;
  const props = json.properties as Record<string, Node>;

  it('name the same top-level fields (schemaVersion is an attribute in XML)', () => {
    expect([...namesOf(root), 'schemaVersion'].sort()).toEqual(jsonProperties(json).sort());
  });

  it('name the same fields in technology, dates, picos and documents', () => {
    expect(namesOf(complexTypes.get('Technology')!).sort()).toEqual(jsonProperties(props.technology!).sort());
    expect(namesOf(complexTypes.get('Dates')!).sort()).toEqual(jsonProperties(props.dates!).sort());
    expect(namesOf(complexTypes.get('Pico')!).sort()).toEqual(
      jsonProperties(props.picos!.items as Node).sort(),
    );
    expect(namesOf(complexTypes.get('Document')!).sort()).toEqual(
      jsonProperties(props.documents!.items as Node).sort(),
    );
  });

  it('allow the same milestones, technology types and countries', () => {
    expect(enumOf(simpleTypes.get('Milestone'))).toEqual(props.milestone!.enum);
    expect(enumOf(simpleTypes.get('TechnologyType'))).toEqual(
      ((props.technology!.properties as Record<string, Node>).type as Node).enum,
    );
    expect(enumOf(simpleTypes.get('Country'))).toEqual(((json.definitions as Node).country as Node).enum);
  });
});

/**
 * The contract catalogue: every Avro schema in contracts/avro/, parsed once with shared named types
 * (a later file may refer to a record declared in an earlier one) and our logical types.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';
import { topics, type TopicDeclaration } from '../../contracts/topics.ts';
import { logicalTypes } from './logicalTypes.ts';

export const contractsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'contracts');
export const avroDir = join(contractsDir, 'avro');

export interface Contract {
  topic: TopicDeclaration;
  subject: string;
  /** The parsed type, with our logical types (dates and instants as strings). */
  type: avro.Type;
  /** The self-contained schema as registered: every named type inlined, custom attributes kept. */
  schema: object;
  /** Dotted paths of fields marked `"confidential": true`, e.g. `decision.notes`. */
  confidentialPaths: string[];
}

export const subjectOf = (topic: string): string => `${topic}-value`;

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

interface SchemaNode {
  type?: unknown;
  name?: string;
  namespace?: string;
  fields?: { name: string; type: unknown }[];
  items?: unknown;
  values?: unknown;
}

const isNamedDefinition = (n: SchemaNode): boolean =>
  n.type === 'record' || n.type === 'enum' || n.type === 'fixed';
/** A named type's full name: as written when it has a dot, else in its namespace. */
export const fullNameOf = (name: string, namespace: string | undefined): string =>
  name.includes('.') || !namespace ? name : `${namespace}.${name}`;

/**
 * Makes each schema text self-contained: a named type defined in an earlier file is inlined where this one
 * first refers to it (with its namespace made explicit). avsc drops custom field attributes such as
 * `confidential` when it exports a schema, so the registered schema is built from the source JSON instead.
 */
export function inlineSchemas(texts: { file: string; text: string }[]): Map<string, object> {
  const definitions = new Map<string, SchemaNode>();
  const collect = (node: unknown, namespace: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const branch of node) collect(branch, namespace);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as SchemaNode;
    if (isNamedDefinition(n) && n.name) {
      const fullName = fullNameOf(n.name, n.namespace ?? namespace);
      const ns = fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined;
      definitions.set(fullName, n);
      if (!n.namespace && ns) n.namespace = ns;
      for (const field of n.fields ?? []) collect(field.type, ns);
    } else {
      collect(n.items ?? n.values ?? (typeof n.type === 'object' ? n.type : undefined), namespace);
    }
  };
  const raws = texts.map(({ file, text }) => {
    try {
      const json = JSON.parse(text) as SchemaNode;
      collect(json, undefined);
      return { file, json };
    } catch (error) {
      throw new Error(`CONTRACT_UNREADABLE: ${file} is not JSON: ${(error as Error).message}`);
    }
  });
  const result = new Map<string, object>();
  for (const { file, json } of raws) {
    const defined = new Set<string>();
    const inline = (node: unknown, namespace: string | undefined): unknown => {
      if (typeof node === 'string') {
        if (PRIMITIVES.has(node)) return node;
        const fullName = fullNameOf(node, namespace);
        const def = definitions.get(fullName) ?? definitions.get(node);
        if (!def)
          throw new Error(`CONTRACT_UNRESOLVED: ${file} refers to ${node}, which no contract defines`);
        const name = definitions.has(fullName) ? fullName : node;
        if (defined.has(name)) return name;
        return inline(def, namespace);
      }
      if (Array.isArray(node)) return node.map((branch) => inline(branch, namespace));
      if (node === null || typeof node !== 'object') return node;
      const n = node as SchemaNode;
      if (isNamedDefinition(n) && n.name) {
        const fullName = fullNameOf(n.name, n.namespace ?? namespace);
        defined.add(fullName);
        const ns = n.namespace ?? namespace;
        return {
          ...n,
          ...(n.fields ? { fields: n.fields.map((f) => ({ ...f, type: inline(f.type, ns) })) } : {}),
        };
      }
      return {
        ...n,
        ...(n.items !== undefined ? { items: inline(n.items, namespace) } : {}),
        ...(n.values !== undefined ? { values: inline(n.values, namespace) } : {}),
        ...(typeof n.type === 'object' ? { type: inline(n.type, namespace) } : {}),
      };
    };
    result.set(file, inline(json, undefined) as object);
  }
  return result;
}

export function parseContract(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { logicalTypes });
}

function loadCatalogue(): Map<string, Contract> {
  const texts = topics.map((t) => ({
    file: t.valueSchema,
    text: readFileSync(join(avroDir, t.valueSchema), 'utf8'),
  }));
  const inlined = inlineSchemas(texts);
  const catalogue = new Map<string, Contract>();
  for (const topic of topics) {
    const schema = inlined.get(topic.valueSchema)!;
    catalogue.set(topic.name, {
      topic,
      subject: subjectOf(topic.name),
      type: parseContract(schema),
      schema,
      confidentialPaths: confidentialPathsOf(schema),
    });
  }
  return catalogue;
}

let cached: Map<string, Contract> | undefined;

export function contracts(): Map<string, Contract> {
  cached ??= loadCatalogue();
  return cached;
}

export function contractFor(topic: string): Contract {
  const contract = contracts().get(topic);
  if (!contract) throw new Error(`UNKNOWN_CONTRACT: no contract is declared for topic ${topic}`);
  return contract;
}

/**
 * Lists the dotted paths of fields marked `"confidential": true`, e.g. `decision.priceNote`, walking the
 * self-contained schema (unions and arrays looked through; a named type is expanded where it is first defined
 * and looked up by name after that).
 */
export function confidentialPathsOf(schema: unknown): string[] {
  const named = new Map<string, unknown>();
  const paths = new Set<string>();
  const walk = (node: unknown, prefix: string, stack: string[]): void => {
    if (typeof node === 'string') {
      const def = named.get(node);
      if (def !== undefined && !stack.includes(node)) walk(def, prefix, stack);
      return;
    }
    if (Array.isArray(node)) {
      for (const branch of node) walk(branch, prefix, stack);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as {
      type?: unknown;
      name?: string;
      namespace?: string;
      fields?: unknown[];
      items?: unknown;
      values?: unknown;
    };
    if (n.type === 'record' || n.type === 'enum' || n.type === 'fixed') {
      const fullName = n.name?.includes('.')
        ? n.name
        : n.namespace
          ? `${n.namespace}.${n.name}`
          : `${n.name}`;
      named.set(fullName, node);
      if (n.type !== 'record') return;
      for (const field of (n.fields ?? []) as { name: string; type: unknown; confidential?: unknown }[]) {
        const path = prefix ? `${prefix}.${field.name}` : field.name;
        if (field.confidential === true) paths.add(path);
        walk(field.type, path, [...stack, fullName]);
      }
    } else if (n.type === 'array') walk(n.items, `${prefix}[]`, stack);
    else if (n.type === 'map') walk(n.values, `${prefix}{}`, stack);
    else walk(n.type, prefix, stack);
  };
  walk(schema, '', []);
  return [...paths];
}

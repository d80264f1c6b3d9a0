/**
 * Everything in contracts/generated/ comes from here: TypeScript types, one AsyncAPI document and a README,
 * all derived from the Avro contracts and the topic declarations, so code, docs and wire format cannot drift.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { dlqConfig, dlqTopicOf, type TopicDeclaration } from '../../contracts/topics.ts';
import { declaredLimits, validityDefaults } from './validity.ts';
import { contracts, contractsDir, subjectOf } from './catalogue.ts';

export const repoRoot = resolve(contractsDir, '..');
export const generatedDir = 'contracts/generated';
export const REGENERATE = 'npm run contracts:generate';

export const LOCAL_BROKER = '127.0.0.1:9092';
export const LOCAL_REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7';

/** What the generators need of a contract; the catalogue gives it, tests may hand in variants. */
export interface ContractSource {
  topic: TopicDeclaration;
  /** The self-contained (inlined) Avro schema. */
  schema: object;
  confidentialPaths: string[];
}

export interface GeneratedFile {
  /** Relative to the repository root, with forward slashes. */
  path: string;
  content: string;
}

export const catalogueSources = (): ContractSource[] => [...contracts().values()];

export function generatedFiles(sources: ContractSource[] = catalogueSources()): GeneratedFile[] {
  return [
    { path: `${generatedDir}/types.ts`, content: typesFile(sources) },
    {
      path: `${generatedDir}/asyncapi.json`,
      content: `${JSON.stringify(asyncApiDocument(sources), null, 2)}\n`,
    },
    { path: `${generatedDir}/README.md`, content: readmeFile(sources) },
  ];
}

/** Writes the generated files under `rootDir`; returns the paths written. */
export function writeGenerated(
  rootDir: string = repoRoot,
  files: GeneratedFile[] = generatedFiles(),
): string[] {
  for (const file of files) {
    const target = join(rootDir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  return files.map((f) => f.path);
}

export interface StaleFile {
  path: string;
  problem: 'missing' | 'stale';
}

/** Generated files under `rootDir` that are missing or differ byte for byte from what would be generated. */
export function staleGenerated(
  rootDir: string = repoRoot,
  files: GeneratedFile[] = generatedFiles(),
): StaleFile[] {
  const stale: StaleFile[] = [];
  for (const file of files) {
    let onDisk: string;
    try {
      onDisk = readFileSync(join(rootDir, file.path), 'utf8');
    } catch {
      stale.push({ path: file.path, problem: 'missing' });
      continue;
    }
    if (onDisk !== file.content) stale.push({ path: file.path, problem: 'stale' });
  }
  return stale;
}

export const staleReason = (s: StaleFile): string =>
  s.problem === 'missing'
    ? `STALE_GENERATED: ${s.path} is missing; run \`${REGENERATE}\``
    : `STALE_GENERATED: ${s.path} differs from what contracts/avro and contracts/topics.ts generate; run \`${REGENERATE}\``;

// ---------------------------------------------------------------------------------------------------------
// Avro schema shapes, as far as the generators look at them

interface AvroField {
  name: string;
  type: unknown;
  doc?: string;
  default?: unknown;
  confidential?: boolean;
}

interface AvroNode {
  type?: unknown;
  name?: string;
  namespace?: string;
  doc?: string;
  fields?: AvroField[];
  symbols?: string[];
  default?: unknown;
  items?: unknown;
  values?: unknown;
  logicalType?: string;
}

const isNamed = (n: AvroNode): boolean => n.type === 'record' || n.type === 'enum' || n.type === 'fixed';
const shortName = (name: string): string => name.slice(name.lastIndexOf('.') + 1);
const fullNameOf = (n: AvroNode, namespace: string | undefined): string =>
  n.name!.includes('.') || !namespace ? n.name! : `${namespace}.${n.name}`;
const namespaceOf = (fullName: string): string | undefined =>
  fullName.includes('.') ? fullName.slice(0, fullName.lastIndexOf('.')) : undefined;

/** The root record of a contract, e.g. `MethodEvent`. */
export const valueTypeName = (schema: object): string => shortName((schema as AvroNode).name ?? 'Unnamed');

// ---------------------------------------------------------------------------------------------------------
// types.ts

const PRIMITIVE_TS: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

/** Logical types carried as strings (see core/contracts/logicalTypes.ts), and what the string holds. */
const LOGICAL_STRINGS: Record<string, { underlying: string; note: string }> = {
  date: {
    underlying: 'int',
    note: "A local date 'YYYY-MM-DD' (the Europe/Oslo calendar day, no time zone).",
  },
  'timestamp-millis': { underlying: 'long', note: 'An ISO-8601 UTC instant, e.g. 2024-05-02T08:30:00.000Z.' },
};

const LINE_WIDTH = 110;

/**
 * Off: a decoded value always has every field (avsc fills in defaults), and core/lifecycle relies on that;
 * producers may still leave a defaulted field undefined at run time, avsc writes its default.
 */
const DEFAULTED_FIELDS_OPTIONAL = false;

const docComment = (lines: string[], indent: string): string[] => {
  const safe = lines.flatMap((l) => l.replaceAll('*/', '*\\/').split('\n'));
  if (safe.length === 0) return [];
  if (safe.length === 1 && indent.length + safe[0]!.length + 7 <= LINE_WIDTH)
    return [`${indent}/** ${safe[0]} */`];
  return [`${indent}/**`, ...safe.map((l) => `${indent} * ${l}`), `${indent} */`];
};

const quote = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** Emits TypeScript declarations for each named type once, in the order they are first needed. */
class TypeEmitter {
  readonly blocks: string[] = [];
  private readonly emitted = new Map<string, string>(); // short name -> full name

  tsType(node: unknown, namespace: string | undefined): string {
    if (typeof node === 'string') {
      const primitive = PRIMITIVE_TS[node];
      if (primitive) return primitive;
      return shortName(node); // a reference to a named type defined earlier in this schema
    }
    if (Array.isArray(node)) {
      const branches = node.map((b) => this.tsType(b, namespace));
      const nonNull = branches.filter((b) => b !== 'null');
      const withNull = nonNull.length < branches.length;
      return [...new Set(nonNull)].join(' | ') + (withNull ? ' | null' : '');
    }
    const n = node as AvroNode;
    if (n.logicalType && LOGICAL_STRINGS[n.logicalType]?.underlying === n.type) return 'string';
    if (isNamed(n)) return this.define(n, namespace);
    if (n.type === 'array') {
      const items = this.tsType(n.items, namespace);
      return items.includes(' ') ? `(${items})[]` : `${items}[]`;
    }
    if (n.type === 'map') return `Record<string, ${this.tsType(n.values, namespace)}>`;
    return this.tsType(n.type, namespace);
  }

  private define(n: AvroNode, namespace: string | undefined): string {
    const fullName = fullNameOf(n, n.namespace ?? namespace);
    const name = shortName(fullName);
    const known = this.emitted.get(name);
    if (known === fullName) return name;
    if (known !== undefined)
      throw new Error(`TYPE_NAME_CLASH: ${fullName} and ${known} would both be the TypeScript type ${name}`);
    this.emitted.set(name, fullName);
    if (n.type === 'enum') this.blocks.push(enumBlock(name, n));
    else if (n.type === 'fixed')
      this.blocks.push([...docComment(n.doc ? [n.doc] : [], ''), `export type ${name} = Buffer;`].join('\n'));
    else this.blocks.push(this.recordBlock(name, n, namespaceOf(fullName)));
    return name;
  }

  private recordBlock(name: string, n: AvroNode, namespace: string | undefined): string {
    const members: string[] = [];
    for (const field of n.fields ?? []) {
      const type = this.tsType(field.type, namespace); // nested definitions are emitted before this record
      const notes = [...logicalNotes(field.type)];
      const lines = [
        ...(field.doc ? [field.doc] : []),
        ...notes,
        ...(field.default !== undefined ? [`@default ${JSON.stringify(field.default)}`] : []),
        ...(field.confidential === true ? ['@confidential never leaves the trust boundary'] : []),
      ];
      members.push(...docComment(lines, '  '));
      members.push(
        `  ${field.name}${field.default !== undefined && DEFAULTED_FIELDS_OPTIONAL ? '?' : ''}: ${type};`,
      );
    }
    return [...docComment(n.doc ? [n.doc] : [], ''), `export interface ${name} {`, ...members, '}'].join(
      '\n',
    );
  }
}

function logicalNotes(node: unknown, notes = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const branch of node) logicalNotes(branch, notes);
  else if (node !== null && typeof node === 'object') {
    const n = node as AvroNode;
    const logical = n.logicalType ? LOGICAL_STRINGS[n.logicalType] : undefined;
    if (logical && logical.underlying === n.type) notes.add(logical.note);
    else if (n.type === 'array') logicalNotes(n.items, notes);
    else if (n.type === 'map') logicalNotes(n.values, notes);
  }
  return notes;
}

function enumBlock(name: string, n: AvroNode): string {
  const symbols = (n.symbols ?? []).map(quote);
  const doc = [
    ...(n.doc ? [n.doc] : []),
    ...(typeof n.default === 'string' && !n.doc?.includes(`reads ${n.default}`)
      ? [`A reader that does not know a symbol reads ${n.default}.`]
      : []),
  ];
  const union = `export type ${name} = ${symbols.join(' | ')};`;
  const values = `export const ${name}Values = [${symbols.join(', ')}] as const;`;
  return [
    ...docComment(doc, ''),
    union.length <= LINE_WIDTH
      ? union
      : [`export type ${name} =`, ...symbols.map((s) => `  | ${s}`)].join('\n') + ';',
    values.length <= LINE_WIDTH
      ? values
      : [`export const ${name}Values = [`, ...symbols.map((s) => `  ${s},`), '] as const;'].join('\n'),
  ].join('\n');
}

export function typesFile(sources: ContractSource[]): string {
  const emitter = new TypeEmitter();
  const sections: string[] = [];
  for (const { topic, schema } of sources) {
    const before = emitter.blocks.length;
    emitter.tsType(schema, undefined);
    const blocks = emitter.blocks.slice(before);
    if (blocks.length > 0) sections.push(`// ${topic.name} (${topic.valueSchema})\n\n${blocks.join('\n\n')}`);
  }
  const topicValues = [
    '/** The value type of each topic, for typed producers and consumers. */',
    'export interface TopicValues {',
    ...sources.map(({ topic, schema }) => `  ${quote(topic.name)}: ${valueTypeName(schema)};`),
    '}',
  ].join('\n');
  const header = [
    '/**',
    ` * Generated by \`${REGENERATE}\` from contracts/avro/ and contracts/topics.ts. Do not edit by hand.`,
    ' *',
    ' * One type per named Avro type, shaped as a decoded value: every field is present (a field missing on the',
    ' * wire reads as its `@default`). Dates and instants are strings (core/contracts/logicalTypes.ts).',
    ' */',
  ].join('\n');
  return `${[header, ...sections, topicValues].join('\n\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// asyncapi.json

const BINDING_VERSION = '0.5.0';
const AVRO_SCHEMA_FORMAT = 'application/vnd.apache.avro+json;version=1.9.0';

const headerProperties = {
  ce_id: { type: 'string', description: 'CloudEvents id: unique per event, the idempotency key (a UUID).' },
  ce_source: {
    type: 'string',
    description: 'CloudEvents source: the producing component, e.g. /metodehub/slv.',
  },
  ce_type: { type: 'string', description: 'CloudEvents type, e.g. no.nyemetoder.method.DECISION_MADE.' },
  ce_time: { type: 'string', format: 'date-time', description: 'When the event was produced (RFC 3339).' },
  ce_specversion: { type: 'string', const: '1.0', description: 'CloudEvents spec version.' },
  ce_subject: { type: 'string', description: 'CloudEvents subject: the method ID (or the key).' },
  correlation_id: { type: 'string', description: 'Ties together everything that follows from one request.' },
  causation_id: { type: 'string', description: 'The ce_id of the event that directly caused this one.' },
  traceparent: {
    type: 'string',
    pattern: '^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
    description: 'W3C trace context.',
  },
  'content-type': { type: 'string', const: 'application/avro', description: 'Confluent-framed Avro.' },
};

const messageHeaders = {
  type: 'object',
  description: 'The CloudEvents Kafka protocol binding (binary mode, ce_ prefix), correlation and tracing.',
  required: [
    'ce_id',
    'ce_source',
    'ce_type',
    'ce_time',
    'ce_specversion',
    'correlation_id',
    'traceparent',
    'content-type',
  ],
  properties: headerProperties,
};

/** Written by core/bus/deadLetter.ts beside the original key, value and headers. */
const deadLetterHeaders = {
  dlq_error_class:
    'Why it failed: UNDECODABLE, UNKNOWN_SCHEMA, CONTRACT_VIOLATION, DOMAIN_RULE, ... (core/bus/errors.ts).',
  dlq_reason: 'The reason, for a person to act on.',
  dlq_source_topic: 'The topic the message was read from.',
  dlq_source_partition: 'Its partition.',
  dlq_source_offset: 'Its offset.',
  dlq_time: 'When it was dead-lettered (ISO-8601 UTC).',
  dlq_handler: 'The consumer that gave up on it.',
};

/** Kafka topic config strings as the Kafka channel binding types them. */
function topicConfiguration(config: Record<string, string>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === 'cleanup.policy') result[key] = value.split(',').map((p) => p.trim());
    else if (/^-?\d+$/.test(value)) result[key] = Number(value);
    else result[key] = value;
  }
  return result;
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function asyncApiDocument(sources: ContractSource[]): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const { topic, schema, confidentialPaths } of sources) {
    const messageName = valueTypeName(schema);
    const channelId = topic.name;
    const messageRef = { $ref: `#/channels/${channelId}/messages/${messageName}` };
    messages[messageName] = {
      name: messageName,
      title: messageName,
      summary: (schema as AvroNode).doc ?? topic.description,
      contentType: 'application/avro',
      headers: messageHeaders,
      payload: { schemaFormat: AVRO_SCHEMA_FORMAT, schema },
      bindings: {
        kafka: {
          key: { type: 'string', description: topic.key },
          schemaIdLocation: 'payload',
          schemaIdPayloadEncoding: 'confluent',
          schemaLookupStrategy: 'TopicIdStrategy',
          bindingVersion: BINDING_VERSION,
        },
      },
      'x-subject': subjectOf(topic.name),
      'x-confidential-fields': confidentialPaths,
    };
    channels[channelId] = {
      address: topic.name,
      title: topic.name,
      description: topic.description,
      messages: { [messageName]: { $ref: `#/components/messages/${messageName}` } },
      bindings: {
        kafka: {
          topic: topic.name,
          partitions: topic.partitions,
          topicConfiguration: topicConfiguration(topic.config),
          bindingVersion: BINDING_VERSION,
        },
      },
      'x-dead-letter': {
        address: dlqTopicOf(topic.name),
        description:
          'A message a consumer cannot process goes here with its original key, value and headers, plus these.',
        topicConfiguration: topicConfiguration(dlqConfig),
        headers: {
          type: 'object',
          properties: Object.fromEntries(
            Object.entries(deadLetterHeaders).map(([name, description]) => [
              name,
              { type: 'string', description },
            ]),
          ),
        },
      },
    };
    const operation = (action: 'send' | 'receive', party: string, outside = false) => {
      operations[`${channelId}.${action}.${slug(party)}`] = {
        action,
        title: `${party}${outside ? ' (outside the hub)' : ''} ${action === 'send' ? 'produces to' : 'consumes from'} ${topic.name}`,
        channel: { $ref: `#/channels/${channelId}` },
        messages: [messageRef],
      };
    };
    for (const producer of topic.producers) operation('send', producer);
    for (const consumer of topic.consumers) operation('receive', consumer);
    for (const reader of topic.readersOutsideTheHub ?? []) operation('receive', reader, true);
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'metodehub',
      version: '1.0.0',
      description:
        "The Kafka topics of Nye metoder's integration hub. Values are Avro, framed with their schema registry " +
        `id (subject <topic>-value, FULL_TRANSITIVE). Generated by \`${REGENERATE}\`; do not edit by hand.`,
    },
    defaultContentType: 'application/avro',
    servers: {
      local: {
        host: LOCAL_BROKER,
        protocol: 'kafka',
        description: `The local stack (npm run stack:up): Kafka at ${LOCAL_BROKER}, schema registry (Apicurio, Confluent-compatible API) at ${LOCAL_REGISTRY}.`,
        bindings: {
          kafka: {
            schemaRegistryUrl: LOCAL_REGISTRY,
            schemaRegistryVendor: 'confluent',
            bindingVersion: BINDING_VERSION,
          },
        },
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

// ---------------------------------------------------------------------------------------------------------
// README.md

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const code = (s: string): string => `\`${s}\``;

function retentionOf(config: Record<string, string>): string {
  const policy = config['cleanup.policy'] ?? 'delete';
  const ms = config['retention.ms'];
  if (policy.includes('compact')) return policy;
  if (ms === undefined) return `${policy}, broker default retention`;
  if (ms === '-1') return `${policy}, kept forever`;
  const days = Number(ms) / 86_400_000;
  return `${policy}, ${Number.isInteger(days) ? `${days} days` : `${ms} ms`}`;
}

export function readmeFile(sources: ContractSource[]): string {
  const rows = sources.map(({ topic, confidentialPaths }) =>
    [
      code(topic.name),
      cell(topic.key),
      String(topic.partitions),
      cell(retentionOf(topic.config)),
      cell(topic.producers.join(', ')),
      cell(
        [...topic.consumers, ...(topic.readersOutsideTheHub ?? []).map((r) => `${r} (outside)`)].join(', '),
      ),
      confidentialPaths.length > 0 ? confidentialPaths.map(code).join(', ') : '-',
    ].join(' | '),
  );
  const descriptions = sources.map(
    ({ topic, schema }) =>
      `- ${code(topic.name)}: ${topic.description} Value: ${code(valueTypeName(schema))} from ` +
      `${code(`contracts/avro/${topic.valueSchema}`)}, subject ${code(subjectOf(topic.name))}.`,
  );
  return `${[
    '# Contracts (generated)',
    `Generated by \`${REGENERATE}\` from \`contracts/avro/\` and \`contracts/topics.ts\`; do not edit by hand. ` +
      '`npm run contracts:check` fails when these files are stale or a contract is not FULL compatible with every ' +
      'released version in `contracts/released/`.',
    '- `types.ts`: a TypeScript type per Avro type, and `TopicValues` from topic name to value type.\n' +
      '- `asyncapi.json`: one AsyncAPI 3.0.0 document for every topic, with the Avro schemas inlined.',
    '## Topics',
    [
      '| Topic | Key | Partitions | Cleanup / retention | Producers | Consumers | Confidential fields |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r} |`),
    ].join('\n'),
    descriptions.join('\n'),
    '## Headers',
    'Every message carries the CloudEvents Kafka binding (binary mode) plus correlation and tracing:\n\n' +
      Object.entries(headerProperties)
        .map(
          ([name, p]) =>
            `- ${code(name)}${messageHeaders.required.includes(name) ? '' : ' (optional)'}: ${p.description}`,
        )
        .join('\n'),
    '## Dead letters',
    `Every topic has a dead-letter topic ${code('<topic>.dlq')} (${retentionOf(dlqConfig)}), holding the original ` +
      'key, value and headers plus:\n\n' +
      Object.entries(deadLetterHeaders)
        .map(([name, description]) => `- ${code(name)}: ${description}`)
        .join('\n'),
    '## What a valid value is',
    'One definition, applied at every door (the case-event API, the JCA intake, DMP inbound), by every producer ' +
      'and on every decode (`core/contracts/validity.ts`); what passes can be carried by every adapter. Every field ' +
      'of a kind has the limits of `contracts/validity.json` unless it declares its own in its `.avsc`:\n\n' +
      [
        `- text: ${validityDefaults.string.doc} At most ${validityDefaults.string.maxLength} characters.`,
        `- list: at most ${validityDefaults.array.maxItems} items.`,
        `- date: ${validityDefaults.date.earliest} to ${validityDefaults.date.latest} from today. ${validityDefaults.date.doc ?? ''}`.trim(),
        `- instant: ${validityDefaults.instant.earliest} to ${validityDefaults.instant.latest} from now. ${validityDefaults.instant.doc ?? ''}`.trim(),
        '- long: at most 9007199254740990 either way.',
      ].join('\n'),
    [
      '| Topic | Field | Its own limits |',
      '| --- | --- | --- |',
      ...sources.flatMap(({ topic, schema }) =>
        declaredLimits(schema).map(
          ({ path, limits }) =>
            `| ${code(topic.name)} | ${code(path)} | ${cell(
              Object.entries(limits)
                .map(([k, v]) => `${k} ${k === 'pattern' ? code(String(v)) : String(v)}`)
                .join(', '),
            )} |`,
        ),
      ),
    ].join('\n'),
    '## Confidential fields',
    'Fields marked `"confidential": true` in the Avro contracts never leave the trust boundary: every output ' +
      'that leaves the hub runs through the guard in `core/bus/confidential.ts`, which refuses to send them. They ' +
      'are listed per topic above and in `x-confidential-fields` in the AsyncAPI document.',
  ].join('\n\n')}\n`;
}

/**
 * Released contracts and FULL_TRANSITIVE compatibility. Every released version of a topic's value schema stays
 * in git under contracts/released/<topic>-value/v<N>.avsc; the current schema must read data written with each
 * of them (new reader, old data) and each of them must read data written with it (old reader, new data).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type avro from 'avsc';
import { contracts, contractsDir, parseContract, subjectOf } from './catalogue.ts';

export const defaultReleasedDir = join(contractsDir, 'released');
export const RELEASE = 'npm run contracts:release';

export interface SchemaUnderCheck {
  topic: string;
  /** The self-contained (inlined) Avro schema. */
  schema: object;
}

export interface ReleasedVersion {
  version: number;
  file: string;
  schema: object;
}

export const currentSchemas = (): SchemaUnderCheck[] =>
  [...contracts().values()].map((c) => ({ topic: c.topic.name, schema: c.schema }));

/** JSON with object keys sorted, so two schemas that differ only in key order compare equal. */
export function canonicalJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
    );
  };
  return JSON.stringify(sort(value));
}

/** How a released schema is stored: the inlined schema, pretty-printed. */
export const releasedFileContent = (schema: object): string => `${JSON.stringify(schema, null, 2)}\n`;

/** The released versions of a topic's value schema, oldest first. */
export function releasedVersions(releasedDir: string, topic: string): ReleasedVersion[] {
  const dir = join(releasedDir, subjectOf(topic));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const versions: ReleasedVersion[] = [];
  for (const name of names) {
    const match = /^v(\d+)\.avsc$/.exec(name);
    if (!match) continue;
    const file = join(dir, name);
    let schema: object;
    try {
      schema = JSON.parse(readFileSync(file, 'utf8')) as object;
    } catch (error) {
      throw new Error(`RELEASED_CONTRACT_UNREADABLE: ${file} is not JSON: ${(error as Error).message}`);
    }
    versions.push({ version: Number(match[1]), file, schema });
  }
  return versions.sort((a, b) => a.version - b.version);
}

// ---------------------------------------------------------------------------------------------------------
// Why one schema cannot read another

type AnyType = avro.Type & {
  name?: string;
  fields?: { name: string; type: AnyType; aliases?: string[]; defaultValue(): unknown }[];
  aliases?: string[];
  symbols?: string[];
  default?: string;
  types?: AnyType[];
  itemsType?: AnyType;
  valuesType?: AnyType;
  underlyingType?: AnyType;
};

const isAvroType = (value: object): value is avro.Type =>
  typeof (value as avro.Type).createResolver === 'function';
const kind = (t: AnyType): string => t.typeName;
const isLogical = (t: AnyType): boolean => kind(t).startsWith('logical:');
const isUnion = (t: AnyType): boolean => kind(t).startsWith('union');

function describe(t: AnyType): string {
  if (isLogical(t)) return `${describe(t.underlyingType!)} (${kind(t).slice('logical:'.length)})`;
  if (isUnion(t)) return `[${t.types!.map(describe).join(', ')}]`;
  if (kind(t) === 'array') return `array of ${describe(t.itemsType!)}`;
  if (kind(t) === 'map') return `map of ${describe(t.valuesType!)}`;
  if (t.name) return `${kind(t)} ${t.name}`;
  return kind(t);
}

const canResolve = (reader: AnyType, writer: AnyType): boolean => {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
};

const at = (path: string): string => (path === '' ? 'the value' : path);
const sameName = (reader: AnyType, writer: AnyType): boolean =>
  reader.name === writer.name || (reader.aliases ?? []).includes(writer.name ?? '');

/**
 * Finds the fields where `reader` cannot read what `writer` wrote, each with a reason a person can act on.
 * avsc only says that resolution fails, so this walks both types to point at the field.
 */
function explain(reader: AnyType, writer: AnyType, path: string, seen: Set<string>): string[] {
  if (canResolve(reader, writer)) return [];
  if (isUnion(writer)) {
    // Every branch the writer may have used must be readable.
    return writer.types!.flatMap((branch) => explain(reader, branch, path, seen));
  }
  if (isUnion(reader)) {
    const candidate =
      reader.types!.find((b) => kind(b) === kind(writer) && (b.name === undefined || sameName(b, writer))) ??
      reader.types!.find((b) => kind(b) === kind(writer));
    if (candidate) return explain(candidate, writer, path, seen);
    return [
      `${at(path)}: the writer's ${describe(writer)} fits no branch of the reader's ${describe(reader)}`,
    ];
  }
  if (isLogical(writer) && !isLogical(reader)) return explain(reader, writer.underlyingType!, path, seen);
  if (kind(reader) === 'record' && kind(writer) === 'record') {
    if (!sameName(reader, writer))
      return [
        `${at(path)}: the writer's record ${writer.name} is not the reader's ${reader.name} (no alias)`,
      ];
    const key = `${reader.name}<-${writer.name}`;
    if (seen.has(key)) return [];
    seen.add(key);
    const reasons: string[] = [];
    for (const field of reader.fields!) {
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`;
      const names = [field.name, ...(field.aliases ?? [])];
      const written = writer.fields!.find((w) => names.includes(w.name));
      if (!written) {
        if (field.defaultValue() === undefined)
          reasons.push(
            `${fieldPath}: the reader's ${reader.name} requires the field, the writer's has no such field, ` +
              'and it has no default',
          );
        continue;
      }
      reasons.push(...explain(field.type, written.type, fieldPath, seen));
    }
    return reasons;
  }
  if (kind(reader) === 'enum' && kind(writer) === 'enum') {
    if (!sameName(reader, writer))
      return [`${at(path)}: the writer's enum ${writer.name} is not the reader's ${reader.name} (no alias)`];
    const unknown = writer.symbols!.filter((s) => !reader.symbols!.includes(s));
    return [
      `${at(path)}: the reader's enum ${reader.name} has no symbol ${unknown.join(', ')} and no default to read ` +
        'unknown symbols as',
    ];
  }
  if (kind(reader) === 'array' && kind(writer) === 'array')
    return explain(reader.itemsType!, writer.itemsType!, `${path}[]`, seen);
  if (kind(reader) === 'map' && kind(writer) === 'map')
    return explain(reader.valuesType!, writer.valuesType!, `${path}{}`, seen);
  return [`${at(path)}: the writer's ${describe(writer)} cannot be read as the reader's ${describe(reader)}`];
}

/** Reasons `reader` cannot read data written with `writer`; empty when it can. */
export function readProblems(reader: avro.Type, writer: avro.Type): string[] {
  try {
    reader.createResolver(writer);
    return [];
  } catch (error) {
    const reasons = explain(reader as AnyType, writer as AnyType, '', new Set());
    // Should explain() not find the spot, avsc's own message is still better than nothing.
    return reasons.length > 0 ? reasons : [String((error as Error).message).slice(0, 300)];
  }
}

/** FULL compatibility between a released schema and the current one, both directions. */
export function fullCompatibilityProblems(
  released: object | avro.Type,
  current: object | avro.Type,
): string[] {
  const oldType = isAvroType(released) ? released : parseContract(released);
  const newType = isAvroType(current) ? current : parseContract(current);
  return [
    ...readProblems(newType, oldType).map((r) => `new reader cannot read old data: ${r}`),
    ...readProblems(oldType, newType).map((r) => `old reader cannot read new data: ${r}`),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The check

export interface TopicCompatibility {
  topic: string;
  /** Released version numbers, oldest first; empty when the topic is unreleased. */
  released: number[];
  /** The current schema differs from the newest released version (or none is released). */
  unreleasedChanges: boolean;
  failures: string[];
}

export interface CompatibilityReport {
  topics: TopicCompatibility[];
  /** Every failure over all topics: `INCOMPATIBLE_CONTRACT: <topic> v<N> -> current: ...`. */
  failures: string[];
}

export interface CompatibilityOptions {
  releasedDir?: string;
  schemas?: SchemaUnderCheck[];
}

/** Checks every topic's current schema against every one of its released versions (FULL_TRANSITIVE). */
export function checkCompatibility(options: CompatibilityOptions = {}): CompatibilityReport {
  const releasedDir = options.releasedDir ?? defaultReleasedDir;
  const schemas = options.schemas ?? currentSchemas();
  const topics = schemas.map(({ topic, schema }): TopicCompatibility => {
    const versions = releasedVersions(releasedDir, topic);
    const failures: string[] = [];
    let current: avro.Type | undefined;
    try {
      current = parseContract(schema);
    } catch (error) {
      failures.push(
        `INVALID_CONTRACT: ${topic}: the current schema does not parse: ${(error as Error).message}`,
      );
    }
    for (const { version, file, schema: released } of current ? versions : []) {
      let problems: string[];
      try {
        problems = fullCompatibilityProblems(released, current!);
      } catch (error) {
        problems = [`${file} does not parse: ${(error as Error).message}`];
      }
      for (const problem of problems)
        failures.push(`INCOMPATIBLE_CONTRACT: ${topic} v${version} -> current: ${problem}`);
    }
    const newest = versions.at(-1);
    return {
      topic,
      released: versions.map((v) => v.version),
      unreleasedChanges: !newest || canonicalJson(newest.schema) !== canonicalJson(schema),
      failures,
    };
  });
  return { topics, failures: topics.flatMap((t) => t.failures) };
}

/** One line per topic, for people. */
export function describeTopic(t: TopicCompatibility): string {
  if (t.released.length === 0) return `${t.topic}: unreleased (run \`${RELEASE}\` to release it as v1)`;
  const versions = t.released.map((v) => `v${v}`).join(', ');
  if (t.failures.length > 0) return `${t.topic}: INCOMPATIBLE with released ${versions}`;
  const pending = t.unreleasedChanges ? `; changed since v${t.released.at(-1)}, not yet released` : '';
  return `${t.topic}: FULL compatible with ${versions}${pending}`;
}

// ---------------------------------------------------------------------------------------------------------
// Release

export interface ReleasedContract {
  topic: string;
  version: number;
  file: string;
}

export interface ReleaseResult {
  released: ReleasedContract[];
  /** Topics whose current schema already is their newest released version. */
  unchanged: string[];
  /** When not empty, nothing was written. */
  failures: string[];
}

/**
 * Releases every changed contract as its next version, all or nothing: when any changed contract is not
 * FULL compatible with all its released versions, no file is written.
 */
export function releaseContracts(options: CompatibilityOptions = {}): ReleaseResult {
  const releasedDir = options.releasedDir ?? defaultReleasedDir;
  const schemas = options.schemas ?? currentSchemas();
  const report = checkCompatibility({ releasedDir, schemas });
  const changed = report.topics.filter((t) => t.unreleasedChanges);
  const unchanged = report.topics.filter((t) => !t.unreleasedChanges).map((t) => t.topic);
  const failures = changed.flatMap((t) => t.failures);
  if (failures.length > 0) return { released: [], unchanged, failures };
  const released = changed.map(({ topic, released: versions }): ReleasedContract => {
    const version = (versions.at(-1) ?? 0) + 1;
    const dir = join(releasedDir, subjectOf(topic));
    const file = join(dir, `v${version}.avsc`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, releasedFileContent(schemas.find((s) => s.topic === topic)!.schema), { flag: 'wx' });
    return { topic, version, file };
  });
  return { released, unchanged, failures: [] };
}

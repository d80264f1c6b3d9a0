/**
 * One definition of a valid value, declared in the contracts: the Avro schema says the shape, and
 * `contracts/validity.json` plus each field's own properties in its .avsc (`maxLength`, `maxItems`,
 * `pattern`, `multiline` (false: one line, no tab or line break), `earliest`, `latest`) say the limits. Whatever passes these checks can be carried
 * by every adapter: XML 1.0 can hold every text, every instant and date is in a plausible range, every
 * long fits a JSON number. The HTTP doors, the producer, the consumers and the generated documents all
 * use this module, so the rule is written once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Contract, contractFor, contractsDir, fullNameOf } from './catalogue.ts';

export interface Violation {
  /** Dotted path of the field, with array indexes: `registered.details.substances[3]`. */
  path: string;
  reason: string;
}

interface KindDefaults {
  maxLength?: number;
  maxItems?: number;
  earliest?: string;
  latest?: string;
  doc?: string;
}

export interface ValidityDefaults {
  string: KindDefaults & { maxLength: number };
  array: KindDefaults & { maxItems: number };
  date: KindDefaults & { earliest: string; latest: string };
  instant: KindDefaults & { earliest: string; latest: string };
}

export const validityDefaults: ValidityDefaults = JSON.parse(
  readFileSync(join(contractsDir, 'validity.json'), 'utf8'),
) as ValidityDefaults;

/** The limits a field declares for itself in its .avsc, beside name, type and doc. */
export interface FieldLimits {
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  multiline?: boolean;
  earliest?: string;
  latest?: string;
}

const DAY_MS = 86_400_000;

// ---- the text XML 1.0 can carry ---------------------------------------------------------------

const hex = (cp: number): string => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Any character textProblem refuses, in one pass of the regular-expression engine (most text has none, and the
 * loop below, which says where and why, runs only when one is there): the controls U+0000-U+001F and
 * U+007F-U+009F (`\p{Cc}`), lone surrogates (`\p{Cs}` under the u flag matches only those) and the
 * non-characters U+FDD0-U+FDEF and U+nFFFE/U+nFFFF.
 */
const REFUSED_IN_TEXT = /(?![\t\n\r])\p{Cc}|\p{Cs}|\p{Noncharacter_Code_Point}/u;
const REFUSED_IN_LINE = /\p{Cc}|\p{Cs}|\p{Noncharacter_Code_Point}/u;

/** Why XML 1.0 cannot carry this text, or null. `multiline` allows tab, line feed and carriage return. */
export function textProblem(text: string, multiline = false): string | null {
  if (!(multiline ? REFUSED_IN_TEXT : REFUSED_IN_LINE).test(text)) return null;
  let position = 0;
  for (const ch of text) {
    position++;
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff)
      return `has a lone surrogate ${hex(cp)} at character ${position} (not Unicode text)`;
    if (cp === 0x09 || cp === 0x0a || cp === 0x0d) {
      if (multiline) continue;
      return `has ${cp === 0x09 ? 'a tab' : 'a line break'} at character ${position}; this field is one line`;
    }
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
      return `has the control character ${hex(cp)} at character ${position}, which XML 1.0 cannot carry`;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe)
      return `has the non-character ${hex(cp)} at character ${position}, which XML 1.0 cannot carry`;
  }
  return null;
}

// ---- dates and instants -----------------------------------------------------------------------

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

function realDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A real calendar date `YYYY-MM-DD` (no 2023-02-30, no 2023-13-01). */
export function isCalendarDate(text: string): boolean {
  const m = DATE.exec(text);
  return m !== null && realDay(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** The epoch milliseconds of a real calendar date's start (UTC), or NaN. */
function dateMs(text: string): number {
  return isCalendarDate(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
}

/**
 * A real instant with an explicit zone (`Z` or `+01:00`): a real day, hours 00-23, no leap second
 * (`23:59:60` has no millisecond an Avro timestamp could hold), offsets within +-18:00.
 */
export function isInstant(text: string): boolean {
  return !Number.isNaN(instantMs(text));
}

/** The epoch milliseconds of a real instant (see isInstant), or NaN. */
function instantMs(text: string): number {
  const m = INSTANT.exec(text);
  if (!m || !realDay(Number(m[1]), Number(m[2]), Number(m[3]))) return Number.NaN;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59) return Number.NaN;
  if (m[8] !== 'Z' && (Number(m[9]) > 18 || Number(m[10]) > 59)) return Number.NaN;
  return Date.parse(text);
}

/** `+20y`, `+1d`, `+12h` from now, or an absolute date or instant; as epoch milliseconds. */
export function boundMs(spec: string, now: number): number {
  return boundOf(spec)(now);
}

/** A bound read once: the epoch milliseconds it means at `now`. */
function boundOf(spec: string): (now: number) => number {
  const relative = /^\+(\d+)([ydh])$/.exec(spec);
  if (relative) {
    const n = Number(relative[1]);
    if (relative[2] === 'y')
      return (now) => {
        const d = new Date(now);
        d.setUTCFullYear(d.getUTCFullYear() + n);
        return d.getTime();
      };
    const step = n * (relative[2] === 'd' ? DAY_MS : 3_600_000);
    return (now) => now + step;
  }
  const ms = Date.parse(DATE.test(spec) ? `${spec}T00:00:00Z` : spec);
  if (Number.isNaN(ms))
    throw new Error(`VALIDITY_UNREADABLE: "${spec}" is not a bound (+20y, +1d, a date or an instant)`);
  return () => ms;
}

/** How a bound reads to a person: the spec itself, and for a relative one the date it means now. */
function describeBound(spec: string, now: number, asDate: boolean): string {
  if (!spec.startsWith('+')) return spec;
  const iso = new Date(boundMs(spec, now)).toISOString();
  return `${asDate ? iso.slice(0, 10) : iso} (now ${spec})`;
}

// ---- the checker, compiled once per schema ----------------------------------------------------

type Check = (value: unknown, path: string, out: Violation[], now: number) => void;

interface SchemaNode {
  type?: unknown;
  name?: string;
  namespace?: string;
  logicalType?: string;
  fields?: (FieldLimits & { name: string; type: unknown })[];
  items?: unknown;
  values?: unknown;
}

/** The largest long avsc encodes (a little below 2^53 - 1), and so the largest any JSON reader carries exactly. */
export const LONG_LIMIT = 9_007_199_254_740_990;
const join2 = (path: string, name: string): string => (path ? `${path}.${name}` : name);

/** Compiles the value checks of a self-contained Avro schema (as the catalogue inlines it). */
export function compileValidity(schema: unknown, defaults: ValidityDefaults = validityDefaults): Check {
  const definitions = new Map<string, { node: SchemaNode; namespace: string | undefined }>();
  const collect = (node: unknown, namespace: string | undefined): void => {
    if (Array.isArray(node)) {
      for (const branch of node) collect(branch, namespace);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as SchemaNode;
    if ((n.type === 'record' || n.type === 'enum' || n.type === 'fixed') && n.name) {
      const full = fullNameOf(n.name, n.namespace ?? namespace);
      const ns = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : undefined;
      definitions.set(full, { node: n, namespace: ns });
      if (!definitions.has(n.name)) definitions.set(n.name, { node: n, namespace: ns });
      for (const f of n.fields ?? []) collect(f.type, ns);
      return;
    }
    collect(n.items ?? n.values ?? (typeof n.type === 'object' ? n.type : undefined), namespace);
  };
  collect(schema, undefined);

  const named = new Map<string, Check>();
  const compile = (node: unknown, limits: FieldLimits, namespace: string | undefined): Check => {
    if (typeof node === 'string') {
      switch (node) {
        case 'string':
          return stringCheck(limits, defaults);
        case 'long':
          return (value, path, out) => {
            if (typeof value === 'number' && Math.abs(value) > LONG_LIMIT)
              out.push({
                path,
                reason: `${value} is beyond ±(2^53 - 1), which JSON readers cannot carry exactly`,
              });
          };
        case 'null':
        case 'boolean':
        case 'int':
        case 'float':
        case 'double':
        case 'bytes':
          return () => undefined;
      }
      const key = definitions.has(`${namespace}.${node}`) ? `${namespace}.${node}` : node;
      const found = definitions.get(key);
      if (!found) return () => undefined;
      if (!named.has(key)) {
        named.set(key, () => undefined); // a recursive reference sees this until the real check is set
        const check = compile(found.node, {}, found.namespace);
        named.set(key, check);
      }
      return (value, path, out, now) => named.get(key)!(value, path, out, now);
    }
    if (Array.isArray(node)) {
      const branches = node.filter((b) => b !== 'null').map((b) => compile(b, limits, namespace));
      if (branches.length === 1) {
        const [only] = branches;
        return (value, path, out, now) => {
          if (value !== null && value !== undefined) only!(value, path, out, now);
        };
      }
      return () => undefined; // wrapped unions: none in our contracts
    }
    const n = node as SchemaNode;
    if (n.logicalType === 'date') return timeCheck(limits, defaults.date, true);
    if (n.logicalType === 'timestamp-millis') return timeCheck(limits, defaults.instant, false);
    switch (n.type) {
      case 'record': {
        const full = n.name ? fullNameOf(n.name, n.namespace ?? namespace) : '';
        const ns = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : namespace;
        const fields = (n.fields ?? []).map((f) => ({ name: f.name, check: compile(f.type, f, ns) }));
        return (value, path, out, now) => {
          if (value === null || typeof value !== 'object') return;
          const record = value as Record<string, unknown>;
          for (const f of fields) f.check(record[f.name], join2(path, f.name), out, now);
        };
      }
      case 'array': {
        const maxItems = limits.maxItems ?? defaults.array.maxItems;
        const { maxItems: _own, ...itemLimits } = limits;
        const item = compile(n.items, itemLimits, namespace);
        return (value, path, out, now) => {
          if (!Array.isArray(value)) return;
          if (value.length > maxItems)
            out.push({ path, reason: `has ${value.length} items; at most ${maxItems} are allowed` });
          for (let i = 0; i < Math.min(value.length, maxItems); i++)
            item(value[i], `${path}[${i}]`, out, now);
        };
      }
      case 'map': {
        const item = compile(n.values, limits, namespace);
        return (value, path, out, now) => {
          if (value === null || typeof value !== 'object') return;
          for (const [k, v] of Object.entries(value)) {
            const keyProblem = textProblem(k);
            if (keyProblem) out.push({ path: `${path}{}`, reason: `a key ${keyProblem}` });
            item(v, `${path}.${k}`, out, now);
          }
        };
      }
      case 'enum':
      case 'fixed':
        return () => undefined;
      default:
        return compile(n.type, limits, namespace);
    }
  };
  return compile(schema, {}, undefined);
}

function stringCheck(limits: FieldLimits, defaults: ValidityDefaults): Check {
  const maxLength = limits.maxLength ?? defaults.string.maxLength;
  const pattern = limits.pattern ? new RegExp(`^(?:${limits.pattern})$`, 'u') : undefined;
  const multiline = limits.multiline !== false;
  return (value, path, out) => {
    if (typeof value !== 'string') return;
    if (value.length > maxLength) {
      out.push({ path, reason: `is ${value.length} characters long; at most ${maxLength} are allowed` });
      return;
    }
    const problem = textProblem(value, multiline);
    if (problem) out.push({ path, reason: problem });
    else if (pattern && !pattern.test(value))
      out.push({ path, reason: `${JSON.stringify(value.slice(0, 80))} does not match ${limits.pattern}` });
  };
}

function timeCheck(limits: FieldLimits, kind: { earliest: string; latest: string }, asDate: boolean): Check {
  const earliest = limits.earliest ?? kind.earliest;
  const latest = limits.latest ?? kind.latest;
  // Read once here, not per value: an unreadable bound fails when the contract's checks are compiled.
  const earliestMs = boundOf(earliest);
  const latestMs = boundOf(latest);
  return (value, path, out, now) => {
    if (typeof value !== 'string') return;
    const ms = asDate ? dateMs(value) : instantMs(value);
    if (Number.isNaN(ms)) {
      out.push({
        path,
        reason: `"${value.slice(0, 40)}" is not a real ${asDate ? 'date (YYYY-MM-DD)' : 'instant'}`,
      });
      return;
    }
    if (ms < earliestMs(now))
      out.push({ path, reason: `${value} is before ${describeBound(earliest, now, asDate)}` });
    else if (ms > latestMs(now))
      out.push({ path, reason: `${value} is after ${describeBound(latest, now, asDate)}` });
  };
}

const compiled = new WeakMap<object, Check>();

/** Every way `value` breaks the limits of `schema` (an inlined contract schema); empty when it is valid. */
export function violationsOf(schema: object, value: unknown, now = Date.now()): Violation[] {
  let check = compiled.get(schema);
  if (!check) {
    check = compileValidity(schema);
    compiled.set(schema, check);
  }
  const out: Violation[] = [];
  check(value, '', out, now);
  return out;
}

/** One line for a log or a dead letter: `name: is 900001 characters long; ...; substances: has 20000 items`. */
export function describeViolations(violations: Violation[], max = 5): string {
  const shown = violations.slice(0, max).map((v) => `${v.path || '(value)'} ${v.reason}`);
  const more = violations.length > max ? `; and ${violations.length - max} more` : '';
  return shown.join('; ') + more;
}

/** Where a value breaks its contract: the paths, and for broken limits a line saying how. */
export interface Refusal {
  paths: string[];
  detail?: string;
}

/** How `value` breaks `contract` (its Avro shape, then its limits), or null when it may be sent. */
export function refusalIn(contract: Pick<Contract, 'type' | 'schema'>, value: unknown): Refusal | null {
  const paths: string[] = [];
  if (!contract.type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '(root)') }))
    return { paths };
  const violations = violationsOf(contract.schema, value);
  return violations.length > 0
    ? { paths: [...new Set(violations.map((v) => v.path))], detail: describeViolations(violations) }
    : null;
}

/** Why `value` cannot go to the declared `topic`, as one line, or null: for writers that leave one out. */
export function contractRefusal(topic: string, value: unknown): string | null {
  const refusal = refusalIn(contractFor(topic), value);
  if (!refusal) return null;
  return refusal.detail
    ? `outside the limits of ${topic}: ${refusal.detail}`
    : `does not match the contract of ${topic}; invalid or missing: ${refusal.paths.join(', ')}`;
}

const LIMIT_KEYS = ['maxLength', 'maxItems', 'pattern', 'multiline', 'earliest', 'latest'] as const;

/** Every field of a schema that declares limits of its own, by dotted path (for the generated documents). */
export function declaredLimits(schema: unknown): { path: string; limits: FieldLimits }[] {
  const found = new Map<string, FieldLimits>();
  const seen = new Set<string>();
  const walk = (node: unknown, prefix: string): void => {
    if (Array.isArray(node)) {
      for (const branch of node) walk(branch, prefix);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as SchemaNode;
    if (n.type === 'record') {
      const key = `${prefix}:${n.name}`;
      if (seen.has(key)) return;
      seen.add(key);
      for (const field of n.fields ?? []) {
        const path = prefix ? `${prefix}.${field.name}` : field.name;
        const limits = Object.fromEntries(
          LIMIT_KEYS.filter((k) => field[k] !== undefined).map((k) => [k, field[k]]),
        ) as FieldLimits;
        if (Object.keys(limits).length > 0) found.set(path, limits);
        walk(field.type, path);
      }
    } else if (n.type === 'array') walk(n.items, `${prefix}[]`);
    else if (typeof n.type === 'object') walk(n.type, prefix);
  };
  walk(schema, '');
  return [...found].map(([path, limits]) => ({ path, limits }));
}

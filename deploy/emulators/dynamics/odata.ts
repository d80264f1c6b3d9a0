/**
 * The OData v4 conventions of the Dataverse Web API: error bodies, resource paths with keys, `Prefer`,
 * ETags, `$select`, a small `$filter`, value validation, and `@odata.context` URLs.
 */
import type { Attribute, Table } from './schema.ts';

export const apiPath = '/api/data/v9.2';
export const jsonContentType = 'application/json; odata.metadata=minimal; charset=utf-8';

/** An error the Web API answers with `{"error":{"code","message"}}`; code is Dataverse's hex code. */
export class ODataError extends Error {
  override name = 'ODataError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Dataverse error codes the emulator uses (hex, as the Web API shows them). */
export const errorCodes = {
  /** The OData layer's generic code: bad syntax, unknown property in $select/$filter, bad literal. */
  odata: '0x0',
  doesNotExist: '0x80040217',
  duplicateRecord: '0x80040237',
  concurrencyVersionMismatch: '0x80060882',
  invalidProperty: '0x80060888',
  resourceNotFound: '0x8006088a',
  valueOutOfRange: '0x8004431a',
  stringTooLong: '0x80044331',
  expiredVersionStamp: '0x80044352',
  requestsExceeded: '0x80072322',
  concurrentRequestsExceeded: '0x80072326',
  unexpected: '0x80040216',
} as const;

export type Key = { kind: 'id'; id: string } | { kind: 'alternate'; values: Record<string, string> };

export interface ResourcePath {
  entitySet: string;
  key?: Key;
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (value: string): boolean => guidPattern.test(value);

/** `nm_methodcases`, `nm_methodcases(<guid>)` or `nm_methodcases(nm_nyemetoderid='ID2019_074')`. */
export function parseResourcePath(segment: string): ResourcePath {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$/.exec(segment);
  if (!match)
    throw new ODataError(
      404,
      errorCodes.resourceNotFound,
      `Resource not found for the segment '${segment}'.`,
    );
  const entitySet = match[1]!;
  const rawKey = match[2];
  if (rawKey === undefined) return { entitySet };
  if (isGuid(rawKey)) return { entitySet, key: { kind: 'id', id: rawKey.toLowerCase() } };
  const values: Record<string, string> = {};
  for (const part of splitOutsideQuotes(rawKey, ',')) {
    const pair = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*'((?:[^']|'')*)'\s*$/.exec(part);
    if (!pair) {
      throw new ODataError(
        400,
        errorCodes.odata,
        `Bad Request - Error in query syntax: the key '${rawKey}' of '${entitySet}' is neither a GUID nor name='value' pairs.`,
      );
    }
    values[pair[1]!] = pair[2]!.replaceAll("''", "'");
  }
  return { entitySet, key: { kind: 'alternate', values } };
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === "'") quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

export interface Preferences {
  trackChanges: boolean;
  maxPageSize?: number;
  returnRepresentation: boolean;
}

/** Reads the `Prefer` header(s): `odata.track-changes`, `odata.maxpagesize=N`, `return=representation`. */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const items = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean);
  const preferences: Preferences = { trackChanges: false, returnRepresentation: false };
  for (const item of items) {
    if (item === 'odata.track-changes') preferences.trackChanges = true;
    else if (item === 'return=representation') preferences.returnRepresentation = true;
    else if (item.startsWith('odata.maxpagesize=')) {
      const size = Number(item.slice('odata.maxpagesize='.length));
      if (Number.isInteger(size) && size > 0) preferences.maxPageSize = size;
    }
  }
  return preferences;
}

export type EtagCondition =
  | { kind: 'any' }
  | { kind: 'version'; version: number }
  | { kind: 'unparsable'; raw: string };

/** `*`, or `W/"123"` (the weak ETag Dataverse gives every row), from If-Match / If-None-Match. */
export function parseEtagCondition(header: string | undefined): EtagCondition | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (value === '*') return { kind: 'any' };
  const match = /^(?:W\/)?"(\d+)"$/.exec(value);
  return match ? { kind: 'version', version: Number(match[1]) } : { kind: 'unparsable', raw: value };
}

const propertyNotFound = (table: Table, name: string): ODataError =>
  new ODataError(
    400,
    errorCodes.odata,
    `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${table.logicalName}'.`,
  );

/** `$select=a,b` → the columns to return (the primary key always comes back, as in Dataverse). */
export function parseSelect(raw: string | null, table: Table): string[] | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names) if (!(name in table.attributes)) throw propertyNotFound(table, name);
  return names;
}

/** Picks the selected columns of a row, keeping `@odata.etag` and the primary key. */
export function project<T extends object>(
  entity: T & { '@odata.etag': string },
  select: string[] | undefined,
  table: Table,
): Record<string, unknown> {
  if (!select) return { ...entity };
  const row = entity as Record<string, unknown>;
  const projected: Record<string, unknown> = { '@odata.etag': entity['@odata.etag'] };
  for (const name of select) projected[name] = row[name] ?? null;
  projected[table.primaryKey] = row[table.primaryKey];
  return projected;
}

type Literal = string | number | boolean | null;
type Comparison = { property: string; operator: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; value: Literal };
export type Filter = Comparison[];

/**
 * The subset of `$filter` the emulator understands: comparisons joined by `and`, e.g.
 * `_objectid_value eq 5f1c...` or `nm_status eq 'Levert' and modifiedon gt 2024-01-01T00:00:00Z`.
 */
export function parseFilter(raw: string | null, table: Table): Filter | undefined {
  if (raw === null || raw.trim() === '') return undefined;
  const clauses = raw.split(/\s+and\s+/i);
  return clauses.map((clause) => {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s+(eq|ne|gt|ge|lt|le)\s+(.+?)\s*$/i.exec(clause);
    if (!match) {
      throw new ODataError(
        400,
        errorCodes.odata,
        `Syntax error in $filter at '${clause.trim()}': the emulator understands '<property> <eq|ne|gt|ge|lt|le> <literal>' joined by 'and'.`,
      );
    }
    const property = match[1]!;
    if (!(property in table.attributes)) throw propertyNotFound(table, property);
    return {
      property,
      operator: match[2]!.toLowerCase() as Comparison['operator'],
      value: parseLiteral(match[3]!),
    };
  });
}

function parseLiteral(text: string): Literal {
  if (text === 'null') return null;
  if (text === 'true' || text === 'false') return text === 'true';
  const quoted = /^'((?:[^']|'')*)'$/.exec(text);
  if (quoted) return quoted[1]!.replaceAll("''", "'");
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  // GUIDs, dates and date-times are bare literals in OData v4.
  if (isGuid(text) || /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(text)) return text;
  throw new ODataError(400, errorCodes.odata, `Syntax error in $filter: '${text}' is not a valid literal.`);
}

export function matchesFilter(row: Record<string, unknown>, filter: Filter | undefined): boolean {
  if (!filter) return true;
  return filter.every(({ property, operator, value }) => {
    const actual = normalise(row[property]);
    const expected = normalise(value);
    if (operator === 'eq') return actual === expected;
    if (operator === 'ne') return actual !== expected;
    if (actual === null || expected === null) return false;
    if (operator === 'gt') return actual > expected;
    if (operator === 'ge') return actual >= expected;
    if (operator === 'lt') return actual < expected;
    return actual <= expected;
  });
}

function normalise(value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    if (isGuid(value)) return value.toLowerCase();
    // Compare instants as instants, whatever their offset or precision.
    if (/^\d{4}-\d{2}-\d{2}T/.test(value)) return new Date(value).toISOString();
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

/** Checks one column value from a request body; returns it as stored, or throws the error Dataverse gives. */
export function validateValue(
  table: Table,
  name: string,
  attribute: Attribute,
  value: unknown,
): string | null {
  if (value === null) return null;
  const typeError = (expected: string) =>
    new ODataError(
      400,
      errorCodes.odata,
      `Cannot convert the literal '${JSON.stringify(value)}' to the expected type '${expected}' (property '${name}').`,
    );
  if (typeof value !== 'string') throw typeError(attribute.type);
  if (attribute.type === 'Edm.Date' && !isCalendarDate(value)) throw typeError('Edm.Date');
  if (attribute.type === 'Edm.DateTimeOffset' && Number.isNaN(Date.parse(value)))
    throw typeError('Edm.DateTimeOffset');
  if (attribute.maxLength !== undefined && value.length > attribute.maxLength) {
    throw new ODataError(
      400,
      errorCodes.stringTooLong,
      `A validation error occurred. The length of the '${name}' attribute of the '${table.logicalName}' entity exceeded the maximum allowed length of '${attribute.maxLength}'.`,
    );
  }
  if (attribute.allowed && !attribute.allowed.includes(value)) {
    throw new ODataError(
      400,
      errorCodes.valueOutOfRange,
      `A validation error occurred. The value '${value}' of '${name}' on record of type '${table.logicalName}' is outside the valid range (${attribute.allowed.join(', ')}).`,
    );
  }
  return value;
}

function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

export const undeclaredProperty = (table: Table, name: string): ODataError =>
  new ODataError(
    400,
    errorCodes.invalidProperty,
    `The property '${name}' does not exist on type 'Microsoft.Dynamics.CRM.${table.logicalName}'. Make sure to only use property names that are defined by the type.`,
  );

/** `$metadata#nm_methodcases(a,b)` plus a suffix such as `/$entity` or `/$delta`. */
export function contextUrl(
  baseUrl: string,
  entitySet: string,
  select: string[] | undefined,
  suffix = '',
): string {
  const columns = select ? `(${select.join(',')})` : '';
  return `${baseUrl}${apiPath}/$metadata#${entitySet}${columns}${suffix}`;
}

/** Dataverse writes instants in UTC without fractions of a second: 2024-03-01T10:15:00Z. */
export const formatInstant = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

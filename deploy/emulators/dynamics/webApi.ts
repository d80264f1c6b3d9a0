/**
 * The Dataverse Web API over `nm_methodcases` and `annotations`: retrieve, upsert by alternate key with
 * ETag conditions, delete, notes, lists with paging, and change tracking with delta links. Pure request →
 * response; the HTTP server, auth, throttling and faults sit in front of it.
 */
import { asEntity, type CaseStore, versionOf } from './caseStore.ts';
import {
  type Cursor,
  decodeSkipToken,
  encodeSkipToken,
  issueDeltaToken,
  readDeltaToken,
} from './changeTracking.ts';
import {
  apiPath,
  contextUrl,
  errorCodes,
  type Filter,
  isGuid,
  type Key,
  matchesFilter,
  ODataError,
  parseEtagCondition,
  parseFilter,
  parsePrefer,
  parseResourcePath,
  parseSelect,
  type Preferences,
  project,
  undeclaredProperty,
  validateValue,
} from './odata.ts';
import {
  type Annotation,
  annotationBindings,
  annotationTable,
  etagOf,
  type MethodCase,
  type MethodCaseChanges,
  methodCaseAlternateKey,
  methodCaseTable,
  type Table,
} from './schema.ts';

export interface ApiRequest {
  method: string;
  /** The path after `/api/data/v9.2/`, still percent-encoded. */
  resource: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** Set on successful writes, for the counters. */
  write?: 'created' | 'updated';
}

export interface WebApiContext {
  baseUrl: () => string;
  store: CaseStore;
  defaultPageSize: () => number;
  deltaTokenRetentionSeconds: () => number;
  /** Delta tokens for row versions below this are expired. */
  minimumDeltaVersion: () => number;
}

export class WebApi {
  constructor(private readonly context: WebApiContext) {}

  handle(request: ApiRequest): ApiResponse {
    let segment: string;
    try {
      segment = decodeURIComponent(request.resource);
    } catch {
      throw new ODataError(
        400,
        errorCodes.odata,
        `The path '${request.resource}' is not valid percent-encoding.`,
      );
    }
    const path = parseResourcePath(segment);
    const method = request.method.toUpperCase();
    if (path.entitySet === methodCaseTable.entitySet) {
      if (!path.key && method === 'GET') return this.listCases(request);
      if (path.key && method === 'GET') return this.retrieveCase(path.key, request);
      if (path.key && method === 'PATCH') return this.upsertCase(path.key, request);
      if (path.key && method === 'DELETE') return this.deleteCase(path.key, request);
    } else if (path.entitySet === annotationTable.entitySet) {
      if (!path.key && method === 'GET') return this.listAnnotations(request);
      if (!path.key && method === 'POST') return this.createAnnotation(request);
      if (path.key?.kind === 'id' && method === 'GET') return this.retrieveAnnotation(path.key.id, request);
    } else {
      throw new ODataError(
        404,
        errorCodes.resourceNotFound,
        `Resource not found for the segment '${path.entitySet}'.`,
      );
    }
    throw new ODataError(
      405,
      errorCodes.odata,
      `The emulator does not serve ${method} on '${segment}'. Served: GET/PATCH/DELETE nm_methodcases(<key>), GET nm_methodcases, GET/POST annotations, GET annotations(<id>).`,
    );
  }

  private get base(): string {
    return this.context.baseUrl();
  }

  private findCase(key: Key): MethodCase | undefined {
    if (key.kind === 'id') return this.context.store.get(key.id);
    return this.context.store.getByNyeMetoderId(alternateKeyValue(key));
  }

  private entityId(id: string): string {
    return `${this.base}${apiPath}/${methodCaseTable.entitySet}(${id})`;
  }

  private retrieveCase(key: Key, request: ApiRequest): ApiResponse {
    const select = parseSelect(request.query.get('$select'), methodCaseTable);
    const row = this.findCase(key);
    if (!row) throw caseDoesNotExist(key);
    const condition = parseEtagCondition(request.headers['if-none-match']);
    const etag = etagOf(row.versionnumber);
    if (condition?.kind === 'version' && condition.version === row.versionnumber) {
      return { status: 304, headers: { etag } };
    }
    return {
      status: 200,
      headers: { etag },
      body: {
        '@odata.context': contextUrl(this.base, methodCaseTable.entitySet, select, '/$entity'),
        ...project(asEntity(row), select, methodCaseTable),
      },
    };
  }

  private upsertCase(key: Key, request: ApiRequest): ApiResponse {
    const store = this.context.store;
    const changes = readCaseBody(request.body);
    const existing = this.findCase(key);
    const ifMatch = parseEtagCondition(request.headers['if-match']);
    const ifNoneMatch = parseEtagCondition(request.headers['if-none-match']);
    for (const [name, condition] of [
      ['If-Match', ifMatch],
      ['If-None-Match', ifNoneMatch],
    ] as const) {
      if (condition?.kind === 'unparsable') {
        throw new ODataError(
          400,
          errorCodes.odata,
          `The ${name} header '${condition.raw}' is not * or an ETag such as W/"123".`,
        );
      }
    }
    if (ifNoneMatch?.kind === 'version') {
      throw new ODataError(
        400,
        errorCodes.odata,
        'On PATCH, If-None-Match only supports * (create only, prevent update).',
      );
    }
    if (ifMatch) {
      if (!existing) throw caseDoesNotExist(key);
      if (ifMatch.kind === 'version' && ifMatch.version !== existing.versionnumber) {
        throw new ODataError(
          412,
          errorCodes.concurrencyVersionMismatch,
          "The version of the existing record doesn't match the RowVersion property provided.",
        );
      }
    }
    if (ifNoneMatch?.kind === 'any' && existing) {
      throw new ODataError(
        412,
        errorCodes.duplicateRecord,
        'A record with matching key values already exists.',
      );
    }

    // Documented: on update the alternate-key columns of the body are dropped; on create they win over the URL's.
    if (existing && key.kind === 'alternate') delete changes.nm_nyemetoderid;
    const newKey = changes.nm_nyemetoderid;
    if (newKey !== undefined && newKey !== null) {
      const holder = store.getByNyeMetoderId(newKey);
      if (holder && holder !== existing) throw duplicateKey(newKey);
    }

    let row: MethodCase;
    let created = false;
    if (existing) {
      row = store.update(existing, changes);
    } else {
      const nyeMetoderId =
        changes.nm_nyemetoderid ?? (key.kind === 'alternate' ? alternateKeyValue(key) : undefined);
      if (!nyeMetoderId) {
        throw new ODataError(
          400,
          errorCodes.odata,
          `Creating a ${methodCaseTable.logicalName} needs ${methodCaseAlternateKey}: upsert by nm_methodcases(${methodCaseAlternateKey}='ID2019_074') or put it in the body.`,
        );
      }
      row = store.create(nyeMetoderId, changes, key.kind === 'id' ? key.id : undefined);
      created = true;
    }

    const headers: Record<string, string> = {
      'odata-entityid': this.entityId(row.nm_methodcaseid),
      etag: etagOf(row.versionnumber),
    };
    const write = created ? ('created' as const) : ('updated' as const);
    if (parsePrefer(request.headers['prefer']).returnRepresentation) {
      const select = parseSelect(request.query.get('$select'), methodCaseTable);
      return {
        status: created ? 201 : 200,
        headers: { ...headers, 'preference-applied': 'return=representation' },
        body: {
          '@odata.context': contextUrl(this.base, methodCaseTable.entitySet, select, '/$entity'),
          ...project(asEntity(row), select, methodCaseTable),
        },
        write,
      };
    }
    return { status: 204, headers, write };
  }

  private deleteCase(key: Key, request: ApiRequest): ApiResponse {
    const existing = this.findCase(key);
    if (!existing) throw caseDoesNotExist(key);
    const ifMatch = parseEtagCondition(request.headers['if-match']);
    if (ifMatch?.kind === 'version' && ifMatch.version !== existing.versionnumber) {
      throw new ODataError(
        412,
        errorCodes.concurrencyVersionMismatch,
        "The version of the existing record doesn't match the RowVersion property provided.",
      );
    }
    this.context.store.delete(existing);
    return { status: 204, headers: {} };
  }

  private listCases(request: ApiRequest): ApiResponse {
    const { query } = request;
    const select = parseSelect(query.get('$select'), methodCaseTable);
    const prefer = parsePrefer(request.headers['prefer']);
    const deltaToken = query.get('$deltatoken');
    const skipToken = query.get('$skiptoken');
    const cursor = skipToken === null ? undefined : decodeSkipToken(skipToken);
    if (deltaToken !== null || cursor?.mode === 'track' || (prefer.trackChanges && cursor === undefined)) {
      for (const option of ['$filter', '$orderby', '$expand', '$top']) {
        if (query.has(option)) {
          throw new ODataError(
            400,
            errorCodes.odata,
            `Change tracking (odata.track-changes / $deltatoken) cannot be combined with ${option}; use $select only.`,
          );
        }
      }
      const store = this.context.store;
      let trackCursor: Extract<Cursor, { mode: 'track' }>;
      if (cursor?.mode === 'track') trackCursor = cursor;
      else {
        const from =
          deltaToken === null
            ? null
            : readDeltaToken(deltaToken, {
                retentionSeconds: this.context.deltaTokenRetentionSeconds(),
                minimumVersion: this.context.minimumDeltaVersion(),
                currentVersion: store.currentVersion(),
                now: new Date(),
              });
        trackCursor = { mode: 'track', from, upTo: store.currentVersion(), after: from ?? 0 };
      }
      return this.trackedPage(trackCursor, select, prefer);
    }
    const filter = parseFilter(query.get('$filter'), methodCaseTable);
    const rows = this.context.store.all().map((row) => asEntity(row));
    return this.listPage(methodCaseTable, rows, { select, filter, prefer, cursor, query });
  }

  private trackedPage(
    cursor: Extract<Cursor, { mode: 'track' }>,
    select: string[] | undefined,
    prefer: Preferences,
  ): ApiResponse {
    const pageSize = prefer.maxPageSize ?? this.context.defaultPageSize();
    const all = this.context.store.changes(cursor.from ?? 0, cursor.upTo, cursor.from !== null);
    // Upserts come before deletions, so a page boundary is a phase and a version within it.
    const changes = all.filter((change) =>
      cursor.phase === 'deleted'
        ? change.kind === 'deleted' && versionOf(change) > cursor.after
        : change.kind === 'deleted' || versionOf(change) > cursor.after,
    );
    const page = changes.slice(0, pageSize);
    const value = page.map((change) =>
      change.kind === 'upserted'
        ? project(asEntity(change.row), select, methodCaseTable)
        : {
            '@odata.context': contextUrl(this.base, methodCaseTable.entitySet, undefined, '/$deletedEntity'),
            id: change.tombstone.id,
            reason: 'deleted',
          },
    );
    const selectParam = select ? `$select=${select.join(',')}&` : '';
    const link = `${this.base}${apiPath}/${methodCaseTable.entitySet}?${selectParam}`;
    const body: Record<string, unknown> = {
      '@odata.context': contextUrl(this.base, methodCaseTable.entitySet, select, '/$delta'),
    };
    if (changes.length > page.length) {
      const last = page[page.length - 1];
      const next: Extract<Cursor, { mode: 'track' }> = last
        ? { ...cursor, after: versionOf(last), ...(last.kind === 'deleted' ? { phase: 'deleted' } : {}) }
        : cursor;
      body['@odata.nextLink'] = `${link}$skiptoken=${encodeSkipToken(next)}`;
    } else {
      body['@odata.deltaLink'] =
        `${link}$deltatoken=${encodeURIComponent(issueDeltaToken(cursor.upTo, new Date())).replaceAll('!', '%21')}`;
    }
    body['value'] = value;
    const applied = [
      'odata.track-changes',
      ...(prefer.maxPageSize ? [`odata.maxpagesize=${prefer.maxPageSize}`] : []),
    ];
    return { status: 200, headers: { 'preference-applied': applied.join(',') }, body };
  }

  private listPage(
    table: Table,
    rows: ReadonlyArray<object & { '@odata.etag': string }>,
    options: {
      select: string[] | undefined;
      filter: Filter | undefined;
      prefer: Preferences;
      cursor: Cursor | undefined;
      query: URLSearchParams;
    },
  ): ApiResponse {
    const { select, filter, prefer, cursor, query } = options;
    const topRaw = query.get('$top');
    const top = topRaw === null ? undefined : Number(topRaw);
    if (top !== undefined && (!Number.isInteger(top) || top < 0)) {
      throw new ODataError(
        400,
        errorCodes.odata,
        `Invalid value '${topRaw}' for $top: a whole number >= 0 is needed.`,
      );
    }
    const matching = rows
      .filter((row) => matchesFilter(row as Record<string, unknown>, filter))
      .slice(0, top);
    const offset = cursor?.mode === 'list' ? cursor.offset : 0;
    const pageSize = prefer.maxPageSize ?? this.context.defaultPageSize();
    const page = matching.slice(offset, offset + pageSize);
    const body: Record<string, unknown> = {
      '@odata.context': contextUrl(this.base, table.entitySet, select),
      value: page.map((row) => project(row, select, table)),
    };
    if (offset + pageSize < matching.length) {
      const next = new URLSearchParams(query);
      next.set('$skiptoken', encodeSkipToken({ mode: 'list', offset: offset + pageSize }));
      const search = [...next].map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
      body['@odata.nextLink'] = `${this.base}${apiPath}/${table.entitySet}?${search}`;
    }
    const headers: Record<string, string> = prefer.maxPageSize
      ? { 'preference-applied': `odata.maxpagesize=${prefer.maxPageSize}` }
      : {};
    return { status: 200, headers, body };
  }

  private listAnnotations(request: ApiRequest): ApiResponse {
    const { query } = request;
    const select = parseSelect(query.get('$select'), annotationTable);
    const filter = parseFilter(query.get('$filter'), annotationTable);
    const skipToken = query.get('$skiptoken');
    const cursor = skipToken === null ? undefined : decodeSkipToken(skipToken);
    const rows = this.context.store.allAnnotations().map((row) => asEntity(row));
    return this.listPage(annotationTable, rows, {
      select,
      filter,
      prefer: parsePrefer(request.headers['prefer']),
      cursor,
      query,
    });
  }

  private retrieveAnnotation(id: string, request: ApiRequest): ApiResponse {
    const select = parseSelect(request.query.get('$select'), annotationTable);
    const note = this.context.store.getAnnotation(id);
    if (!note) {
      throw new ODataError(
        404,
        errorCodes.doesNotExist,
        `${annotationTable.logicalName} With Id = ${id} Does Not Exist`,
      );
    }
    return {
      status: 200,
      headers: { etag: etagOf(note.versionnumber) },
      body: {
        '@odata.context': contextUrl(this.base, annotationTable.entitySet, select, '/$entity'),
        ...project(asEntity(note), select, annotationTable),
      },
    };
  }

  private createAnnotation(request: ApiRequest): ApiResponse {
    const body = asObject(request.body);
    const note: Partial<Omit<Annotation, 'annotationid' | 'createdon' | 'modifiedon' | 'versionnumber'>> = {};
    let chosenId: string | undefined;
    for (const [name, value] of Object.entries(body)) {
      if (name.startsWith('@')) continue;
      const bind = /^(.+)@odata\.bind$/.exec(name);
      if (bind) {
        const navigation = bind[1]!;
        const targetSet = annotationBindings[navigation];
        if (targetSet === undefined) throw undeclaredProperty(annotationTable, navigation);
        note._objectid_value = this.resolveBinding(navigation, targetSet, value);
        continue;
      }
      const attribute = annotationTable.attributes[name];
      if (!attribute) throw undeclaredProperty(annotationTable, name);
      if (!attribute.writable) {
        if (name === '_objectid_value') {
          throw new ODataError(
            400,
            errorCodes.invalidProperty,
            "Lookup values are read-only as _objectid_value; set the regarding case with 'objectid_nm_methodcase@odata.bind': '/nm_methodcases(<id>)'.",
          );
        }
        continue;
      }
      if (name === 'annotationid') {
        if (typeof value !== 'string' || !isGuid(value)) {
          throw new ODataError(
            400,
            errorCodes.odata,
            `Cannot convert '${String(value)}' to Edm.Guid (annotationid).`,
          );
        }
        chosenId = value;
        continue;
      }
      const checked = validateValue(annotationTable, name, attribute, value);
      if (name === 'subject' || name === 'notetext') note[name] = checked;
      else if (name === 'objecttypecode' && checked !== null) note.objecttypecode = checked;
    }
    if (!note._objectid_value) {
      throw new ODataError(
        400,
        errorCodes.odata,
        "The emulator needs every note bound to a method case: 'objectid_nm_methodcase@odata.bind': '/nm_methodcases(<id>)'.",
      );
    }
    if (chosenId !== undefined && this.context.store.getAnnotation(chosenId)) {
      throw new ODataError(
        412,
        errorCodes.duplicateRecord,
        'A record with matching key values already exists.',
      );
    }
    const saved = this.context.store.addAnnotation(
      {
        subject: note.subject ?? null,
        notetext: note.notetext ?? null,
        objecttypecode: 'nm_methodcase',
        _objectid_value: note._objectid_value,
      },
      chosenId,
    );
    const headers = {
      'odata-entityid': `${this.base}${apiPath}/${annotationTable.entitySet}(${saved.annotationid})`,
    };
    if (parsePrefer(request.headers['prefer']).returnRepresentation) {
      return {
        status: 201,
        headers: { ...headers, 'preference-applied': 'return=representation' },
        body: {
          '@odata.context': contextUrl(this.base, annotationTable.entitySet, undefined, '/$entity'),
          ...asEntity(saved),
        },
        write: 'created',
      };
    }
    return { status: 204, headers, write: 'created' };
  }

  /** `/nm_methodcases(<id>)`, `nm_methodcases(nm_nyemetoderid='…')`, or the absolute URL of either. */
  private resolveBinding(navigation: string, targetSet: string, value: unknown): string {
    if (typeof value !== 'string') {
      throw new ODataError(
        400,
        errorCodes.odata,
        `${navigation}@odata.bind must be a string such as '/${targetSet}(<id>)'.`,
      );
    }
    const marker = `${apiPath}/`;
    const relative = value.includes(marker)
      ? value.slice(value.indexOf(marker) + marker.length)
      : value.replace(/^\//, '');
    const path = parseResourcePath(relative);
    if (path.entitySet !== targetSet || !path.key) {
      throw new ODataError(
        400,
        errorCodes.odata,
        `${navigation}@odata.bind must point at one row of ${targetSet}, e.g. '/${targetSet}(<id>)'; got '${value}'.`,
      );
    }
    const target = this.findCase(path.key);
    if (!target) throw caseDoesNotExist(path.key);
    return target.nm_methodcaseid;
  }
}

function alternateKeyValue(key: Extract<Key, { kind: 'alternate' }>): string {
  const names = Object.keys(key.values);
  const value = key.values[methodCaseAlternateKey];
  if (names.length !== 1 || value === undefined) {
    throw new ODataError(
      400,
      errorCodes.odata,
      `'${names.join(',')}' is not an alternate key of ${methodCaseTable.logicalName}; the key is ${methodCaseAlternateKey}.`,
    );
  }
  return value;
}

function caseDoesNotExist(key: Key): ODataError {
  const message =
    key.kind === 'id'
      ? `${methodCaseTable.logicalName} With Id = ${key.id} Does Not Exist`
      : `A record with the specified key values does not exist in ${methodCaseTable.logicalName} entity`;
  return new ODataError(404, errorCodes.doesNotExist, message);
}

const duplicateKey = (nyeMetoderId: string): ODataError =>
  new ODataError(
    412,
    errorCodes.duplicateRecord,
    `A record that has the attribute values ${nyeMetoderId} already exists. The entity key nm_nyemetoderid requires that this set of attributes contains unique values.`,
  );

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ODataError(400, errorCodes.odata, 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/** Checks a PATCH body for a method case and returns the column changes it asks for. */
export function readCaseBody(body: unknown): MethodCaseChanges {
  const changes: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(asObject(body))) {
    // Instance annotations such as @odata.etag or @odata.type carry no column value.
    if (name.startsWith('@')) continue;
    const attribute = methodCaseTable.attributes[name];
    if (!attribute || name.includes('@')) throw undeclaredProperty(methodCaseTable, name);
    // Dataverse ignores values for columns that are not valid for create/update (system columns).
    if (!attribute.writable) {
      if (name === methodCaseTable.primaryKey && typeof value === 'string' && !isGuid(value)) {
        throw new ODataError(400, errorCodes.odata, `Cannot convert '${value}' to Edm.Guid (${name}).`);
      }
      continue;
    }
    changes[name] = validateValue(methodCaseTable, name, attribute, value);
  }
  if (changes[methodCaseAlternateKey] === null) {
    throw new ODataError(
      400,
      errorCodes.odata,
      `${methodCaseAlternateKey} is the alternate key and cannot be set to null.`,
    );
  }
  return changes as MethodCaseChanges;
}

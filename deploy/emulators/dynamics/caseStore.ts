/**
 * SLV's rows: method cases (by GUID and by Nye metoder id), their notes, and the deletions change
 * tracking must report. Every write takes the next value of one store-wide row version, like the SQL
 * rowversion behind Dataverse's `versionnumber`, so "changed since version N" is a simple comparison.
 */
import { randomUUID } from 'node:crypto';
import {
  type Annotation,
  type Entity,
  etagOf,
  type MethodCase,
  type MethodCaseChanges,
  methodCaseTable,
} from './schema.ts';
import { formatInstant } from './odata.ts';

export interface Tombstone {
  id: string;
  /** The row version the deletion took. */
  versionnumber: number;
}

/** One write the store applied to a method case: the row version it took and the columns it set. */
export interface AppliedWrite {
  versionnumber: number;
  nm_nyemetoderid: string;
  columns: MethodCaseChanges;
}

/** One row of a change-tracking answer, in the order the changes happened. */
export type Change = { kind: 'upserted'; row: MethodCase } | { kind: 'deleted'; tombstone: Tombstone };

const emptyCase = (): Omit<
  MethodCase,
  'nm_methodcaseid' | 'nm_nyemetoderid' | 'createdon' | 'modifiedon' | 'versionnumber'
> => ({
  nm_name: null,
  nm_track: null,
  nm_status: null,
  nm_statusreason: null,
  nm_assignmentdate: null,
  nm_deadline: null,
  nm_reporturl: null,
  nm_sourceeventid: null,
  nm_substance: null,
  nm_atccodes: null,
  nm_indication: null,
  nm_absolutedeadline: null,
});

export class CaseStore {
  private version = 1000;
  private readonly cases = new Map<string, MethodCase>();
  private readonly idByNyeMetoderId = new Map<string, string>();
  private readonly tombstones: Tombstone[] = [];
  private readonly annotations = new Map<string, Annotation>();
  private readonly applied: AppliedWrite[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  currentVersion(): number {
    return this.version;
  }

  get(id: string): MethodCase | undefined {
    return this.cases.get(id.toLowerCase());
  }

  getByNyeMetoderId(nyeMetoderId: string): MethodCase | undefined {
    const id = this.idByNyeMetoderId.get(nyeMetoderId);
    return id === undefined ? undefined : this.cases.get(id);
  }

  all(): MethodCase[] {
    return [...this.cases.values()].sort((a, b) => a.versionnumber - b.versionnumber);
  }

  create(nyeMetoderId: string, changes: MethodCaseChanges, id: string = randomUUID()): MethodCase {
    const stamp = formatInstant(this.now());
    const row: MethodCase = {
      ...emptyCase(),
      ...changes,
      nm_methodcaseid: id.toLowerCase(),
      nm_nyemetoderid: nyeMetoderId,
      createdon: stamp,
      modifiedon: stamp,
      versionnumber: ++this.version,
    };
    this.cases.set(row.nm_methodcaseid, row);
    this.idByNyeMetoderId.set(nyeMetoderId, row.nm_methodcaseid);
    this.applied.push({
      versionnumber: row.versionnumber,
      nm_nyemetoderid: nyeMetoderId,
      columns: { ...changes },
    });
    return row;
  }

  update(row: MethodCase, changes: MethodCaseChanges): MethodCase {
    if (changes.nm_nyemetoderid !== undefined && changes.nm_nyemetoderid !== row.nm_nyemetoderid) {
      this.idByNyeMetoderId.delete(row.nm_nyemetoderid);
      this.idByNyeMetoderId.set(changes.nm_nyemetoderid, row.nm_methodcaseid);
    }
    Object.assign(row, changes, { modifiedon: formatInstant(this.now()), versionnumber: ++this.version });
    this.applied.push({
      versionnumber: row.versionnumber,
      nm_nyemetoderid: row.nm_nyemetoderid,
      columns: { ...changes },
    });
    return row;
  }

  delete(row: MethodCase): void {
    this.cases.delete(row.nm_methodcaseid);
    this.idByNyeMetoderId.delete(row.nm_nyemetoderid);
    this.tombstones.push({ id: row.nm_methodcaseid, versionnumber: ++this.version });
  }

  /** Rows changed (latest version only) then rows deleted, with a version in (after, upTo], each by version. */
  changes(after: number, upTo: number, includeDeletions: boolean): Change[] {
    const inRange = (version: number) => version > after && version <= upTo;
    const upserted: Change[] = this.all()
      .filter((row) => inRange(row.versionnumber))
      .map((row) => ({ kind: 'upserted', row }));
    const deleted: Change[] = includeDeletions
      ? this.tombstones
          .filter((t) => inRange(t.versionnumber))
          .map((tombstone) => ({ kind: 'deleted', tombstone }))
      : [];
    // Dataverse lists new and updated rows first and deletions last.
    return [...upserted, ...deleted.sort((a, b) => versionOf(a) - versionOf(b))];
  }

  addAnnotation(
    note: Omit<Annotation, 'annotationid' | 'createdon' | 'modifiedon' | 'versionnumber'>,
    id: string = randomUUID(),
  ): Annotation {
    const stamp = formatInstant(this.now());
    const annotation: Annotation = {
      ...note,
      annotationid: id.toLowerCase(),
      createdon: stamp,
      modifiedon: stamp,
      versionnumber: ++this.version,
    };
    this.annotations.set(annotation.annotationid, annotation);
    return annotation;
  }

  /** Every method-case write applied so far, oldest first (what Dataverse's audit history would show). */
  writes(): AppliedWrite[] {
    return this.applied.map((write) => ({ ...write, columns: { ...write.columns } }));
  }

  getAnnotation(id: string): Annotation | undefined {
    return this.annotations.get(id.toLowerCase());
  }

  allAnnotations(): Annotation[] {
    return [...this.annotations.values()];
  }

  clear(): void {
    this.cases.clear();
    this.idByNyeMetoderId.clear();
    this.tombstones.length = 0;
    this.annotations.clear();
    this.applied.length = 0;
  }
}

export const versionOf = (change: Change): number =>
  change.kind === 'upserted' ? change.row.versionnumber : change.tombstone.versionnumber;

export function asEntity<T extends { versionnumber: number }>(row: T): Entity<T> {
  return { '@odata.etag': etagOf(row.versionnumber), ...row };
}

export const methodCaseEntityId = (baseUrl: string, apiPath: string, id: string): string =>
  `${baseUrl}${apiPath}/${methodCaseTable.entitySet}(${id})`;

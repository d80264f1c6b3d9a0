/**
 * The two tables the emulator serves, declared once: which columns exist, their OData types, whether a
 * client may write them, and their limits. Validation of bodies, `$select` and `$filter` reads this.
 */

export type EdmType = 'Edm.Guid' | 'Edm.String' | 'Edm.Date' | 'Edm.DateTimeOffset' | 'Edm.Int64';

export interface Attribute {
  type: EdmType;
  /** Whether a client may set it in a create or update body. */
  writable: boolean;
  maxLength?: number;
  /** For choice-like text columns: the only values accepted (null is always accepted). */
  allowed?: readonly string[];
}

export interface Table {
  /** Logical name, as in `Microsoft.Dynamics.CRM.<logicalName>`. */
  logicalName: string;
  entitySet: string;
  primaryKey: string;
  attributes: Record<string, Attribute>;
}

/** SLV tracks (løp) A–D, from the most to the least extensive assessment. */
export const tracks = ['A', 'B', 'C', 'D'] as const;
export type Track = (typeof tracks)[number];

export const methodCaseTable: Table = {
  logicalName: 'nm_methodcase',
  entitySet: 'nm_methodcases',
  primaryKey: 'nm_methodcaseid',
  attributes: {
    nm_methodcaseid: { type: 'Edm.Guid', writable: false },
    nm_nyemetoderid: { type: 'Edm.String', writable: true, maxLength: 20 },
    nm_name: { type: 'Edm.String', writable: true, maxLength: 400 },
    nm_track: { type: 'Edm.String', writable: true, maxLength: 1, allowed: tracks },
    nm_status: { type: 'Edm.String', writable: true, maxLength: 100 },
    nm_statusreason: { type: 'Edm.String', writable: true, maxLength: 2000 },
    nm_assignmentdate: { type: 'Edm.Date', writable: true },
    nm_deadline: { type: 'Edm.Date', writable: true },
    nm_reporturl: { type: 'Edm.String', writable: true, maxLength: 500 },
    nm_sourceeventid: { type: 'Edm.String', writable: true, maxLength: 100 },
    nm_substance: { type: 'Edm.String', writable: true, maxLength: 400 },
    nm_atccodes: { type: 'Edm.String', writable: true, maxLength: 200 },
    nm_indication: { type: 'Edm.String', writable: true, maxLength: 2000 },
    nm_absolutedeadline: { type: 'Edm.Date', writable: true },
    createdon: { type: 'Edm.DateTimeOffset', writable: false },
    modifiedon: { type: 'Edm.DateTimeOffset', writable: false },
    versionnumber: { type: 'Edm.Int64', writable: false },
  },
};

/** The alternate key of a method case: the Nye metoder id, e.g. ID2019_074. */
export const methodCaseAlternateKey = 'nm_nyemetoderid';

export const annotationTable: Table = {
  logicalName: 'annotation',
  entitySet: 'annotations',
  primaryKey: 'annotationid',
  attributes: {
    // A client may choose the id of a note it creates (Dataverse allows a primary key in a create body).
    annotationid: { type: 'Edm.Guid', writable: true },
    subject: { type: 'Edm.String', writable: true, maxLength: 500 },
    notetext: { type: 'Edm.String', writable: true, maxLength: 100_000 },
    objecttypecode: { type: 'Edm.String', writable: true, allowed: ['nm_methodcase'] },
    _objectid_value: { type: 'Edm.Guid', writable: false },
    createdon: { type: 'Edm.DateTimeOffset', writable: false },
    modifiedon: { type: 'Edm.DateTimeOffset', writable: false },
    versionnumber: { type: 'Edm.Int64', writable: false },
  },
};

/** Single-valued navigation properties a note may bind with `<name>@odata.bind`, and the set they point into. */
export const annotationBindings: Record<string, string> = {
  objectid_nm_methodcase: methodCaseTable.entitySet,
};

export interface MethodCase {
  nm_methodcaseid: string;
  nm_nyemetoderid: string;
  nm_name: string | null;
  nm_track: Track | null;
  /** SLV's own status text, e.g. "Bestilt", "Under vurdering", "Klokken stoppet", "Levert". */
  nm_status: string | null;
  nm_statusreason: string | null;
  /** Date-only columns: `YYYY-MM-DD`. */
  nm_assignmentdate: string | null;
  nm_deadline: string | null;
  nm_reporturl: string | null;
  /** The Nye metoder event id that last wrote the row; like every column, kept when someone edits others. */
  nm_sourceeventid: string | null;
  /** Active substances, comma-separated. */
  nm_substance: string | null;
  /** ATC codes, comma-separated. */
  nm_atccodes: string | null;
  nm_indication: string | null;
  /** The absolute deadline of a paused assessment (date-only). */
  nm_absolutedeadline: string | null;
  createdon: string;
  modifiedon: string;
  versionnumber: number;
}

export type MethodCaseChanges = Partial<
  Omit<MethodCase, 'nm_methodcaseid' | 'createdon' | 'modifiedon' | 'versionnumber'>
>;

export interface Annotation {
  annotationid: string;
  subject: string | null;
  notetext: string | null;
  objecttypecode: string;
  _objectid_value: string;
  createdon: string;
  modifiedon: string;
  versionnumber: number;
}

/** A row as the Web API returns it: its columns plus `@odata.etag`. */
export type Entity<T> = T & { '@odata.etag': string };

export const etagOf = (versionnumber: number): string => `W/"${versionnumber}"`;

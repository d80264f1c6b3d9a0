/**
 * The intake document (contracts/json/jca-notification.schema.json) and its checks: the JSON Schema first,
 * then the rules a schema cannot say (assessor and co-assessor differ, a real ATC code, dates in order).
 * Pure: every problem is reported with the field's path and a reason a person can act on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { contractsDir } from '../../core/contracts/catalogue.ts';
import { atcCodeError } from '../../core/lifecycle/identifiers.ts';

export const SUPPORTED_SCHEMA_VERSIONS = ['1.0'] as const;

export type Milestone =
  | 'SCOPING_STARTED'
  | 'PICO_SCOPE_AGREED'
  | 'DOSSIER_SUBMITTED'
  | 'REPORT_ENDORSED'
  | 'REPORT_PUBLISHED'
  | 'UPDATED'
  | 'WITHDRAWN';

export type TechnologyType =
  | 'MEDICINAL_PRODUCT'
  | 'ORPHAN_MEDICINAL_PRODUCT'
  | 'ATMP'
  | 'MEDICAL_DEVICE'
  | 'IN_VITRO_DIAGNOSTIC';

export interface JcaDates {
  scopingStartedOn?: string;
  scopeAgreedOn?: string;
  dossierDueOn?: string;
  dossierSubmittedOn?: string;
  expectedChmpOpinionOn?: string;
  marketingAuthorisationOn?: string;
  reportPublishedOn?: string;
  /** EMA's first clock stop: the scoping starts after it (2021/2282 art. 8 and 10). */
  firstClockStopOn?: string;
  reportEndorsedOn?: string;
}

/** One JCA notification as the EU side sends it (JSON, or XML mapped to the same shape). */
export interface JcaDocument {
  schemaVersion: string;
  procedureId: string;
  procedureVersion: number;
  milestone: Milestone;
  milestoneOn: string;
  technology: {
    type: TechnologyType;
    inn?: string;
    atcCode?: string;
    tradeName?: string;
    developer?: string;
  };
  indication: string;
  picos?: {
    population: string;
    intervention: string;
    comparator: string;
    outcomes: string[];
    memberStates?: string[];
  }[];
  assessor?: string;
  coAssessor?: string;
  dates?: JcaDates;
  documents?: { kind: string; url: string }[];
  sentAt?: string;
}

export interface DocumentProblem {
  code: string;
  path: string;
  reason: string;
}

/** Why a document was refused: 400 for a broken document, 422 for one we cannot take in this form. */
export type Checked =
  | { ok: true; document: JcaDocument }
  | { ok: false; status: 400 | 422; code: string; detail: string; problems: DocumentProblem[] };

export const jcaNotificationJsonSchema = JSON.parse(
  readFileSync(join(contractsDir, 'json', 'jca-notification.schema.json'), 'utf8'),
) as Record<string, unknown>;

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
const validate = ajv.compile<JcaDocument>(jcaNotificationJsonSchema);

const pathOf = (error: ErrorObject): string => {
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return path === '' ? '(document)' : path;
};

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `missing required field "${params.missingProperty}"`;
    case 'additionalProperties':
      return `unknown field "${params.additionalProperty}"`;
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'pattern':
      return `does not match ${params.pattern}`;
    case 'format':
      return `must be a ${params.format}${params.format === 'date' ? ' (YYYY-MM-DD)' : ''}`;
    default:
      return error.message ?? error.keyword;
  }
}

const refused = (status: 400 | 422, code: string, detail: string, problems: DocumentProblem[]): Checked => ({
  ok: false,
  status,
  code,
  detail,
  problems,
});

/** Checks a parsed body (from JSON or XML) against the intake contract and the rules beside it. */
export function checkDocument(candidate: unknown): Checked {
  if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) {
    return refused(400, 'INVALID_DOCUMENT', 'the body must be one JCA notification object', [
      { code: 'NOT_AN_OBJECT', path: '(document)', reason: 'expected an object' },
    ]);
  }
  const version = (candidate as { schemaVersion?: unknown }).schemaVersion;
  if (version !== undefined && !SUPPORTED_SCHEMA_VERSIONS.includes(version as '1.0')) {
    return refused(
      422,
      'UNSUPPORTED_SCHEMA_VERSION',
      `schemaVersion ${JSON.stringify(version)} is not one this hub reads; send ${SUPPORTED_SCHEMA_VERSIONS.join(' or ')}`,
      [
        {
          code: 'UNSUPPORTED_SCHEMA_VERSION',
          path: 'schemaVersion',
          reason: `supported: ${SUPPORTED_SCHEMA_VERSIONS.join(', ')}`,
        },
      ],
    );
  }
  if (!validate(candidate)) {
    const problems = (validate.errors ?? [])
      .filter((e) => e.keyword !== 'if')
      .map((e) => ({ code: 'SCHEMA', path: pathOf(e), reason: describe(e) }));
    return refused(
      400,
      'INVALID_DOCUMENT',
      `${problems.length} problem(s) against the JCA notification schema; nothing was taken in`,
      problems,
    );
  }
  const problems = ruleProblems(candidate);
  if (problems.length > 0) {
    return refused(
      422,
      'INVALID_DOCUMENT',
      `${problems.length} problem(s) with the notification's content; nothing was taken in`,
      problems,
    );
  }
  return { ok: true, document: candidate };
}

function ruleProblems(d: JcaDocument): DocumentProblem[] {
  const problems: DocumentProblem[] = [];
  if (d.assessor && d.assessor === d.coAssessor) {
    problems.push({
      code: 'SAME_ASSESSOR',
      path: 'coAssessor',
      reason: `the assessor and the co-assessor are both ${d.assessor}; they must be two member states`,
    });
  }
  if (d.technology.atcCode) {
    const error = atcCodeError(d.technology.atcCode);
    if (error) problems.push({ code: error.code, path: 'technology.atcCode', reason: error.reason });
  }
  const dates = d.dates ?? {};
  const order: (keyof JcaDates)[] = ['scopingStartedOn', 'scopeAgreedOn', 'dossierSubmittedOn'];
  for (let i = 1; i < order.length; i++) {
    const earlier = dates[order[i - 1]!];
    const later = dates[order[i]!];
    if (earlier && later && later < earlier) {
      problems.push({
        code: 'INVALID_DATES',
        path: `dates.${order[i]}`,
        reason: `${order[i]} ${later} is before ${order[i - 1]} ${earlier}`,
      });
    }
  }
  if (dates.reportPublishedOn && dates.reportEndorsedOn && dates.reportPublishedOn < dates.reportEndorsedOn) {
    problems.push({
      code: 'INVALID_DATES',
      path: 'dates.reportPublishedOn',
      reason: `reportPublishedOn ${dates.reportPublishedOn} is before reportEndorsedOn ${dates.reportEndorsedOn}: the Commission publishes endorsed reports`,
    });
  }
  if (dates.reportPublishedOn && dates.scopingStartedOn && dates.reportPublishedOn < dates.scopingStartedOn) {
    problems.push({
      code: 'INVALID_DATES',
      path: 'dates.reportPublishedOn',
      reason: `reportPublishedOn ${dates.reportPublishedOn} is before scopingStartedOn ${dates.scopingStartedOn}`,
    });
  }
  return problems;
}

/** JSON text to a checked document; malformed JSON is a 400 naming where it broke. */
export function documentFromJson(text: string): Checked {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return refused(400, 'MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`, []);
  }
  return checkDocument(parsed);
}

/**
 * The case system's JSON, as posted to `POST /api/v1/case-events`, mapped to method events. The JSON is
 * the method-events contract itself in its JSON face (see core/contracts/jsonSchema.ts): the same field
 * names, dates as YYYY-MM-DD, instants as ISO 8601, and any field with a default may be left out.
 * Pure: every problem of every event is reported, with the event's index and the field's path.
 */
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { contractFor } from '../../core/contracts/catalogue.ts';
import { jsonSchemaOf } from '../../core/contracts/jsonSchema.ts';
import { isCalendarDate, isInstant, violationsOf } from '../../core/contracts/validity.ts';
import { Topics } from '../../contracts/topics.ts';

export const EVENTS_TOPIC = Topics.methodEvents;

export interface FieldProblem {
  /** The event's position in the batch (0 for a single event). */
  index: number;
  path: string;
  reason: string;
}

export type MappedBatch =
  | { ok: true; events: MethodEvent[]; single: boolean }
  | { ok: false; status: 400 | 413; problems: FieldProblem[] };

export const caseEventJsonSchema = jsonSchemaOf(contractFor(EVENTS_TOPIC).schema as never);

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats.default(ajv);
// Stricter than RFC 3339's grammar: a real calendar day, no leap second (Avro's millis cannot hold 23:59:60).
ajv.addFormat('date', isCalendarDate);
ajv.addFormat('date-time', isInstant);
const validateEvent = ajv.compile(caseEventJsonSchema);

function describe(error: ErrorObject): FieldProblem['reason'] {
  switch (error.keyword) {
    case 'required':
      return `missing required field "${(error.params as { missingProperty: string }).missingProperty}"`;
    case 'additionalProperties':
      return `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
    case 'enum':
      return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.filter((v) => v !== null).join(', ')}`;
    default:
      return error.message ?? error.keyword;
  }
}

const pathOf = (error: ErrorObject): string => {
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return path === '' ? '(event)' : path;
};

/** One event's JSON to a method event, or every problem with it. */
export function caseEventFromJson(
  json: unknown,
  index = 0,
): { ok: true; event: MethodEvent } | { ok: false; problems: FieldProblem[] } {
  const candidate =
    json && typeof json === 'object' && !Array.isArray(json) && !('source' in json)
      ? { ...json, source: 'case-system' } // the case system is who posts here
      : json;
  if (!validateEvent(candidate)) {
    return {
      ok: false,
      problems: (validateEvent.errors ?? []).map((e) => ({ index, path: pathOf(e), reason: describe(e) })),
    };
  }
  // Checked before the Avro clone, which would turn a lone surrogate into U+FFFD without a word.
  const contract = contractFor(EVENTS_TOPIC);
  const violations = violationsOf(contract.schema, candidate);
  if (violations.length > 0)
    return { ok: false, problems: violations.map((v) => ({ index, path: v.path, reason: v.reason })) };
  try {
    // The Avro record constructors fill every defaulted field the JSON left out.
    return { ok: true, event: { ...(contract.type.clone(candidate) as MethodEvent) } };
  } catch (error) {
    return {
      ok: false,
      problems: [{ index, path: '(event)', reason: `not a method event: ${(error as Error).message}` }],
    };
  }
}

/** A request body (one event, or an array of them) to method events; all or nothing. */
export function caseEventsFromBody(body: unknown, maxBatch: number): MappedBatch {
  const single = !Array.isArray(body);
  const items = single ? [body] : (body as unknown[]);
  if (items.length === 0) {
    return { ok: false, status: 400, problems: [{ index: 0, path: '(body)', reason: 'the batch is empty' }] };
  }
  if (items.length > maxBatch) {
    return {
      ok: false,
      status: 413,
      problems: [
        {
          index: maxBatch,
          path: '(body)',
          reason: `${items.length} events in one batch; at most ${maxBatch} are accepted, send the rest in another request`,
        },
      ],
    };
  }
  const events: MethodEvent[] = [];
  const problems: FieldProblem[] = [];
  items.forEach((item, index) => {
    const mapped = caseEventFromJson(item, index);
    if (mapped.ok) events.push(mapped.event);
    else problems.push(...mapped.problems);
  });
  return problems.length > 0 ? { ok: false, status: 400, problems } : { ok: true, events, single };
}

/**
 * The JSON face of an Avro contract: a JSON Schema (OpenAPI 3.0 dialect) derived from the .avsc, so the
 * HTTP API validates and documents exactly what the Kafka contract carries. Nullable unions become
 * `nullable`, dates and instants become formatted strings, and fields with a default may be left out.
 * The limits of core/contracts/validity.ts (lengths, counts, patterns) are written in too, so the
 * document shows them; what JSON Schema cannot say (XML-safe text, ranges relative to now) is in the
 * description and checked by validity.ts itself.
 */
import { type FieldLimits, LONG_LIMIT, validityDefaults } from './validity.ts';

type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

export type JsonSchema = Record<string, unknown>;

const primitives: Record<string, JsonSchema> = {
  null: { type: 'null' },
  boolean: { type: 'boolean' },
  int: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
  long: { type: 'integer', minimum: -LONG_LIMIT, maximum: LONG_LIMIT },
  float: { type: 'number' },
  double: { type: 'number' },
  string: { type: 'string' },
  bytes: { type: 'string' },
};

/** Converts an inlined Avro schema (every named type written out where first used) to JSON Schema. */
export function jsonSchemaOf(schema: AvroSchema, named = new Map<string, JsonSchema>()): JsonSchema {
  if (typeof schema === 'string') {
    const known = primitives[schema] ?? named.get(schema) ?? named.get(schema.split('.').at(-1)!);
    if (!known) throw new Error(`unknown Avro type ${schema}`);
    return known;
  }
  if (Array.isArray(schema)) {
    const branches = schema.filter((s) => s !== 'null');
    if (branches.length !== 1) throw new Error('only ["null", X] unions have a JSON face');
    const inner = jsonSchemaOf(branches[0]!, named);
    return 'enum' in inner
      ? { ...inner, nullable: true, enum: [...(inner.enum as unknown[]), null] }
      : { ...inner, nullable: true };
  }
  const doc = typeof schema.doc === 'string' ? { description: schema.doc } : {};
  switch (schema.logicalType) {
    case 'date':
      return { type: 'string', format: 'date', ...doc };
    case 'timestamp-millis':
      return { type: 'string', format: 'date-time', ...doc };
  }
  switch (schema.type) {
    case 'record': {
      const properties: Record<string, JsonSchema> = {};
      const required: string[] = [];
      for (const field of schema.fields as {
        name: string;
        type: AvroSchema;
        doc?: string;
        default?: unknown;
      }[]) {
        const base = jsonSchemaOf(field.type, named);
        const type = withLimits(base, field as FieldLimits);
        const note = type === base ? undefined : (type.description as string | undefined);
        properties[field.name] = field.doc
          ? { ...type, description: note ? `${field.doc} ${note}` : field.doc }
          : type;
        if (!('default' in field)) required.push(field.name);
      }
      const record: JsonSchema = {
        type: 'object',
        title: schema.name,
        ...doc,
        properties,
        additionalProperties: false,
      };
      if (required.length > 0) record.required = required;
      named.set(String(schema.name), record);
      return record;
    }
    case 'enum': {
      const symbols = (schema.symbols as string[]).filter((s) => s !== 'UNKNOWN');
      const result = { type: 'string', title: schema.name, enum: symbols, ...doc };
      named.set(String(schema.name), result);
      return result;
    }
    case 'array':
      return { type: 'array', items: jsonSchemaOf(schema.items as AvroSchema, named) };
    case 'map':
      return { type: 'object', additionalProperties: jsonSchemaOf(schema.values as AvroSchema, named) };
    default:
      return jsonSchemaOf(schema.type as AvroSchema, named);
  }
}

const TEXT_RULE = 'Text XML 1.0 can carry (no control characters or non-characters)';

/** A field's limits (its own, else the contract defaults) on its JSON face; never changes a shared schema. */
function withLimits(schema: JsonSchema, limits: FieldLimits): JsonSchema {
  if (schema.type === 'string' && !schema.enum && !schema.format) {
    const oneLine = limits.multiline === false ? ', one line' : '';
    return {
      ...schema,
      maxLength: limits.maxLength ?? validityDefaults.string.maxLength,
      ...(limits.pattern ? { pattern: `^(?:${limits.pattern})$` } : {}),
      description: `${TEXT_RULE}${oneLine}.`,
    };
  }
  if (schema.type === 'string' && (schema.format === 'date' || schema.format === 'date-time')) {
    const kind = schema.format === 'date' ? validityDefaults.date : validityDefaults.instant;
    return {
      ...schema,
      description: `From ${limits.earliest ?? kind.earliest} to ${limits.latest ?? kind.latest} (relative to now).`,
    };
  }
  if (schema.type === 'array') {
    const { maxItems, ...itemLimits } = limits;
    const items = withLimits(schema.items as JsonSchema, itemLimits);
    return {
      ...schema,
      maxItems: maxItems ?? validityDefaults.array.maxItems,
      items,
      ...(items.description && items !== schema.items
        ? { description: `Each item: ${items.description}` }
        : {}),
    };
  }
  return schema;
}

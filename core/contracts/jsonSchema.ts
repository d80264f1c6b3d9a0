/**
 * The JSON face of an Avro contract: a JSON Schema (OpenAPI 3.0 dialect) derived from the .avsc, so the
 * HTTP API validates and documents exactly what the Kafka contract carries. Nullable unions become
 * `nullable`, dates and instants become formatted strings, and fields with a default may be left out.
 */

type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

export type JsonSchema = Record<string, unknown>;

const primitives: Record<string, JsonSchema> = {
  null: { type: 'null' },
  boolean: { type: 'boolean' },
  int: { type: 'integer', minimum: -2147483648, maximum: 2147483647 },
  long: { type: 'integer' },
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
        const type = jsonSchemaOf(field.type, named);
        properties[field.name] = field.doc ? { ...type, description: field.doc } : type;
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

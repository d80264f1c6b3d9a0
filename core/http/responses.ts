/**
 * Building blocks for the response schemas routes declare: the OpenAPI document is generated from them and
 * the tests check every answer against them (the server never strips or coerces an answer with them).
 */
import { contractFor } from '../contracts/catalogue.ts';
import { type JsonSchema, jsonSchemaOf } from '../contracts/jsonSchema.ts';
import type { DeclaredTopic } from '../../contracts/topics.ts';

export const text = { type: 'string' } as const;
export const integer = { type: 'integer' } as const;
export const number = { type: 'number' } as const;
export const boolean = { type: 'boolean' } as const;
export const date = { type: 'string', format: 'date' } as const;
export const instant = { type: 'string', format: 'date-time' } as const;

export const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, nullable: true });
export const arrayOf = (items: JsonSchema, description?: string): JsonSchema => ({
  type: 'array',
  items,
  ...(description ? { description } : {}),
});

/** An object whose every property is listed; `required` are those always present. */
export function object(
  properties: Record<string, JsonSchema>,
  options: { required?: string[]; description?: string } = {},
): JsonSchema {
  return {
    type: 'object',
    ...(options.description ? { description: options.description } : {}),
    required: options.required ?? Object.keys(properties),
    properties,
  };
}

/** An object the document describes in words only: its keys are data (a map) or owned by another module. */
export const described = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: true,
});

/** A 200 answer in JSON. */
export const json = (description: string, schema: JsonSchema): JsonSchema => ({ ...schema, description });

/** An answer in another media type (XML, CSV, HTML), documented by its type only. */
export const media = (description: string, ...types: string[]) => ({
  description,
  content: Object.fromEntries(types.map((t) => [t, { schema: { type: 'string' } }])),
});

/** An answer with no body (204, 304). */
export const empty = (description: string) => ({ description, type: 'null' });

/** The JSON face of a topic's Avro contract, as the API serves it (confidential values are null or redacted). */
export function contractSchema(topic: DeclaredTopic, leaveOut: string[] = []): JsonSchema {
  const schema = jsonSchemaOf(contractFor(topic).schema as never);
  const properties = { ...(schema.properties as Record<string, JsonSchema>) };
  for (const field of leaveOut) delete properties[field];
  const required = ((schema.required as string[] | undefined) ?? []).filter((f) => !leaveOut.includes(f));
  return { ...schema, properties, required };
}

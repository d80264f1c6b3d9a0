/** Dates and instants survive a round trip, read directly and through schema resolution. */
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { logicalTypes } from './logicalTypes.ts';

const schema = {
  type: 'record',
  name: 'Dated',
  fields: [
    { name: 'on', type: { type: 'int', logicalType: 'date' } },
    { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
const value = { on: '2025-03-01', at: '2025-03-01T10:15:00.000Z' };

describe('logical types', () => {
  const reader = avro.Type.forSchema(schema as avro.Schema, { logicalTypes });

  it('round-trips directly', () => {
    expect(reader.fromBuffer(reader.toBuffer(value))).toEqual(value);
  });

  it('round-trips through a resolver when the writer has the same logical types', () => {
    const writer = avro.Type.forSchema(schema as avro.Schema, { logicalTypes });
    expect(reader.fromBuffer(writer.toBuffer(value), reader.createResolver(writer))).toEqual(value);
  });

  it('reads a writer that used the plain int and long', () => {
    const writer = avro.Type.forSchema(schema as avro.Schema);
    const raw = { on: Date.UTC(2025, 2, 1) / 86_400_000, at: Date.parse(value.at) };
    expect(reader.fromBuffer(writer.toBuffer(raw), reader.createResolver(writer))).toEqual(value);
  });

  it('refuses dates that are not calendar days', () => {
    expect(reader.isValid({ ...value, on: '2025-02-30' })).toBe(false);
    expect(reader.isValid({ ...value, at: '2025-03-01T10:15:00' })).toBe(false);
  });
});

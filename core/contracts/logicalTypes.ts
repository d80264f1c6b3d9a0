/**
 * How Avro logical types look in TypeScript: a `date` is a Norwegian local date 'YYYY-MM-DD'
 * (Europe/Oslo calendar day, no time zone), a `timestamp-millis` is an ISO-8601 UTC instant string.
 * Strings keep JSON, HTTP and Avro shapes the same.
 */
import avro from 'avsc';

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

class LocalDateType extends avro.types.LogicalType {
  /** A number from the wire, or a string when the writer's schema has this logical type too (resolution). */
  override _fromValue(days: number | string): string {
    return typeof days === 'string' ? days : new Date(days * DAY_MS).toISOString().slice(0, 10);
  }
  override _toValue(value: unknown): number | undefined {
    if (typeof value !== 'string' || !ISO_DATE.test(value)) return undefined;
    const ms = Date.parse(`${value}T00:00:00Z`);
    if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) return undefined;
    return ms / DAY_MS;
  }
  override _resolve(type: avro.Type) {
    if (avro.Type.isType(type, 'int', 'logical:date')) return this._fromValue.bind(this);
    return undefined;
  }
}

class InstantType extends avro.types.LogicalType {
  override _fromValue(ms: number | string): string {
    return typeof ms === 'string' ? ms : new Date(ms).toISOString();
  }
  override _toValue(value: unknown): number | undefined {
    if (typeof value !== 'string') return undefined;
    // Only full instants with an explicit zone: a local time without offset is ambiguous.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  override _resolve(type: avro.Type) {
    if (avro.Type.isType(type, 'long', 'logical:timestamp-millis')) return this._fromValue.bind(this);
    return undefined;
  }
}

export const logicalTypes = { date: LocalDateType, 'timestamp-millis': InstantType };

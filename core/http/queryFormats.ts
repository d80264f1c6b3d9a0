/**
 * Strict dates and instants for query parameters: `Date.parse` rolls 2023-02-30 into March and reads a
 * zoneless time as local, so each part is checked and the value must survive a round trip.
 */
import type { Ajv } from 'ajv';

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|([+-])(\d{2}):(\d{2}))$/i;

/** A real calendar date, YYYY-MM-DD. */
export function isCalendarDate(text: string): boolean {
  if (!DATE.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** A real instant: calendar date, time within the day and an explicit offset (Z or ±hh:mm). */
export function isInstant(text: string): boolean {
  const m = INSTANT.exec(text);
  if (!m || !isCalendarDate(m[1]!)) return false;
  const [hours, minutes, seconds] = [Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  if (hours > 23 || minutes > 59 || seconds > 59) return false;
  if (m[6] && (Number(m[7]) > 23 || Number(m[8]) > 59)) return false;
  return Number.isFinite(Date.parse(text));
}

export const isDateOrInstant = (text: string): boolean => isCalendarDate(text) || isInstant(text);

/** Adds the `date-or-instant` format to fastify's Ajv (ajv-formats already gives a strict `date`). */
export function queryFormats(ajv: Ajv): Ajv {
  return ajv.addFormat('date-or-instant', { type: 'string', validate: isDateOrInstant });
}

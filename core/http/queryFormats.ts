/**
 * Strict dates and instants for query parameters, with the one rule of core/contracts/validity.ts:
 * `Date.parse` rolls 2023-02-30 into March and reads a zoneless time as local, so neither is accepted.
 */
import type { Ajv } from 'ajv';
import { isCalendarDate, isInstant } from '../contracts/validity.ts';

export { isCalendarDate, isInstant };

export const isDateOrInstant = (text: string): boolean => isCalendarDate(text) || isInstant(text);

/** Adds the `date-or-instant` format to fastify's Ajv, and makes its `date` and `date-time` as strict. */
export function queryFormats(ajv: Ajv): Ajv {
  return ajv
    .addFormat('date', { type: 'string', validate: isCalendarDate })
    .addFormat('date-time', { type: 'string', validate: isInstant })
    .addFormat('date-or-instant', { type: 'string', validate: isDateOrInstant });
}

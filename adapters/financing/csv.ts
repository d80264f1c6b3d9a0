/**
 * The feed as CSV for spreadsheets: UTF-8 with a byte-order mark (so æ, ø and å open intact), one header
 * row, CRLF line ends, and RFC 4180 quoting (a field with the separator, a quote or a line break is
 * quoted, its quotes doubled). Text that a spreadsheet would run as a formula (=, +, -, @, tab or carriage
 * return first) gets a leading apostrophe, as OWASP advises against CSV injection; numbers are left alone.
 */
import type { FeedEntry } from './decisionFeed.ts';

export const BOM = '\uFEFF';

export const csvColumns = [
  'recordId',
  'supersedes',
  'supersededBy',
  'change',
  'methodId',
  'atcCode',
  'substance',
  'outcome',
  'decidedOn',
  'effectiveFrom',
  'hPrescription',
  'indication',
  'subGroup',
  'assessmentUrl',
  'estimatedPatientsPerYear',
  'sourceEventId',
  'publishedAt',
] as const satisfies readonly (keyof FeedEntry)[];

const formulaStart = /^[=+\-@\t\r]/;

export function csvField(value: unknown, separator: string): string {
  if (value === null || value === undefined) return '';
  const raw = String(value);
  const text = typeof value === 'string' && formulaStart.test(raw) ? `'${raw}` : raw;
  return text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRows(entries: readonly FeedEntry[], separator: string): string {
  return entries
    .map((entry) => `${csvColumns.map((column) => csvField(entry[column], separator)).join(separator)}\r\n`)
    .join('');
}

export const csvHeader = (separator: string): string => `${csvColumns.join(separator)}\r\n`;

/** A whole CSV document: BOM, header, rows. */
export const csvDocument = (entries: readonly FeedEntry[], separator: string): string =>
  `${BOM}${csvHeader(separator)}${csvRows(entries, separator)}`;

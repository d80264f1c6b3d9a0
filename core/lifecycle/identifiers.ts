/** Method IDs and ATC codes: the two identifiers every partner keys on. */
import { type DomainError, domainError } from './errors.ts';

const METHOD_ID = /^ID(\d{4})_(\d{3})$/;

/** `ID` + four-digit year + `_` + three-digit serial, e.g. ID2019_074; years from 2010 (before Nye metoder: none). */
export function methodIdError(id: unknown): DomainError | null {
  if (typeof id !== 'string')
    return domainError('INVALID_METHOD_ID', `method ID must be a string, got ${typeof id}`);
  const match = METHOD_ID.exec(id);
  if (!match) {
    return domainError(
      'INVALID_METHOD_ID',
      `"${id}" is not a method ID: expected ID + year + _ + serial, like ID2019_074`,
    );
  }
  const year = Number(match[1]);
  if (year < 2010 || year > 2100)
    return domainError('INVALID_METHOD_ID', `"${id}" has an implausible year ${year}`);
  if (match[2] === '000')
    return domainError('INVALID_METHOD_ID', `"${id}" has serial 000; serials start at 001`);
  return null;
}

/** The 14 anatomical main groups of the WHO ATC classification. */
const ATC_MAIN_GROUPS = new Set('ABCDGHJLMNPRSV'.split(''));
const ATC_LEVELS = [
  /^[A-Z]$/,
  /^[A-Z]\d{2}$/,
  /^[A-Z]\d{2}[A-Z]$/,
  /^[A-Z]\d{2}[A-Z]{2}$/,
  /^[A-Z]\d{2}[A-Z]{2}\d{2}$/,
];

/** The level (1-5) of a well-formed ATC code, or null: L, L01, L01F, L01FF, L01FF02. */
export function atcLevel(code: string): number | null {
  const index = ATC_LEVELS.findIndex((pattern) => pattern.test(code));
  if (index < 0 || !ATC_MAIN_GROUPS.has(code[0]!)) return null;
  return index + 1;
}

export function atcCodeError(code: unknown, requiredLevel?: number): DomainError | null {
  if (typeof code !== 'string')
    return domainError('INVALID_ATC_CODE', `ATC code must be a string, got ${typeof code}`);
  const level = atcLevel(code);
  if (level === null) {
    return domainError(
      'INVALID_ATC_CODE',
      `"${code}" is not an ATC code: expected letter, 2 digits, letter, letter, 2 digits (like L01FF02), ` +
        'starting with one of A B C D G H J L M N P R S V',
    );
  }
  if (requiredLevel !== undefined && level !== requiredLevel) {
    return domainError(
      'INVALID_ATC_CODE',
      `"${code}" is an ATC level-${level} code; level ${requiredLevel} is required`,
    );
  }
  return null;
}

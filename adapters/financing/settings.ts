/** The financing adapter's settings, declared once; read with `loadSettings(financingSettings, env)`. */
import { oneOf, positive, type Setting, text } from '../../core/config/spec.ts';

export const financingSettings = {
  FINANCING_READ_SCOPE: {
    description: 'Scope a token needs to read the financing feed (GET /financing/v1/decisions).',
    default: 'nyemetoder:financing:read',
    parse: text,
  },
  FINANCING_CSV_SEPARATOR: {
    description:
      'Field separator of the CSV answer: ";" opens in a Norwegian spreadsheet as columns (its list separator), "," for other tools.',
    default: ';' as ';' | ',',
    parse: oneOf(';', ','),
  },
  FINANCING_PAGE_SIZE: {
    description: 'Decisions per page when the request names no limit.',
    default: 100,
    parse: positive,
  },
  FINANCING_MAX_PAGE_SIZE: {
    description: 'The largest limit a request may ask for.',
    default: 1000,
    parse: positive,
  },
  FINANCING_START_TIMEOUT_MS: {
    description: 'How long start-up may take to read the event log and the feed to their ends.',
    default: 120_000,
    parse: positive,
  },
} satisfies Record<string, Setting<unknown>>;

export type FinancingConfig = {
  [K in keyof typeof financingSettings]: (typeof financingSettings)[K]['default'];
};

/**
 * pino logs, one child per component; a correlation id rides on every line of a message's handling.
 * Standard output by default; LOG_FILE sends them to a file instead (npm start does, so its instructions
 * stay readable).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';

export type { Logger };

const file = process.env.LOG_FILE;
if (file) mkdirSync(dirname(file), { recursive: true });

export const rootLogger: Logger = pino(
  {
    level: process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
    base: { service: 'metodehub' },
    timestamp: pino.stdTimeFunctions.isoTime,
  },
  file ? pino.destination({ dest: file, append: true, sync: false }) : undefined,
);

export const loggerFor = (component: string): Logger => rootLogger.child({ component });

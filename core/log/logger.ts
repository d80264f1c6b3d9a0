/** pino logs, one child per component; a correlation id rides on every line of a message's handling. */
import pino, { type Logger } from 'pino';

export type { Logger };

export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
  base: { service: 'metodehub' },
  timestamp: pino.stdTimeFunctions.isoTime,
});

export const loggerFor = (component: string): Logger => rootLogger.child({ component });

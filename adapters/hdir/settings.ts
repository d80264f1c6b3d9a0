/**
 * The hdir adapter's settings, declared once; read with `loadSettings(hdirSettings, env)`. The README's
 * table is this declaration (`npx metodehub config --markdown`).
 */
import { positive, type Setting, text, url } from '../../core/config/spec.ts';

export const hdirSettings = {
  HDIR_NOTIFY_URL: {
    description:
      "Helsedirektoratet's notification endpoint (HTTP POST). Empty: notifications wait on the flags topic until it is set.",
    default: '',
    parse: url,
  },
  HDIR_NOTIFY_TOKEN: {
    description: 'Bearer token sent to Helsedirektoratet with each notification; empty sends none.',
    default: '',
    parse: text,
  },
  HDIR_NOTIFY_TIMEOUT_MS: {
    description: 'How long one notification request may take before it counts as failed and is retried.',
    default: 10_000,
    parse: positive,
  },
  HDIR_RETRY_BASE_MS: {
    description: 'First wait before a failed notification is sent again; doubles each time, with jitter.',
    default: 1_000,
    parse: positive,
  },
  HDIR_RETRY_MAX_MS: {
    description:
      'Longest wait between attempts while Helsedirektoratet is down (notifications are never dropped).',
    default: 300_000,
    parse: positive,
  },
  HDIR_CIRCUIT_FAILURES: {
    description:
      'Consecutive failed notifications that open the circuit breaker: no request goes out until it half-opens.',
    default: 5,
    parse: positive,
  },
  HDIR_CIRCUIT_OPEN_MS: {
    description: 'How long the circuit stays open before one trial notification (half-open).',
    default: 30_000,
    parse: positive,
  },
  HDIR_RULES_FILE: {
    description:
      'JSON file with the guideline catalogue and the flag rules (specialty, ATC prefix, indication -> guideline). Empty: adapters/hdir/rules.default.json.',
    default: '',
    parse: text,
  },
  HDIR_DEADLINE_DAYS: {
    description:
      'Days from decision to implemented before a run is overdue and raised as an alert (a guideline in the rules file may set its own).',
    default: 180,
    parse: positive,
  },
  HDIR_ALERT_CHECK_MS: {
    description: 'How often overdue runs are looked for (they also are after every change).',
    default: 60_000,
    parse: positive,
  },
  HDIR_READ_SCOPE: {
    description: 'Scope a token needs to read flags, alerts and implementation times.',
    default: 'hdir:flags:read',
    parse: text,
  },
  HDIR_STATUS_SCOPE: {
    description: 'Scope a token needs to report implementation status (Helsedirektoratet, or an operator).',
    default: 'hdir:implementation-status:write',
    parse: text,
  },
  HDIR_CONFIDENTIAL_SCOPE: {
    description:
      'Scope that also shows the confidential price note link in flag answers; without it only public links are shown.',
    default: 'nyemetoder:confidential:read',
    parse: text,
  },
} satisfies Record<string, Setting<unknown>>;

export type HdirSettings = { [K in keyof typeof hdirSettings]: (typeof hdirSettings)[K]['default'] };

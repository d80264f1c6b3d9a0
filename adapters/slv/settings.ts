/** The SLV adapter's settings, declared once; read with `loadSettings(slvSettings, context.env)`. */
import { positive, type Setting, text, url } from '../../core/config/spec.ts';

export const slvSettings = {
  SLV_URL: {
    description: "Organisation URL of SLV's Dynamics 365 (the Web API is under /api/data/v9.2).",
    default: '',
    parse: url,
  },
  SLV_TOKEN_URL: {
    description: 'OAuth2 token endpoint (Entra ID) for the client-credentials grant.',
    default: '',
    parse: url,
  },
  SLV_CLIENT_ID: {
    description: 'OAuth2 client id of the hub at SLV.',
    default: 'metodehub-slv',
    parse: text,
  },
  SLV_CLIENT_SECRET: { description: 'OAuth2 client secret of the hub at SLV.', default: '', parse: text },
  SLV_SCOPE: {
    description: 'OAuth2 scope; empty means `<SLV_URL>/.default`.',
    default: '',
    parse: text,
  },
  SLV_REQUEST_TIMEOUT_MS: {
    description: 'How long one Web API request may take before it counts as a timeout.',
    default: 10_000,
    parse: positive,
  },
  SLV_CALL_ATTEMPTS: {
    description:
      'Attempts of one call on 5xx or timeout (jittered backoff) before the caller is told; 429 waits do not count.',
    default: 4,
    parse: positive,
  },
  SLV_RETRY_BASE_MS: {
    description: 'First backoff wait after a 5xx or timeout; doubles each attempt, with jitter.',
    default: 500,
    parse: positive,
  },
  SLV_RETRY_MAX_MS: { description: 'Longest backoff wait.', default: 30_000, parse: positive },
  SLV_MAX_RETRY_AFTER_S: {
    description:
      'Longest Retry-After (seconds) the client waits in place; a longer one is waited by the backlog.',
    default: 300,
    parse: positive,
  },
  SLV_CIRCUIT_FAILURES: {
    description: 'Consecutive failed calls that open the circuit breaker.',
    default: 5,
    parse: positive,
  },
  SLV_CIRCUIT_OPEN_MS: {
    description: 'How long the circuit stays open before one trial call (half-open).',
    default: 30_000,
    parse: positive,
  },
  SLV_POLL_INTERVAL_MS: {
    description: "How often SLV's change tracking is read.",
    default: 15_000,
    parse: positive,
  },
  SLV_STATE_IMPORT_DIR: {
    description:
      'One-time import: a directory holding the state file (slv-inbound-state.json) of a hub that kept state on disk; read only when slv.inbound-state.v1 is empty, then never again. Empty: nothing is imported.',
    default: '',
    parse: text,
  },
} satisfies Record<string, Setting<unknown>>;

export type SlvSettings = { [K in keyof typeof slvSettings]: (typeof slvSettings)[K]['default'] };

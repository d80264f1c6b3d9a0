/**
 * Every setting of the hub, declared once with its description and default, validated at start-up.
 * The README's configuration tables are generated from this list and the other declarations (`npm run docs:config`).
 */

export interface Setting<T> {
  description: string;
  default: T;
  parse: (raw: string) => T;
}

export const text = (raw: string): string => raw;
export const list = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
export const port = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('must be a TCP port from 0 to 65535');
  return n;
};
export const positive = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error('must be a positive number');
  return n;
};
export const nonNegative = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error('must be 0 or a positive number');
  return n;
};
export const url = (raw: string): string => {
  if (raw === '') return raw;
  try {
    return new URL(raw).toString();
  } catch {
    throw new Error('must be an absolute URL');
  }
};
export const flag = (raw: string): boolean => {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new Error('must be true or false');
};
export const oneOf =
  <T extends string>(...values: T[]) =>
  (raw: string): T => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')}`);
    return raw as T;
  };

export const settings = {
  KAFKA_BROKERS: {
    description: 'Kafka bootstrap brokers, comma-separated host:port.',
    default: ['127.0.0.1:9092'],
    parse: list,
  },
  SCHEMA_REGISTRY_URL: {
    description: 'Base URL of the Confluent-compatible schema registry API (Apicurio: .../apis/ccompat/v7).',
    default: 'http://127.0.0.1:8081/apis/ccompat/v7',
    parse: text,
  },
  KAFKA_CLIENT_ID: { description: 'Client id the hub gives Kafka.', default: 'metodehub', parse: text },
  KAFKA_SECURITY_PROTOCOL: {
    description:
      "How the hub talks to Kafka, in Kafka's own terms: PLAINTEXT (local stack), SSL (TLS, optionally with a client certificate), SASL_PLAINTEXT, or SASL_SSL (TLS and SASL: production).",
    default: 'PLAINTEXT' as 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL',
    parse: oneOf('PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'),
  },
  KAFKA_SSL_CA_FILE: {
    description:
      "PEM file of the CA(s) that signed the brokers' certificates; empty: the system's trusted CAs.",
    default: '',
    parse: text,
  },
  KAFKA_SSL_CERT_FILE: {
    description:
      'PEM client certificate (chain) for brokers that require TLS client authentication; with KAFKA_SSL_KEY_FILE.',
    default: '',
    parse: text,
  },
  KAFKA_SSL_KEY_FILE: { description: 'PEM private key of KAFKA_SSL_CERT_FILE.', default: '', parse: text },
  KAFKA_SSL_KEY_PASSWORD: {
    description: 'Passphrase of KAFKA_SSL_KEY_FILE, if it has one.',
    default: '',
    parse: text,
  },
  KAFKA_SASL_MECHANISM: {
    description: 'SASL mechanism with SASL_PLAINTEXT or SASL_SSL.',
    default: 'SCRAM-SHA-512' as 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN',
    parse: oneOf('SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'),
  },
  KAFKA_SASL_USERNAME: {
    description:
      "The hub's Kafka principal (SASL user). An adapter may run as its own principal: <ADAPTER>_KAFKA_SASL_USERNAME and <ADAPTER>_KAFKA_SASL_PASSWORD (e.g. FEST_KAFKA_SASL_USERNAME; adapter names upper-cased, '-' as '_').",
    default: '',
    parse: text,
  },
  KAFKA_SASL_PASSWORD: { description: 'Password of KAFKA_SASL_USERNAME.', default: '', parse: text },
  KAFKA_TOPIC_PROFILE: {
    description:
      'Replication profile `topics:apply` creates topics with: local (replication factor 1, min.insync.replicas 1) or production (3 and 2). See contracts/topics.ts.',
    default: 'local' as 'local' | 'production',
    parse: oneOf('local', 'production'),
  },
  SCHEMA_REGISTRY_USERNAME: {
    description: 'Basic-auth user for the schema registry; empty: no basic auth.',
    default: '',
    parse: text,
  },
  SCHEMA_REGISTRY_PASSWORD: {
    description: 'Password of SCHEMA_REGISTRY_USERNAME.',
    default: '',
    parse: text,
  },
  SCHEMA_REGISTRY_TOKEN: {
    description: 'Bearer token for the schema registry (instead of basic auth); empty: none.',
    default: '',
    parse: text,
  },
  HUB_PORT: { description: 'Port of the hub HTTP server on HUB_HOST.', default: 8080, parse: port },
  HUB_HOST: { description: 'Address the hub HTTP server listens on.', default: '127.0.0.1', parse: text },
  HUB_ADVERTISED_URL: {
    description:
      "Where the other hub instances reach this one's HTTP API, for requests only the leader of a role answers (case events, FEST webhooks); empty: http://HUB_HOST:HUB_PORT as listened on.",
    default: '',
    parse: url,
  },
  LEADERSHIP_SESSION_TIMEOUT_MS: {
    description:
      "How long the leader of a role that runs once at a time (SLV poller, FEST push, case-event judgement) may stay silent before another instance takes it over: the session timeout of each role's consumer group on metodehub.leadership.v1 (the broker's group.min.session.timeout.ms, 6000 by default, is the floor).",
    default: 6_000,
    parse: positive,
  },
  LOG_LEVEL: {
    description: 'pino log level.',
    default: 'info' as 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  LOG_FILE: {
    description: 'Write logs to this file instead of standard output (npm start uses .stack/logs/hub.log).',
    default: '',
    parse: text,
  },
  BUS_RETRY_BASE_MS: {
    description:
      "First wait before a consumer retries a transient failure; doubles each time, with jitter. Every consumer's, except where an adapter's own setting gives its partner's (SLV_RETRY_*, HDIR_RETRY_*, SUBSCRIPTIONS_RETRY_*).",
    default: 200,
    parse: positive,
  },
  BUS_RETRY_MAX_MS: {
    description:
      'Longest wait between retries of a transient failure (every consumer, as BUS_RETRY_BASE_MS).',
    default: 30_000,
    parse: positive,
  },
  BUS_TRANSIENT_BUDGET_MS: {
    description:
      'How long a consumer retries one message for a failure known to pass (broker, network, partner 5xx/429) before it goes to the dead-letter topic and the partition moves on.',
    default: 600_000,
    parse: positive,
  },
  BUS_IDEMPOTENCY_WINDOW: {
    description:
      'How many processed event ids each consumer remembers to drop redeliveries; the oldest is forgotten first.',
    default: 100_000,
    parse: positive,
  },
  BUS_COMMIT_DELAY_MS: {
    description:
      "How long after a message's effect its consumer commits its offset, in one request with every other partition it finished meanwhile. 0 commits after every batch; a crash or rebalance in between means those messages are read again (and dropped as seen).",
    default: 200,
    parse: nonNegative,
  },
  BUS_PARTITIONS_CONCURRENTLY: {
    description:
      "How many partitions of its topics each consumer handles at once; within a partition (one method's events) the order is kept. 1 handles one partition at a time.",
    default: 6,
    parse: positive,
  },
  AUTH_JWKS_URL: {
    description:
      'JWKS URL of the OAuth2 issuer whose access tokens the API accepts. Leave empty with AUTH_DEV_ISSUER=true to use the dev issuer.',
    default: '',
    parse: url,
  },
  AUTH_ISSUER: {
    description: 'The "iss" the API accepts in tokens.',
    default: 'metodehub-dev-issuer',
    parse: text,
  },
  AUTH_AUDIENCE: { description: 'The "aud" the API accepts in tokens.', default: 'metodehub', parse: text },
  AUTH_WRITE_SCOPE: {
    description: 'Scope a token needs to post case events.',
    default: 'nyemetoder:case-events:write',
    parse: text,
  },
  AUTH_READ_SCOPE: {
    description: 'Scope a token needs to read methods, history and statistics.',
    default: 'nyemetoder:methods:read',
    parse: text,
  },
  AUTH_OPS_SCOPE: {
    description:
      'Scope a token needs for the operations API: dead letters (list, inspect, redrive, discard).',
    default: 'metodehub:ops',
    parse: text,
  },
  AUTH_CONFIDENTIAL_SCOPE: {
    description:
      'Scope that also shows confidential fields (price notes, supplier notes) in the operations views: dead letters and traces; without it they read "<redacted: confidential>". Never in a dev token.',
    default: 'nyemetoder:confidential:read',
    parse: text,
  },
  OPS_SAMPLE_MS: {
    description: 'How often the operations dashboard samples topic offsets, consumer lag and partner health.',
    default: 5000,
    parse: positive,
  },
  AUTH_DEV_ISSUER: {
    description:
      'Runs the local dev issuer (never in production): its keys are served at /dev/jwks.json and `npm start` prints a token.',
    default: false,
    parse: flag,
  },
  DEV_ISSUER_KEY_FILE: {
    description: 'Where the dev issuer keeps its RSA key (git-ignored), so tokens survive restarts.',
    default: '.stack/dev-issuer/key.json',
    parse: text,
  },
  OUTBOUND_ALLOWED_HOSTS: {
    description:
      "Hosts (names or IP literals, comma-separated) a partner-given URL such as a vendor webhook may name even though they are not public: for local development and the test suite's loopback stand-ins. Every other host must resolve only to public addresses.",
    default: [] as string[],
    parse: list,
  },
  OUTBOUND_ALLOW_HTTP: {
    description:
      'Lets partner-given URLs use plain http instead of https (local development and tests only).',
    default: false,
    parse: flag,
  },
  INGRESS_MAX_BODY_BYTES: {
    description: 'Largest request body the case-event ingress accepts.',
    default: 1_048_576,
    parse: positive,
  },
  INGRESS_MAX_BATCH: { description: 'Most events in one case-event request.', default: 500, parse: positive },
  INGRESS_SETTLE_TIMEOUT_MS: {
    description: 'How long a case-event request waits for its events to be folded before answering 202.',
    default: 10_000,
    parse: positive,
  },
  INGRESS_WRITE_TIMEOUT_MS: {
    description:
      'Longest a case-event request waits for its turn, the read of the log to its end and the Kafka write before it is answered 503 with Retry-After.',
    default: 5_000,
    parse: positive,
  },
  INGRESS_TRANSACTIONAL_ID: {
    description:
      'Kafka transactional id of the ingress; give each instance its own stable one (e.g. its pod name) so a restarted instance ends the transaction its predecessor left open at once instead of after 10 s. Empty: one per process.',
    default: '',
    parse: text,
  },
  INGRESS_RETRY_AFTER_SECONDS: {
    description: 'The Retry-After a case-event request answered 503 carries.',
    default: 2,
    parse: positive,
  },
  FOLLOW_UP_REASSESS_WARN_DAYS: {
    description:
      "Days before a temporary introduction's reassessBy date that it is raised as APPROACHING (without a REASSESSMENT_STARTED); after the date it is OVERDUE.",
    default: 90,
    parse: positive,
  },
  FOLLOW_UP_DEADLINE_WARN_DAYS: {
    description:
      "Days before a paused assessment's absolute deadline that it is raised as APPROACHING; after the deadline it is OVERDUE (a simplified assessment is due on what exists).",
    default: 30,
    parse: positive,
  },
  ASSESSMENT_CLOCK_DAYS: {
    description:
      "DMP's assessment time limit: days from complete documentation, with the clock stopped while paused waiting for the supplier.",
    default: 180,
    parse: positive,
  },
} satisfies Record<string, Setting<unknown>>;

export type Settings = typeof settings;
/** The parsed values of a settings declaration. */
export type ConfigOf<S extends Record<string, Setting<unknown>>> = { [K in keyof S]: S[K]['default'] };
export type Config = ConfigOf<Settings>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads a settings declaration from the environment; lists every bad one at once. The core's settings
 * are `settings` below; each adapter declares its own in `adapters/<partner>/settings.ts` and reads them
 * with this same function, so `metodehub config` and the README can show them all.
 */
export function loadSettings<S extends Record<string, Setting<unknown>>>(
  declaration: S,
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(declaration) as [string, Setting<unknown>][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      config[name] = setting.default;
      continue;
    }
    try {
      config[name] = setting.parse(raw);
    } catch (error) {
      problems.push(`${name}=${raw} ${(error as Error).message} (${setting.description})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return config as ConfigOf<S>;
}

/** Reads the core settings from the environment; lists every bad one at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadSettings(settings, env);
}

/** A settings declaration as a Markdown table, for the README. */
export function settingsTable(declaration: Record<string, Setting<unknown>> = settings): string {
  const rows = Object.entries(declaration).map(
    ([name, s]) =>
      `| \`${name}\` | \`${Array.isArray(s.default) ? s.default.join(',') : String(s.default)}\` | ${s.description} |`,
  );
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

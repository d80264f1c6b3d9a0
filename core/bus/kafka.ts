/** One kafkajs client per process (or per adapter principal), its log lines routed into pino. */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, type KafkaConfig, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import { type Config, ConfigError } from '../config/spec.ts';
import { loggerFor } from '../log/logger.ts';

const log = loggerFor('kafkajs');

// Known and accepted: our idempotent producers keep a bounded retry count so a request fails instead of hanging.
const expected = /^Limiting retries for the idempotent producer/;

const toPino = (level: logLevel) => (entry: LogEntry) => {
  const { message, ...extra } = entry.log;
  const fields = { namespace: entry.namespace, ...extra };
  if (expected.test(message)) log.debug(fields, message);
  else if (level === logLevel.ERROR) log.error(fields, message);
  else if (level === logLevel.WARN) log.warn(fields, message);
  else if (level === logLevel.INFO) log.debug(fields, message);
};

/** How a client reaches the brokers: TLS and SASL, from the KAFKA_SECURITY_* settings. */
export interface KafkaSecurity {
  ssl?: ConnectionOptions | boolean;
  sasl?: SASLOptions;
}

export type KafkaSecuritySettings = Pick<
  Config,
  | 'KAFKA_SECURITY_PROTOCOL'
  | 'KAFKA_SSL_CA_FILE'
  | 'KAFKA_SSL_CERT_FILE'
  | 'KAFKA_SSL_KEY_FILE'
  | 'KAFKA_SSL_KEY_PASSWORD'
  | 'KAFKA_SASL_MECHANISM'
  | 'KAFKA_SASL_USERNAME'
  | 'KAFKA_SASL_PASSWORD'
>;

const pem = (setting: string, path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${setting}=${path} cannot be read: ${(error as Error).message}`);
  }
};

/**
 * The TLS and SASL options of a client; `principal` overrides the SASL user (an adapter running as its own).
 * Refuses half a configuration (a SASL protocol without a user, a certificate without its key) at start.
 */
export function kafkaSecurity(
  config: KafkaSecuritySettings,
  principal?: { username: string; password: string },
): KafkaSecurity {
  const protocol = config.KAFKA_SECURITY_PROTOCOL;
  const security: KafkaSecurity = {};
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    const tls: ConnectionOptions = {};
    if (config.KAFKA_SSL_CA_FILE !== '') tls.ca = pem('KAFKA_SSL_CA_FILE', config.KAFKA_SSL_CA_FILE);
    if ((config.KAFKA_SSL_CERT_FILE === '') !== (config.KAFKA_SSL_KEY_FILE === ''))
      throw new ConfigError(
        'KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together: give both for a client certificate, or neither.',
      );
    if (config.KAFKA_SSL_CERT_FILE !== '') {
      tls.cert = pem('KAFKA_SSL_CERT_FILE', config.KAFKA_SSL_CERT_FILE);
      tls.key = pem('KAFKA_SSL_KEY_FILE', config.KAFKA_SSL_KEY_FILE);
      if (config.KAFKA_SSL_KEY_PASSWORD !== '') tls.passphrase = config.KAFKA_SSL_KEY_PASSWORD;
    }
    security.ssl = Object.keys(tls).length > 0 ? tls : true;
  } else if (config.KAFKA_SSL_CA_FILE !== '' || config.KAFKA_SSL_CERT_FILE !== '') {
    throw new ConfigError(
      `KAFKA_SSL_* files are set but KAFKA_SECURITY_PROTOCOL=${protocol} does not use TLS; set it to SSL or SASL_SSL.`,
    );
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const username = principal?.username ?? config.KAFKA_SASL_USERNAME;
    const password = principal?.password ?? config.KAFKA_SASL_PASSWORD;
    if (username === '' || password === '')
      throw new ConfigError(
        `KAFKA_SECURITY_PROTOCOL=${protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (the hub's Kafka principal).`,
      );
    const mechanism = config.KAFKA_SASL_MECHANISM;
    security.sasl =
      mechanism === 'PLAIN'
        ? { mechanism: 'plain', username, password }
        : mechanism === 'SCRAM-SHA-256'
          ? { mechanism: 'scram-sha-256', username, password }
          : { mechanism: 'scram-sha-512', username, password };
  }
  return security;
}

/** The environment names of an adapter's own principal: FEST_KAFKA_SASL_USERNAME, EU_JCA_KAFKA_SASL_PASSWORD. */
export const principalSettingsOf = (adapter: string): { username: string; password: string } => {
  const prefix = adapter.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return { username: `${prefix}_KAFKA_SASL_USERNAME`, password: `${prefix}_KAFKA_SASL_PASSWORD` };
};

/** The adapter's own principal from the environment, or undefined when it runs as the hub's. */
export function adapterPrincipal(
  adapter: string,
  env: NodeJS.ProcessEnv,
): { username: string; password: string } | undefined {
  const names = principalSettingsOf(adapter);
  const username = env[names.username] ?? '';
  const password = env[names.password] ?? '';
  if (username === '' && password === '') return undefined;
  if (username === '' || password === '')
    throw new ConfigError(`${names.username} and ${names.password} go together: give both, or neither.`);
  return { username, password };
}

export function createKafka(brokers: string[], clientId = 'metodehub', security: KafkaSecurity = {}): Kafka {
  const options: KafkaConfig = {
    clientId,
    brokers,
    ...(security.ssl === undefined ? {} : { ssl: security.ssl }),
    ...(security.sasl === undefined ? {} : { sasl: security.sasl }),
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => toPino(entry.level)(entry),
    // At most 5 s between tries, so a client is back within seconds of a broker's return.
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
  };
  return new Kafka(options);
}

/** The client the settings describe: brokers, client id, TLS and SASL. */
export const kafkaFromConfig = (
  config: KafkaSecuritySettings & Pick<Config, 'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID'>,
  clientId: string = config.KAFKA_CLIENT_ID,
): Kafka => createKafka(config.KAFKA_BROKERS, clientId, kafkaSecurity(config));

/**
 * Whether the cluster answers within `timeoutMs`, for readiness: one try, no retries, so a dead broker is
 * reported at once instead of after kafkajs's backoff.
 */
export async function describeKafka(kafka: Kafka, timeoutMs = 2_000): Promise<string> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`kafka not ok: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const ask = (async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return `${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
  })();
  try {
    return await Promise.race([ask, late]);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith('kafka not ok') ? message : `kafka not ok: ${message}`);
  } finally {
    clearTimeout(timer);
    ask.catch(() => undefined);
    void admin.disconnect().catch(() => undefined);
  }
}

/** Kafka's refusals for want of an ACL: the principal lacks a grant, not the broker a feature. */
const REFUSALS = /^(TOPIC|GROUP|CLUSTER|TRANSACTIONAL_ID|DELEGATION_TOKEN)_AUTHORIZATION_FAILED$/;

const refusalType = (error: unknown): string | undefined => {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && REFUSALS.test(type)) return type;
  }
  return undefined;
};

/** A Kafka refusal with the resource it concerned (kafkajs's own error names none). */
export class KafkaAccessError extends Error {
  override name = 'KafkaAccessError';
  constructor(
    readonly resource: string,
    readonly type: string,
    cause: unknown,
  ) {
    super(`${type} on ${resource}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Names the resource on a refusal, passing every other error through unchanged. */
export const namingResource = (resource: string, error: unknown): unknown => {
  if (error instanceof KafkaAccessError) return error;
  const type = refusalType(error);
  return type === undefined ? error : new KafkaAccessError(resource, type, error);
};

/**
 * One line for health when Kafka refused this principal, or undefined when the error is something else:
 * `KAFKA_NOT_AUTHORIZED: principal "fest" is refused read of topic hdir.guideline-flags.v1 (TOPIC_AUTHORIZATION_FAILED) ...`.
 */
export function kafkaAccessRefusal(error: unknown, principal: string): string | undefined {
  const type = refusalType(error);
  if (type === undefined) return undefined;
  const resource = error instanceof KafkaAccessError ? error.resource : 'a resource kafkajs does not name';
  const who = principal === '' ? 'the hub (no SASL user)' : `principal "${principal}"`;
  return (
    `KAFKA_NOT_AUTHORIZED: ${who} is refused ${resource} (${type}). ` +
    'Grant the ACLs `npm run topics:acls` prints for this adapter, or run it as a principal that has them.'
  );
}

/** Kafka's answers while a partition's leadership moves or a new topic's metadata spreads: asking again soon works. */
const LEADERSHIP_MOVING =
  /^(NOT_LEADER_OR_FOLLOWER|NOT_LEADER_FOR_PARTITION|LEADER_NOT_AVAILABLE|UNKNOWN_TOPIC_OR_PARTITION)$/;

/** Runs an admin request again (up to ~5 s) while the partition's leader is moving; anything else is thrown at once. */
export async function whileLeadershipMoves<T>(request: () => Promise<T>, attempts = 12): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      const type = (error as { type?: unknown }).type;
      if (attempt >= attempts || typeof type !== 'string' || !LEADERSHIP_MOVING.test(type)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 100 * attempt)));
    }
  }
}

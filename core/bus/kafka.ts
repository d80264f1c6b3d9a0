/** One kafkajs client per process, its log lines routed into pino. */
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
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

export function createKafka(brokers: string[], clientId = 'metodehub'): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => toPino(entry.level)(entry),
    // At most 5 s between tries, so a client is back within seconds of a broker's return.
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 },
  });
}

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

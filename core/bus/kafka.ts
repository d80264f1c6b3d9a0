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
    retry: { initialRetryTime: 300, retries: 8 },
  });
}

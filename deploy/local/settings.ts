/** The native local stack's settings (`npm run stack:up`), declared once like the hub's; see README.md beside this. */
import type { Setting } from '../../core/config/spec.ts';
import { flag, positive, text } from '../../core/config/spec.ts';

/** A port the stack listens on: 0 would let the system pick one no client could be told. */
const listenPort = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error('must be a TCP port from 1 to 65535');
  return n;
};

/** The most brokers `--brokers` starts: each is a JVM on a machine that may have two cores. */
export const MAX_BROKERS = 9;

const brokerCount = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BROKERS)
    throw new Error(`must be a whole number from 1 to ${MAX_BROKERS} (3 for a replicated cluster)`);
  return n;
};

export const stackSettings = {
  STACK_DIR: {
    description: "Where the local stack keeps downloads, data and logs; empty: the repository's .stack.",
    default: '',
    parse: text,
  },
  STACK_KAFKA_PORT: { description: 'Kafka broker port on 127.0.0.1.', default: 9092, parse: listenPort },
  STACK_CONTROLLER_PORT: {
    description: 'KRaft controller port on 127.0.0.1.',
    default: 9093,
    parse: listenPort,
  },
  STACK_REGISTRY_PORT: {
    description: 'Schema registry port on 127.0.0.1.',
    default: 8081,
    parse: listenPort,
  },
  STACK_BROKERS: {
    description:
      'Brokers `stack:up` starts (as --brokers): node i listens on STACK_KAFKA_PORT + 2i; from 3, topics are replicated 3 times with min.insync 2.',
    default: 1,
    parse: brokerCount,
  },
  STACK_SECURE: {
    description: 'Start the broker with a SASL_SSL listener, ACLs and its own CA and users (as --secure).',
    default: false,
    parse: flag,
  },
  STACK_START_TIMEOUT: {
    description:
      'Seconds `stack:up` waits for Kafka and the registry to answer (raise it on a slow machine).',
    default: 180,
    parse: positive,
  },
} satisfies Record<string, Setting<unknown>>;

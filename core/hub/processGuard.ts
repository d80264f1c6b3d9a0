/**
 * What the hub process does with a promise rejection nobody handled. Node ends the process on one; a hub whose
 * broker was SIGKILLed while its adapters started died so (exit 1, `KafkaJSNonRetriableError: Connection error:
 * connect ECONNREFUSED`, raised inside kafkajs with no frame of ours), and with it every part that would have
 * recovered on its own. A rejection whose cause is transient (Kafka, the registry or a partner away:
 * `transientCause`) is logged with its stack and the process goes on: every part retries what it was doing, and
 * health says what is not running. Any other one is a defect: it is logged and the process ends with 1, as before,
 * for the supervisor to start it again.
 */
import { transientCause } from '../bus/errors.ts';
import type { Logger } from '../log/logger.ts';

export interface RejectionGuard {
  /** Transient rejections carried on from so far. */
  readonly carriedOn: number;
  remove(): void;
}

export function guardRejections(log: Logger, exit: (code: number) => void = process.exit): RejectionGuard {
  let carriedOn = 0;
  const onRejection = (reason: unknown) => {
    const cause = transientCause(reason);
    const err = reason instanceof Error ? reason : new Error(String(reason));
    if (cause !== null) {
      carriedOn++;
      log.error({ err, cause }, 'UNHANDLED_TRANSIENT_REJECTION: carrying on; the part that made it retries');
      return;
    }
    log.fatal({ err }, 'UNHANDLED_REJECTION: a defect; the process ends');
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  return {
    get carriedOn() {
      return carriedOn;
    },
    remove: () => void process.off('unhandledRejection', onRejection),
  };
}

/**
 * Before a benchmark touches Kafka: are the brokers and the registry it was given answering? If not, it says
 * which address did not answer and how to start the local stack, and exits 2, instead of kafkajs retrying
 * its seed brokers for half a minute and ending in a stack trace.
 */
import type { Config } from '../../core/config/spec.ts';
import { portAnswers, registryAnswersAt } from '../../deploy/local/stack.ts';

export async function requireStack(
  name: string,
  config: Pick<Config, 'KAFKA_BROKERS' | 'SCHEMA_REGISTRY_URL'>,
): Promise<void> {
  const silent: string[] = [];
  const brokers = config.KAFKA_BROKERS;
  const answering = await Promise.all(
    brokers.map((broker) => {
      const at = broker.lastIndexOf(':');
      return portAnswers(broker.slice(0, at), Number(broker.slice(at + 1)), 2_000);
    }),
  );
  if (!answering.some(Boolean)) silent.push(`Kafka at ${brokers.join(',')} (KAFKA_BROKERS)`);
  const registry = await registryAnswersAt(config.SCHEMA_REGISTRY_URL);
  if (!registry) silent.push(`the schema registry at ${config.SCHEMA_REGISTRY_URL} (SCHEMA_REGISTRY_URL)`);
  if (silent.length === 0) return;
  process.stderr.write(
    `${name}: ${silent.join(' and ')} did not answer. Start the local stack with \`npm run stack:up\`, or point KAFKA_BROKERS and SCHEMA_REGISTRY_URL at a running one.\n`,
  );
  process.exit(2);
}

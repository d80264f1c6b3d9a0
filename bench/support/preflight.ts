/**
 * Before a benchmark touches Kafka: are the brokers and the registry it was given answering? If not, it says
 * which address did not answer and how to start the local stack, and exits 2, instead of kafkajs retrying
 * its seed brokers for half a minute and ending in a stack trace.
 */
import { portAnswers } from '../../deploy/local/stack.ts';

export async function requireStack(
  name: string,
  endpoints: { kafkaBrokers: string | string[]; schemaRegistryUrl: string },
): Promise<void> {
  const silent: string[] = [];
  const brokers = (
    Array.isArray(endpoints.kafkaBrokers) ? endpoints.kafkaBrokers : endpoints.kafkaBrokers.split(',')
  ).map((b) => b.trim());
  const answering = await Promise.all(
    brokers.map((broker) => {
      const at = broker.lastIndexOf(':');
      return portAnswers(broker.slice(0, at), Number(broker.slice(at + 1)), 2_000);
    }),
  );
  if (!answering.some(Boolean)) silent.push(`Kafka at ${brokers.join(',')} (KAFKA_BROKERS)`);
  const registry = await fetch(`${endpoints.schemaRegistryUrl}/subjects`, {
    signal: AbortSignal.timeout(2_000),
  })
    .then((answer) => answer.ok)
    .catch(() => false);
  if (!registry) silent.push(`the schema registry at ${endpoints.schemaRegistryUrl} (SCHEMA_REGISTRY_URL)`);
  if (silent.length === 0) return;
  process.stderr.write(
    `${name}: ${silent.join(' and ')} did not answer. Start the local stack with \`npm run stack:up\`, or point KAFKA_BROKERS and SCHEMA_REGISTRY_URL at a running one.\n`,
  );
  process.exit(2);
}

/**
 * Finds the real Kafka and schema registry the tests run against, in this order:
 *   1. a stack named by KAFKA_BROKERS and SCHEMA_REGISTRY_URL;
 *   2. testcontainers, when a Docker engine answers;
 *   3. the native stack (deploy/local/stack.ts), started here if it is not running.
 * Whatever this module starts, it stops again; a stack it found running is left alone.
 */
import { spawnSync } from 'node:child_process';
import { stackDown, stackOptionsFromEnv, stackUp, type StackEndpoints } from '../../deploy/local/stack.ts';

export interface TestStack extends StackEndpoints {
  kind: 'environment' | 'testcontainers' | 'native';
  stop: () => Promise<void>;
}

export const KAFKA_IMAGE = 'apache/kafka:3.9.1';
export const REGISTRY_IMAGE = 'apicurio/apicurio-registry:3.0.9';

export async function resolveTestStack(env: NodeJS.ProcessEnv = process.env): Promise<TestStack> {
  if (env.KAFKA_BROKERS && env.SCHEMA_REGISTRY_URL) {
    return {
      kind: 'environment',
      kafkaBrokers: env.KAFKA_BROKERS,
      schemaRegistryUrl: env.SCHEMA_REGISTRY_URL,
      stop: async () => undefined,
    };
  }
  if (dockerEngineAnswers()) return startContainers();
  const options = {
    ...stackOptionsFromEnv(env),
    say: (line: string) => process.stderr.write(`[stack] ${line}\n`),
  };
  const { started, endpoints } = await stackUp(options);
  return {
    kind: 'native',
    ...endpoints,
    stop: async () => {
      if (started.length > 0) await stackDown(options);
    },
  };
}

function dockerEngineAnswers(): boolean {
  const result = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  return result.status === 0 && result.stdout.trim() !== '';
}

async function startContainers(): Promise<TestStack> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  const kafka = await new GenericContainer(KAFKA_IMAGE)
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts({ container: 9092, host: 9092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093,INTERNAL://:19092',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:9092,INTERNAL://kafka:19092',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = await new GenericContainer(REGISTRY_IMAGE)
    .withNetwork(network)
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forHttp('/apis/ccompat/v7/subjects', 8080))
    .start();
  return {
    kind: 'testcontainers',
    kafkaBrokers: '127.0.0.1:9092',
    schemaRegistryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8080)}/apis/ccompat/v7`,
    stop: async () => {
      await registry.stop();
      await kafka.stop();
      await network.stop();
    },
  };
}

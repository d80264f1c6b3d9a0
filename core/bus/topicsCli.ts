/**
 * `npm run topics:apply`: creates or updates every declared topic and its dead-letter topic, and registers
 * every contract in the schema registry with FULL_TRANSITIVE compatibility.
 */
import { Command } from 'commander';
import { loadConfig } from '../config/spec.ts';
import { createKafka } from './kafka.ts';
import { ContractRegistry } from './registry.ts';
import { applyTopics } from './topics.ts';

const program = new Command('topics:apply')
  .description(
    'Create or update every topic declared in contracts/topics.ts (and <topic>.dlq), then register every contract ' +
      'under <topic>-value with FULL_TRANSITIVE compatibility. Safe to run again. Uses KAFKA_BROKERS and SCHEMA_REGISTRY_URL.',
  )
  .option('--skip-registry', 'only the topics, not the schemas')
  .action(async (options: { skipRegistry?: boolean }) => {
    const config = loadConfig();
    for (const r of await applyTopics(createKafka(config.KAFKA_BROKERS))) {
      process.stdout.write(`${r.action.padEnd(9)} ${r.topic}${r.note ? `  (${r.note})` : ''}\n`);
    }
    if (!options.skipRegistry) {
      const ids = await new ContractRegistry(config.SCHEMA_REGISTRY_URL).registerAll();
      for (const [topic, id] of ids) process.stdout.write(`schema    ${topic}-value -> id ${id}\n`);
    }
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`topics:apply failed: ${(error as Error).message}\n`);
  process.exit(1);
});

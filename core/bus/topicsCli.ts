/**
 * `npm run topics:apply`: creates or updates every declared topic and its dead-letter topic with the replication of
 * the chosen profile, reports what differs and cannot be changed, and registers every contract in the schema
 * registry with FULL_TRANSITIVE compatibility.
 */
import { Command } from 'commander';
import { topics } from '../../contracts/topics.ts';
import { loadConfig } from '../config/spec.ts';
import { kafkaFromConfig } from './kafka.ts';
import { ContractRegistry, registryAuthOf } from './registry.ts';
import { applyTopics } from './topics.ts';

const program = new Command('topics:apply')
  .description(
    'Create or update every topic declared in contracts/topics.ts (and <topic>.dlq), then register every contract ' +
      'under <topic>-value with FULL_TRANSITIVE compatibility. Safe to run again. Uses KAFKA_BROKERS (with the ' +
      'KAFKA_SECURITY_* settings), KAFKA_TOPIC_PROFILE and SCHEMA_REGISTRY_URL.',
  )
  .option('--skip-registry', 'only the topics, not the schemas')
  .addHelpText(
    'after',
    '\nProfiles: local (replication 1, min.insync.replicas 1), production (3 and 2). A profile that wants more ' +
      'replicas than the cluster has brokers is refused before anything is changed. A topic whose replication or ' +
      'partition count differs from the declaration is reported as "drift" and the command exits 3.',
  )
  .action(async (options: { skipRegistry?: boolean }) => {
    const config = loadConfig();
    const applied = await applyTopics(kafkaFromConfig(config), topics, {
      profile: config.KAFKA_TOPIC_PROFILE,
    });
    for (const r of applied) {
      process.stdout.write(`${r.action.padEnd(9)} ${r.topic}${r.note ? `  (${r.note})` : ''}\n`);
    }
    if (!options.skipRegistry) {
      const ids = await new ContractRegistry(
        config.SCHEMA_REGISTRY_URL,
        registryAuthOf(config),
      ).registerAll();
      for (const [topic, id] of ids) process.stdout.write(`schema    ${topic}-value -> id ${id}\n`);
    }
    const drifted = applied.filter((r) => r.action === 'drift');
    if (drifted.length > 0) {
      process.stderr.write(
        `topics:apply: ${drifted.length} topic(s) differ from contracts/topics.ts in what this command cannot change (see "drift" above).\n`,
      );
      process.exitCode = 3;
    }
  });

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`topics:apply failed: ${(error as Error).message}\n`);
  process.exit(1);
});

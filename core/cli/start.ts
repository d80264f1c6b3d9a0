/**
 * `npm start`: brings up the native stack if it is not running and reports it healthy.
 * (The hub itself joins here as the case-system issue lands.)
 */
import { stackOptionsFromEnv, stackStatus, stackUp } from '../../deploy/local/stack.ts';

const options = stackOptionsFromEnv();
const t0 = Date.now();
const { started, endpoints } = await stackUp(options);
const rows = await stackStatus(options);
for (const r of rows)
  options.say(`${r.component.padEnd(9)} ${r.answers ? 'healthy' : 'NOT ANSWERING'}  ${r.address}`);
options.say(
  started.length > 0
    ? `Started in ${((Date.now() - t0) / 1000).toFixed(1)} s.`
    : 'The stack was already running.',
);
options.say(`KAFKA_BROKERS=${endpoints.kafkaBrokers} SCHEMA_REGISTRY_URL=${endpoints.schemaRegistryUrl}`);

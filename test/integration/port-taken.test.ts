/**
 * A second hub on a port another process holds says so in one line and stops before it joins any consumer group,
 * so it never takes partitions from the hub already running.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ConfigError, loadConfig } from '../../core/config/spec.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import { createHub } from '../../bin/hub.ts';
import { testKafka, uniqueName } from '../support/kafka.ts';

let taken: Server;
let port: number;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
});

it('refuses a taken port in one line, before joining a consumer group', async () => {
  const groupPrefix = uniqueName('test.port');
  const hub = createHub({
    config: loadConfig({
      KAFKA_BROKERS: inject('kafkaBrokers'),
      SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
      HUB_HOST: '127.0.0.1',
      HUB_PORT: String(port),
      AUTH_DEV_ISSUER: 'true',
    }),
    components: ['api', 'projection'],
    groupPrefix,
    devIssuer: await DevIssuer.ephemeral(),
    adapters: [],
  });
  const started = hub.start();
  await expect(started).rejects.toBeInstanceOf(ConfigError);
  await expect(started).rejects.toThrow(
    new RegExp(`^HUB_PORT_TAKEN: 127\\.0\\.0\\.1:${port} is already in use .*; stop it or set HUB_PORT\\.$`),
  );
  const admin = testKafka().admin();
  await admin.connect();
  const { groups } = await admin.listGroups();
  await admin.disconnect();
  expect(groups.filter((g) => g.groupId.startsWith(groupPrefix))).toEqual([]);
  await hub.stop(2_000);
});

/**
 * One hub with every adapter, the SLV (Dynamics) and Helsedirektoratet stand-ins, on fresh topics; it can be
 * stopped and started again on the same topics and consumer groups (a restart).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { adapterCatalogue } from '../../adapters/catalogue.ts';
import { topics as declaredTopics } from '../../contracts/topics.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import type { Hub } from '../../core/hub/hub.ts';
import { createHub } from '../../bin/hub.ts';
import { type DynamicsEmulator, startDynamicsEmulator } from '../../deploy/emulators/dynamics/server.ts';
import { type HdirStandIn, startHdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { createTopics, deleteTopics, testKafka, uniqueName } from '../support/kafka.ts';

export const components = ['api', 'projection', ...adapterCatalogue.map((a) => a.name)];

export interface HostileBed {
  hub: Hub;
  url: string;
  issuer: DevIssuer;
  /** Physical topic names by declared name. */
  topics: Record<string, string>;
  slv: DynamicsEmulator;
  hdir: HdirStandIn;
  /** Stops the hub and starts a new one on the same topics, groups and state files. */
  restart: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startHostileBed(): Promise<HostileBed> {
  const kafka = testKafka();
  const topics = Object.fromEntries(declaredTopics.map((t) => [t.name, uniqueName(`test.${t.name}`)]));
  await createTopics(kafka, Object.values(topics), 3);
  const slv = await startDynamicsEmulator({
    clients: [{ clientId: 'metodehub-slv', clientSecret: 's3cret' }],
  });
  const hdir = await startHdirStandIn();
  const stateDir = await mkdtemp(join(tmpdir(), 'hostile-'));
  const env: Record<string, string> = {
    KAFKA_BROKERS: inject('kafkaBrokers'),
    SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    HUB_PORT: '0',
    AUTH_DEV_ISSUER: 'true',
    INGRESS_MAX_BODY_BYTES: '200000',
    JCA_MAX_BODY_BYTES: '200000',
    SLV_URL: slv.url,
    SLV_TOKEN_URL: slv.tokenUrl,
    SLV_CLIENT_ID: 'metodehub-slv',
    SLV_CLIENT_SECRET: 's3cret',
    SLV_POLL_INTERVAL_MS: '250',
    SLV_RETRY_BASE_MS: '50',
    SLV_RETRY_MAX_MS: '400',
    SLV_REQUEST_TIMEOUT_MS: '5000',
    HDIR_NOTIFY_URL: hdir.notifyUrl,
    HDIR_RETRY_BASE_MS: '100',
    HDIR_RETRY_MAX_MS: '400',
    FEST_SECRET_KEY: randomBytes(32).toString('base64'),
    FEST_PUSH_RETRY_BASE_MS: '50',
    FEST_PUSH_RETRY_MAX_MS: '300',
  };
  const issuer = await DevIssuer.ephemeral();
  const groupPrefix = uniqueName('test-hostile');
  const newHub = () =>
    createHub({
      config: loadConfig(env),
      components,
      topics,
      groupPrefix,
      devIssuer: issuer,
      env: { ...process.env, ...env },
      adapters: adapterCatalogue,
    });
  const bed: HostileBed = {
    hub: newHub(),
    url: '',
    issuer,
    topics,
    slv,
    hdir,
    restart: async () => {
      await stopConcurrently(bed.hub);
      bed.hub = newHub();
      await up();
    },
    close: async () => {
      await stopConcurrently(bed.hub);
      await slv.close();
      await hdir.close();
      const physical = Object.values(topics);
      await deleteTopics(kafka, [...physical, ...physical.map((t) => `${t}.dlq`)]);
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  const up = async () => {
    await bed.hub.start();
    await bed.hub.waitUntilReady(60_000);
    bed.url = bed.hub.url ?? '';
  };
  await up();
  return bed;
}

/**
 * Hub.stop, with the adapters stopped side by side: each kafkajs consumer takes seconds to leave its group,
 * and one after the other they would take over a minute.
 */
async function stopConcurrently(hub: Hub): Promise<void> {
  await hub.flowMonitor?.stop();
  await hub.server?.close();
  // As hub.stop does: the roles' groups are left first, so the next hub leads at once.
  await Promise.all([...hub.leaderships.values()].map((leadership) => leadership.stop()));
  await Promise.all([...hub.adapters.values()].map((adapter) => adapter.stop()));
  await Promise.all([hub.methodLog.close(), hub.projection?.stop()]);
  await hub.producer.disconnect();
}

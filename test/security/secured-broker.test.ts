/**
 * The hub on a secured broker, started by the project's own stack: SASL_SSL (SCRAM-SHA-512, TLS with a required
 * client certificate) and ACLs enforced by Kafka's StandardAuthorizer, deny by default. The ACLs come from the
 * components' declared flows. A decision posted to the API reaches the financing feed with the hub and financing
 * each as their own principal; an adapter run as a principal without its grants stays down and says so in health,
 * and a client without credentials is refused.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { financingAdapter } from '../../adapters/financing/adapter.ts';
import { decisionEvent, untilAwaitingDecision } from '../support/financingEvents.ts';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { aclsFor, applyAcls, hubAcls } from '../../core/bus/acls.ts';
import { createKafka, kafkaSecurity } from '../../core/bus/kafka.ts';
import { applyTopics } from '../../core/bus/topics.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import type { Hub } from '../../core/hub/hub.ts';
import { createHub } from '../../bin/hub.ts';
import { coreFlows } from '../../core/ops/flow.ts';
import {
  repoRoot,
  type StackOptions,
  type StackSecurity,
  securedClientSettings,
  securityOf,
  stackDown,
  stackUp,
} from '../../deploy/local/stack.ts';
import { eventually, readAll } from '../support/kafka.ts';

const PORTS = { kafka: 19410, controller: 19411 };
const brokers = `127.0.0.1:${PORTS.kafka}`;
const FEED = 'financing.drug-decisions.v1';

let options: StackOptions;
let security: StackSecurity;
let hub: Hub;
let token: string;

const clientFor = (user: string) =>
  createKafka([brokers], `test-${user}`, kafkaSecurity(loadConfig(securedClientSettings(security, user))));

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'metodehub-secured-'));
  const cache = resolve(join(repoRoot, '.stack', 'cache'));
  if (existsSync(cache)) symlinkSync(cache, join(dir, 'cache'));
  options = {
    dir,
    host: '127.0.0.1',
    kafkaPort: PORTS.kafka,
    controllerPort: PORTS.controller,
    registryPort: 0,
    startTimeoutSeconds: 180,
    say: () => undefined,
    secure: { users: ['metodehub', 'metodehub-financing'] },
    components: ['kafka'],
    kafkaSettings: ['offsets.topic.num.partitions=3', 'transaction.state.log.num.partitions=3'],
  };
  await stackUp(options);
  security = securityOf(options);
  const admin = clientFor('admin');
  await applyTopics(admin);
  const naming = { groupPrefix: 'metodehub', topic: (t: string) => t };
  await applyAcls(admin, [
    ...hubAcls('metodehub', coreFlows, naming),
    ...aclsFor({ name: 'financing', flow: financingAdapter.flow! }, 'metodehub-financing', naming),
  ]);
  const env = {
    ...securedClientSettings(security, 'metodehub'),
    KAFKA_BROKERS: brokers,
    SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    HUB_PORT: '0',
    AUTH_DEV_ISSUER: 'true',
    INGRESS_WRITE_TIMEOUT_MS: '20000',
    FINANCING_KAFKA_SASL_USERNAME: 'metodehub-financing',
    FINANCING_KAFKA_SASL_PASSWORD: security.passwords['metodehub-financing']!,
    // A misconfiguration an operator makes: hdir run as financing's principal, which has no grant on hdir's topics.
    HDIR_KAFKA_SASL_USERNAME: 'metodehub-financing',
    HDIR_KAFKA_SASL_PASSWORD: security.passwords['metodehub-financing']!,
  };
  const issuer = await DevIssuer.ephemeral();
  hub = createHub({
    config: loadConfig(env),
    components: ['api', 'projection', 'financing', 'hdir'],
    devIssuer: issuer,
    env: { ...process.env, ...env },
    adapters: [financingAdapter, hdirAdapter],
  });
  await hub.start();
  await hub.waitUntilReady(60_000);
  token = await hub.devToken();
}, 420_000);

afterAll(async () => {
  await hub?.stop();
  if (options) {
    await stackDown(options);
    rmSync(options.dir, { recursive: true, force: true });
  }
});

describe('on a SASL_SSL broker with ACLs from the declared flows', () => {
  it('carries a decision from the API to the financing feed, each component as its own principal', async () => {
    const methodId = 'ID2026_901';
    const events = [
      ...untilAwaitingDecision(methodId, { atcCodes: ['L01FF02'] }),
      decisionEvent(methodId, 30, 'INTRODUCED'),
    ];
    // As a client should: a 503 is resent (the first transaction of a fresh producer can outlast the write timeout).
    let answer: Response | undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      answer = await fetch(`${hub.url}/api/v1/case-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(events),
      });
      if (answer.status !== 503) break;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    expect(answer!.status, await answer!.clone().text()).toBeLessThan(300);
    const reader = clientFor('admin');
    await eventually(async () => {
      const records = await readAll(reader, FEED, 5_000);
      return records.some((r) => r.key?.toString() === methodId);
    }, 60_000);
  });

  it('keeps an adapter refused by the broker down, says which grant it lacks, and runs the rest', async () => {
    const health = await hub.health();
    expect(health.hdir?.ok).toBe(false);
    expect(health.hdir?.detail).toMatch(/^KAFKA_NOT_AUTHORIZED: principal "metodehub-financing" is refused /);
    expect(health.hdir?.detail).toMatch(/hdir|group|topic/);
    expect(health.hdir?.detail).toContain('npm run topics:acls');
    expect(health.financing?.ok).toBe(true);
    const ready = await fetch(`${hub.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('KAFKA_NOT_AUTHORIZED');
  });

  it('refuses the financing principal a topic its flow does not name', async () => {
    const financing = clientFor('metodehub-financing');
    const admin = financing.admin();
    await admin.connect();
    try {
      await expect(admin.fetchTopicOffsets('hdir.guideline-flags.v1')).rejects.toMatchObject({
        type: 'TOPIC_AUTHORIZATION_FAILED',
      });
      // Its own output it may describe.
      await expect(admin.fetchTopicOffsets(FEED)).resolves.toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
  });

  it('refuses a client without credentials', async () => {
    const plain = createKafka([brokers], 'test-plain', {
      ssl: { ca: readFileSync(security.caFile, 'utf8') },
    });
    const admin = plain.admin({ retry: { retries: 0 } });
    await expect(
      (async () => {
        await admin.connect();
        return admin.listTopics();
      })(),
    ).rejects.toThrow();
    await admin.disconnect().catch(() => undefined);
  });
});

/**
 * Nothing is lost while Helsedirektoratet is down, even across a restart: the hub stops with a notification
 * undelivered, a new hub (same consumer groups, same topics) restores the flags from the topic, does not
 * flag the method twice, and delivers the notification once Helsedirektoratet is back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { GuidelineFlag } from '../../contracts/generated/types.ts';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { loadConfig } from '../../core/config/spec.ts';
import type { Hub } from '../../core/hub/hub.ts';
import { createHub } from '../../bin/hub.ts';
import { startHdirStandIn, type HdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { deleteTopics, eventually, readAll, testBus, testKafka } from '../support/kafka.ts';

let h: TestHub;
let second: Hub | undefined;
let hdir: HdirStandIn;
const env = { HDIR_RETRY_BASE_MS: '100', HDIR_RETRY_MAX_MS: '300' };

beforeAll(async () => {
  hdir = await startHdirStandIn();
  h = await startTestHub(
    ['api', 'projection', 'hdir'],
    { ...env, HDIR_NOTIFY_URL: hdir.notifyUrl },
    { adapters: [hdirAdapter], topics: ['hdir.guideline-flags.v1'] },
  );
});
afterAll(async () => {
  await second?.stop();
  const physical = Object.values(h.topics);
  await deleteTopics(testKafka(), [...physical, ...physical.map((t) => `${t}.dlq`)]);
  await hdir?.close();
});

it('delivers after a restart what was not delivered before it, once', async () => {
  const id = 'ID2023_501';
  hdir.down();
  const r = await h.call('/api/v1/case-events', {
    method: 'POST',
    json: {
      eventId: randomUUID(),
      methodId: id,
      type: 'METHOD_REGISTERED',
      occurredAt: '2023-05-02T09:00:00.000Z',
      registered: {
        details: { name: 'Semaglutid', methodType: 'MEDICINE', atcCodes: ['A10BJ06'], guidelineFlags: [] },
      },
    },
  });
  expect(r.status).toBe(200);
  await eventually(() => hdir.attempts >= 2, 20_000, 'attempts while down');
  const groupPrefix = h.hub.context().group('x').slice(0, -2);
  await h.hub.stop();
  expect(hdir.received).toHaveLength(0);

  hdir.up();
  const configEnv = {
    KAFKA_BROKERS: inject('kafkaBrokers'),
    SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    HUB_PORT: '0',
    AUTH_DEV_ISSUER: 'true',
    ...env,
    HDIR_NOTIFY_URL: hdir.notifyUrl,
  };
  second = createHub({
    config: loadConfig(configEnv),
    components: ['projection', 'hdir'],
    topics: h.topics,
    groupPrefix,
    devIssuer: h.issuer,
    env: { ...process.env, ...configEnv },
    adapters: [hdirAdapter],
  });
  await second.start();
  await eventually(() => hdir.received.length === 1, 30_000, 'delivery after the restart');
  expect(hdir.received[0]!.body).toMatchObject({ flagId: `${id}/NFR-DIABETES`, change: 'FLAGGED' });

  const token = await second.devToken(['hdir:flags:read']);
  const answer = await fetch(`${second.url}/hdir/v1/flags/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(((await answer.json()) as { flags: GuidelineFlag[] }).flags.map((f) => f.guidelineId)).toEqual([
    'NFR-DIABETES',
  ]);
  const kafka = testKafka();
  const { registry } = testBus(kafka);
  const topic = h.topics['hdir.guideline-flags.v1']!;
  registry.alias(topic, 'hdir.guideline-flags.v1');
  const records = await readAll(kafka, topic);
  expect(records).toHaveLength(1);
  expect((await registry.decode<GuidelineFlag>(topic, records[0]!.value)).value.origin).toBe('RULE');
  expect(hdir.duplicates).toBe(0);
});

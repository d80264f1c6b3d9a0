/**
 * Issue 16: an adapter whose start failed with Kafka away (a broker SIGKILLed while the hub was starting) stayed
 * down until the hub was restarted, and the adapters after it never started. Now such a start is tried again
 * until it succeeds, health says why it is not running meanwhile, and the other adapters start regardless.
 */
import { inject, expect, it } from 'vitest';
import { transientCause } from '../../core/bus/errors.ts';
import { SnapshotTimeout } from '../../core/bus/topicSnapshot.ts';
import { loadConfig } from '../../core/config/spec.ts';
import type { AdapterDefinition, HubComponent } from '../../core/hub/component.ts';
import { createHub } from '../../bin/hub.ts';
import { testKafka, uniqueName } from '../support/kafka.ts';

const config = () =>
  loadConfig({
    KAFKA_BROKERS: inject('kafkaBrokers'),
    SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    AUTH_DEV_ISSUER: 'true',
  });

/** An adapter whose start reads the end of `topic` from Kafka, as every follower's start does. */
function reader(name: string, topic: string, starts: { count: number }): AdapterDefinition {
  return {
    name,
    description: `reads ${topic}`,
    settings: {},
    create: (context): HubComponent => ({
      async start() {
        starts.count++;
        const admin = context.kafka.admin({ retry: { retries: 0 } });
        await admin.connect();
        try {
          await admin.fetchTopicOffsets(topic);
        } finally {
          await admin.disconnect();
        }
      },
      async stop() {},
    }),
  };
}

it('tries an adapter whose start met a missing topic again until it starts, while the adapters after it run', async () => {
  const missing = uniqueName('test.start-retry');
  const present = uniqueName('test.start-present');
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: present, numPartitions: 1 }], waitForLeaders: true });
  // Under load the new topic's metadata can lag its creation: the test wants it readable before the hub starts.
  for (const until = Date.now() + 20_000; Date.now() < until; ) {
    if (
      await admin.fetchTopicOffsets(present).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const first = { count: 0 };
  const second = { count: 0 };
  const hub = createHub({
    config: config(),
    adapters: [reader('first', missing, first), reader('second', present, second)],
    components: ['first', 'second'],
    groupPrefix: uniqueName('test.start'),
  });
  try {
    await hub.start();
    const waiting = await hub.health();
    expect(waiting.first).toMatchObject({ ok: false });
    expect(waiting.first?.detail).toMatch(
      /^NOT_STARTED: start attempt 1 failed \(.+\); trying again in \d+ s$/,
    );
    expect(waiting.second).toEqual({ ok: true, detail: 'running' });
    expect(second.count).toBe(1);

    await admin.createTopics({ topics: [{ topic: missing, numPartitions: 1 }], waitForLeaders: true });
    const until = Date.now() + 30_000;
    while ((await hub.health()).first?.ok !== true && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect((await hub.health()).first).toEqual({ ok: true, detail: 'running' });
    expect(first.count).toBeGreaterThanOrEqual(2);
  } finally {
    await hub.stop();
    await admin.deleteTopics({ topics: [missing, present] }).catch(() => undefined);
    await admin.disconnect();
  }
}, 60_000);

it('still fails the start on an error not known to pass (a bug or a bad setting is not waited out)', async () => {
  const hub = createHub({
    config: config(),
    adapters: [
      {
        name: 'broken',
        description: 'fails at start',
        settings: {},
        create: () => ({
          async start() {
            throw new Error('BROKEN_SETTING: the file named by X does not exist');
          },
          async stop() {},
        }),
      },
    ],
    components: ['broken'],
    groupPrefix: uniqueName('test.start'),
  });
  await expect(hub.start()).rejects.toThrow('BROKEN_SETTING');
  await hub.stop();
});

it('keeps trying an adapter that first met Kafka away, whatever its later attempts meet, until it starts', async () => {
  const attempts: string[] = [];
  const failures = [
    () => new SnapshotTimeout('reading fest.vendor-webhooks.v1 took longer than 60000 ms'),
    () => new Error('STATE_UNREADABLE: fest.vendor-webhooks.v1 partition 0 offset 3 (key v): registry away'),
  ];
  const hub = createHub({
    config: config(),
    adapters: [
      {
        name: 'late',
        description: 'fails twice at start',
        settings: {},
        create: () => ({
          async start() {
            const failure = failures[attempts.length];
            attempts.push(failure ? 'failed' : 'started');
            if (failure) throw failure();
          },
          async stop() {},
        }),
      },
    ],
    components: ['late'],
    groupPrefix: uniqueName('test.start'),
  });
  try {
    await hub.start();
    expect(transientCause(new SnapshotTimeout('x'))).toBe('transient');
    const until = Date.now() + 30_000;
    while ((await hub.health()).late?.ok !== true && Date.now() < until)
      await new Promise((r) => setTimeout(r, 200));
    expect(attempts).toEqual(['failed', 'failed', 'started']);
    expect((await hub.health()).late).toEqual({ ok: true, detail: 'running' });
  } finally {
    await hub.stop();
  }
}, 60_000);

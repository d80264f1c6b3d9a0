/** A hub on fresh topics against the real stack, with a dev issuer, for integration tests. */
import { inject } from 'vitest';
import { loadConfig } from '../../core/config/spec.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import type { AdapterDefinition } from '../../core/hub/component.ts';
import type { ComponentName, Hub } from '../../core/hub/hub.ts';
import { createHub } from '../../bin/hub.ts';
import type { Clock } from '../../core/time/clock.ts';
import { createTopics, deleteTopics, testKafka, uniqueName } from './kafka.ts';

export interface TestHub {
  hub: Hub;
  url: string;
  token: string;
  issuer: DevIssuer;
  events: string;
  state: string;
  groupPrefix: string;
  /** Physical topic names by declared name. */
  topics: Record<string, string>;
  /** fetch against the hub with the full-scope token unless another is given. */
  call: (path: string, init?: RequestInit & { token?: string | null; json?: unknown }) => Promise<Response>;
  close: () => Promise<void>;
}

export interface TestHubOptions {
  /** Adapter definitions the hub may run (their names go in `components`). */
  adapters?: readonly AdapterDefinition[];
  /** More declared topics to give fresh physical names (the events and state topics always are). */
  topics?: string[];
  /** Run on the topics of an earlier hub (a restart) instead of fresh ones; close() then leaves them. */
  sameTopicsAs?: TestHub;
  /** With sameTopicsAs: also its consumer groups, as the same deployment started again would. */
  sameGroups?: boolean;
  /** Answer as soon as the API listens, before the read model has caught up (default: wait). */
  waitUntilReady?: boolean;
  /** The hub's clock (default the system clock): alerts and deadlines follow it. */
  clock?: Clock;
}

export async function startTestHub(
  components: ComponentName[] = ['api', 'projection'],
  env: Record<string, string> = {},
  options: TestHubOptions = {},
): Promise<TestHub> {
  const kafka = testKafka();
  const earlier = options.sameTopicsAs;
  const events = earlier?.events ?? uniqueName('test.method-events');
  const state = earlier?.state ?? uniqueName('test.method-state');
  const renamed: Record<string, string> = earlier
    ? { ...earlier.topics }
    : {
        'nyemetoder.method-events.v1': events,
        'nyemetoder.method-state.v1': state,
        // Adapters' state lives in Kafka: a fresh hub starts with none, a restart (sameTopicsAs) finds it.
        'slv.inbound-state.v1': uniqueName('test.slv-inbound-state'),
        'fest.vendor-webhooks.v1': uniqueName('test.fest-vendor-webhooks'),
      };
  if (!earlier) {
    for (const declared of options.topics ?? []) renamed[declared] = uniqueName(`test.${declared}`);
    await createTopics(kafka, Object.values(renamed), 3);
  }
  const config = loadConfig({
    KAFKA_BROKERS: inject('kafkaBrokers'),
    SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    HUB_PORT: '0',
    AUTH_DEV_ISSUER: 'true',
    INGRESS_MAX_BODY_BYTES: '200000',
    ...env,
  });
  const issuer = await DevIssuer.ephemeral();
  const groupPrefix = earlier && options.sameGroups ? earlier.groupPrefix : uniqueName('test');
  const hub = createHub({
    config,
    components,
    topics: renamed,
    groupPrefix,
    devIssuer: issuer,
    env: { ...process.env, ...env },
    adapters: options.adapters ?? [],
    clock: options.clock,
  });
  await hub.start();
  if (options.waitUntilReady !== false) await hub.waitUntilReady(60_000);
  const token = components.includes('api') ? await hub.devToken() : '';
  const url = hub.url ?? '';
  const call: TestHub['call'] = (path, init = {}) => {
    const { token: own, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    const bearer = own === undefined ? token : own;
    if (bearer) headers.set('authorization', `Bearer ${bearer}`);
    if (json !== undefined) headers.set('content-type', 'application/json');
    return fetch(`${url}${path}`, {
      ...rest,
      headers,
      body: json !== undefined ? JSON.stringify(json) : rest.body,
    });
  };
  return {
    hub,
    url,
    token,
    issuer,
    events,
    state,
    groupPrefix,
    topics: renamed,
    call,
    close: async () => {
      await hub.stop();
      if (earlier) return;
      const physical = Object.values(renamed);
      await deleteTopics(kafka, [...physical, ...physical.map((t) => `${t}.dlq`)]);
    },
  };
}

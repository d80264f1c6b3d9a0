/**
 * One record never stops a flow (issue reproductions): an event in the kept-forever log that no adapter
 * could carry (an instant in year 9999, written around the door) is dead-lettered by each consumer, and FEST,
 * financing and Helsedirektoratet go on, also after a restart; a confidential note that only repeats a public
 * value of the method stops neither the financing feed nor Helsedirektoratet's flag list.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { festAdapter } from '../../adapters/fest/adapter.ts';
import { financingAdapter } from '../../adapters/financing/adapter.ts';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { loadConfig } from '../../core/config/spec.ts';
import { createHub } from '../../bin/hub.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { startHdirStandIn, type HdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { decisionOf, medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { testBus, testKafka, uniqueName } from '../support/kafka.ts';

let h: TestHub;
let hdir: HdirStandIn;
let dir: string;
const env = () => ({
  HDIR_NOTIFY_URL: hdir.notifyUrl,
  HDIR_RETRY_BASE_MS: '100',
  HDIR_RETRY_MAX_MS: '300',
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'one-record-'));
  hdir = await startHdirStandIn();
  h = await startTestHub(['api', 'projection', 'fest', 'financing', 'hdir'], env(), {
    adapters: [festAdapter, financingAdapter, hdirAdapter],
    topics: ['fest.vilkar.v1', 'financing.drug-decisions.v1', 'hdir.guideline-flags.v1'],
  });
}, 240_000);
afterAll(async () => {
  await h?.close();
  await hdir?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
const today = () => new Date().toISOString().slice(0, 10);

/** Registered, assessed and introduced, in the order the state machine wants. */
function introduced(methodId: string, details = medicineDetails({ guidelineFlags: ['HP-LUNGE'] })) {
  const e = (type: Exclude<MethodEvent['type'], 'UNKNOWN'>, minutesAgo: number, detail: object) =>
    methodEvent(type, methodId, detail as never, { occurredAt: at(minutesAgo) });
  return [
    e('METHOD_REGISTERED', 60, { details }),
    e('STATUS_CHANGED', 50, { from: null, to: 'AWAITING_ORDERING', reason: null }),
    e('ASSIGNMENT_ORDERED', 40, {
      assignee: 'SLV',
      slvTrack: 'C',
      fhiProduct: null,
      orderedOn: today(),
      deadline: null,
    }),
    e('ASSESSMENT_STARTED', 30, { startedOn: today(), assessor: null }),
    e('ASSESSMENT_DELIVERED', 20, { deliveredOn: today(), reportUrl: null, simplified: false }),
    e('STATUS_CHANGED', 15, { from: null, to: 'ASSESSMENT_COMPLETED', reason: null }),
    e('STATUS_CHANGED', 12, { from: null, to: 'AWAITING_DECISION', reason: null }),
    e('DECISION_MADE', 10, decisionOf('INTRODUCED', today())),
  ];
}

async function post(events: MethodEvent[]): Promise<void> {
  const r = await h.call('/api/v1/case-events', { method: 'POST', json: events });
  expect(r.status, await r.clone().text()).toBe(200);
}

const extract = async (hub: { call: TestHub['call'] } = h) =>
  hub.call('/fest/v1/vilkar', { token: await h.hub.devToken(['fest:vilkar:read']) });

describe('one record in the log that no adapter could carry', () => {
  it('is dead-lettered, and a later decision reaches FEST, financing and Helsedirektoratet; so after a restart', async () => {
    // Written straight to Kafka, around the door and our producer, as any other writer could.
    const kafka = testKafka();
    const { registry } = testBus(kafka);
    registry.alias(h.events, 'nyemetoder.method-events.v1');
    const poison = methodEvent(
      'METHOD_REGISTERED',
      'ID2026_901',
      { details: medicineDetails() },
      {
        occurredAt: '9999-12-31T23:59:59.000Z',
      },
    );
    const framed = Buffer.concat([Buffer.alloc(5), registry.contractOf(h.events).type.toBuffer(poison)]);
    framed.writeInt32BE(await registry.idFor(h.events), 1);
    const raw = kafka.producer();
    await raw.connect();
    await raw.send({ topic: h.events, messages: [{ key: poison.methodId, value: framed }] });
    await raw.disconnect();

    await post(introduced('ID2026_902'));
    await expect
      .poll(async () => (await (await extract()).text()).includes('ID2026_902'), { timeout: 30_000 })
      .toBe(true);
    expect(await (await extract()).text()).not.toContain('ID2026_901');
    const feed = async () =>
      (await (
        await h.call(`/financing/v1/decisions?from=${today()}&to=${today()}`, {
          token: await h.hub.devToken(['nyemetoder:financing:read']),
        })
      ).json()) as { decisions: { methodId: string }[] };
    await expect
      .poll(async () => (await feed()).decisions.some((d) => d.methodId === 'ID2026_902'), {
        timeout: 30_000,
      })
      .toBe(true);
    await expect
      .poll(() => hdir.received.some((n) => JSON.stringify(n.body).includes('ID2026_902')), {
        timeout: 30_000,
      })
      .toBe(true);

    // Each consumer that refused it says so, naming the field.
    await expect
      .poll(
        async () => {
          const list = (await (await h.call('/ops/api/dead-letters')).json()) as {
            entries: { reason: string; errorClass: string }[];
          };
          return list.entries.filter(
            (e) => e.errorClass === 'CONTRACT_VIOLATION' && /occurredAt 9999/.test(e.reason),
          ).length;
        },
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0);

    // A hub started again on the same log serves the extract, and has not the poison in it.
    const second = createHub({
      config: loadConfig({
        KAFKA_BROKERS: inject('kafkaBrokers'),
        SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
        HUB_PORT: '0',
        AUTH_DEV_ISSUER: 'true',
        ...env(),
      }),
      components: ['fest'],
      topics: h.topics,
      groupPrefix: uniqueName('test'),
      devIssuer: h.issuer,
      env: { ...process.env, ...env() },
      adapters: [festAdapter],
    });
    try {
      await second.start();
      const call: TestHub['call'] = (path, init = {}) =>
        fetch(`${second.url}${path}`, { headers: { authorization: `Bearer ${init.token}` } });
      await expect.poll(async () => (await extract({ call })).status, { timeout: 30_000 }).toBe(200);
      const text = await (await extract({ call })).text();
      expect(text).toContain('ID2026_902');
      expect(text).not.toContain('ID2026_901');
    } finally {
      await second.stop();
    }
  });
});

describe('a confidential note that only repeats a public value of the method', () => {
  it('stops neither the financing feed nor the flag list of a reader without the confidential scope', async () => {
    const details = medicineDetails({ guidelineFlags: ['HP-LUNGE'] });
    const life = introduced('ID2026_903', details);
    await post(life);
    // After the decision, a correction whose note repeats the substance (financing carries the substance), then
    // one whose note repeats the name (Helsedirektoratet's flag view carries the name).
    const echo = (note: string, minutesAgo: number) =>
      methodEvent(
        'DETAILS_CHANGED',
        'ID2026_903',
        { details: { ...details, hPrescription: true, supplierConfidentialNote: note } },
        { occurredAt: at(minutesAgo), eventId: randomUUID() },
      );
    await post([echo(details.substances[0]!, 5), echo(details.name, 4)]);
    const feed = async () =>
      (await (
        await h.call(`/financing/v1/decisions?from=${today()}&to=${today()}`, {
          token: await h.hub.devToken(['nyemetoder:financing:read']),
        })
      ).json()) as { decisions: { methodId: string; hPrescription: boolean | null }[] };
    await expect
      .poll(
        async () =>
          (await feed()).decisions.some((d) => d.methodId === 'ID2026_903' && d.hPrescription === true),
        {
          timeout: 30_000,
        },
      )
      .toBe(true);
    const ready = (await (await h.call('/readyz')).json()) as { adapters: Record<string, { ok: boolean }> };
    expect(ready.adapters.financing?.ok).toBe(true);

    const reader = await h.hub.devToken(['hdir:flags:read']);
    const flags = await h.call('/hdir/v1/flags?methodId=ID2026_903', { token: reader });
    expect(flags.status, await flags.clone().text()).toBe(200);
    expect(((await flags.json()) as { flags: unknown[] }).flags.length).toBeGreaterThan(0);
  });
});

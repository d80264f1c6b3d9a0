/**
 * Subscriptions against a real SMTP server (aiosmtpd on loopback), a webhook receiver on loopback and the real
 * Kafka and registry: one message per change, a digest for a busy subscriber, nothing confidential, a webhook
 * signature that verifies, the unsubscribe link, and nothing sent twice after a resend or a restart.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MethodState } from '../../contracts/generated/types.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../../test/support/hub.ts';
import {
  deleteTopics,
  eventually,
  produceMethodEvents,
  readAll,
  testBus,
  testKafka,
} from '../../test/support/kafka.ts';
import { type SmtpSink, startSmtpSink } from '../../deploy/emulators/smtp.ts';
import { subscriptionsAdapter } from './adapter.ts';
import { webhookSignatureOf } from './mapping.ts';

const SECRET_NOTE = 'Leverandøren tilbyr 38 % rabatt på listepris til og med 2027';
const topics = ['subscriptions.subscriptions.v1', 'subscriptions.deliveries.v1'];
let smtp: SmtpSink;
let hooks: Server;
let hookUrl = '';
const hookCalls: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
let h: TestHub;
let second: TestHub | undefined;
const env = (port: number) => ({
  SMTP_HOST: '127.0.0.1',
  SMTP_PORT: String(port),
  SMTP_TLS: 'false',
  SUBSCRIPTIONS_SIGNING_KEY: 'test-signing-key',
  SUBSCRIPTIONS_PUBLIC_URL: 'https://metodehub.example.no',
  SUBSCRIPTIONS_DIGEST_CHECK_MS: '250',
  SUBSCRIPTIONS_RETRY_BASE_MS: '100',
  SUBSCRIPTIONS_RETRY_MAX_MS: '300',
  OUTBOUND_ALLOW_HTTP: 'true',
  OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
});

beforeAll(async () => {
  smtp = await startSmtpSink();
  hooks = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    request.on('end', () => {
      hookCalls.push({ headers: request.headers, body });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/nye-metoder`;
  h = await startTestHub(['api', 'projection', 'subscriptions'], env(smtp.port), {
    adapters: [subscriptionsAdapter],
    topics,
  });
}, 400_000);

afterAll(async () => {
  await second?.hub.stop();
  await h?.hub.stop().catch(() => undefined);
  if (h) {
    const physical = Object.values(h.topics);
    await deleteTopics(testKafka(), [...physical, ...physical.map((t) => `${t}.dlq`)]);
  }
  await smtp?.close();
  await new Promise((r) => hooks?.close(r));
});

const subscribe = async (call: TestHub['call'], body: unknown) => {
  const r = await call('/subscriptions/v1/subscriptions', { method: 'POST', json: body });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as { subscriptionId: string; unsubscribeUrl: string; webhookSecret?: string };
};
const mailTo = async (address: string) => (await smtp.messages()).filter((m) => m.rcptTos.includes(address));

describe('subscriptions', () => {
  it('tells each subscriber once per change, by e-mail and signed webhook, and a digest for the busy one', async () => {
    const id = 'ID2024_611';
    const perChange = await subscribe(h.call, {
      topic: { kind: 'METHOD', value: id },
      email: 'kari.nordmann@helse-vest.no',
    });
    const hook = await subscribe(h.call, {
      topic: { kind: 'ATC_GROUP', value: 'l01f' },
      webhookUrl: hookUrl,
    });
    await subscribe(h.call, {
      topic: { kind: 'SPECIALTY', value: 'Onkologi' },
      email: 'travel.fagdirektor@helse-nord.no',
      digestEveryMinutes: 1,
    });
    await subscribe(h.call, {
      topic: { kind: 'SPECIALTY', value: 'Kardiologi' },
      email: 'ingen@helse-sor-ost.no',
    });
    const listed = await (await h.call('/subscriptions/v1/subscriptions')).json();
    expect((listed as { subscriptions: unknown[] }).subscriptions).toHaveLength(4);

    const now = Date.now();
    const registered = methodEvent(
      'METHOD_REGISTERED',
      id,
      { details: medicineDetails({ supplierConfidentialNote: SECRET_NOTE }) },
      { occurredAt: new Date(now).toISOString() },
    );
    const changed = methodEvent(
      'DETAILS_CHANGED',
      id,
      {
        details: medicineDetails({
          name: 'Pembrolizumab til behandling av blærekreft, ny indikasjon',
          supplierConfidentialNote: SECRET_NOTE,
        }),
      },
      { occurredAt: new Date(now + 1).toISOString() },
    );
    // One at a time, as the case system writes them: the projection may fold a burst into one state record.
    await produceMethodEvents(h.events, [registered]);
    await eventually(
      async () => (await mailTo('kari.nordmann@helse-vest.no')).length === 1,
      30_000,
      'one e-mail',
    );
    await produceMethodEvents(h.events, [changed]);

    await eventually(
      async () => (await mailTo('kari.nordmann@helse-vest.no')).length === 2,
      30_000,
      'two e-mails',
    );
    await eventually(() => hookCalls.length === 2, 30_000, 'two webhook calls');
    const mails = await mailTo('kari.nordmann@helse-vest.no');
    expect(mails.map((m) => m.subject)).toEqual([
      `Nye metoder: ${id} Pembrolizumab til behandling av blærekreft er nå PROPOSAL_RECEIVED`,
      `Nye metoder: ${id} Pembrolizumab til behandling av blærekreft, ny indikasjon er nå PROPOSAL_RECEIVED`,
    ]);
    for (const mail of mails) {
      expect(mail.text).not.toContain(SECRET_NOTE);
      expect(JSON.stringify(mail.headers)).not.toContain(SECRET_NOTE);
      expect(mail.text).toContain(perChange.unsubscribeUrl);
      expect(mail.headers['list-unsubscribe']).toContain('/subscriptions/v1/unsubscribe?token=');
    }
    for (const call of hookCalls) {
      expect(call.body).not.toContain(SECRET_NOTE);
      expect(call.headers['x-metodehub-signature']).toBe(webhookSignatureOf(hook.webhookSecret!, call.body));
      expect(JSON.parse(call.body)).toMatchObject({
        subscriptionId: hook.subscriptionId,
        digest: false,
        changes: [{ methodId: id }],
      });
    }
    expect(await mailTo('ingen@helse-sor-ost.no')).toHaveLength(0);

    // A resend: the same state record again (a redelivery or a redrive) tells no one again.
    const [latest] = (await readAll(testKafka(), h.state)).slice(-1);
    const { registry, producer } = testBus(testKafka());
    registry.alias(h.state, 'nyemetoder.method-state.v1');
    const state = (await registry.decode<MethodState>(h.state, latest!.value)).value;
    await producer.send(
      'nyemetoder.method-state.v1',
      [{ key: id, value: state, headers: newHeaders({ source: 'test', type: 'resend' }) }],
      { to: h.state },
    );
    await producer.disconnect();

    // The digest: one message with both changes, once its minute has passed.
    await eventually(
      async () => (await mailTo('travel.fagdirektor@helse-nord.no')).length === 1,
      90_000,
      'the digest',
    );
    const [digest] = await mailTo('travel.fagdirektor@helse-nord.no');
    expect(digest!.subject).toBe('Nye metoder: 2 endring(er) for fagområde Onkologi');
    expect(digest!.text.match(new RegExp(id, 'g'))?.length).toBeGreaterThanOrEqual(2);
    expect(digest!.text).not.toContain(SECRET_NOTE);

    await new Promise((r) => setTimeout(r, 1_500));
    expect(await mailTo('kari.nordmann@helse-vest.no')).toHaveLength(2);
    expect(hookCalls).toHaveLength(2);
    expect(await mailTo('travel.fagdirektor@helse-nord.no')).toHaveLength(1);

    // A restart on new consumer groups reads every change again: the ledger on Kafka sends none twice.
    await h.hub.stop();
    second = await startTestHub(['api', 'projection', 'subscriptions'], env(smtp.port), {
      adapters: [subscriptionsAdapter],
      sameTopicsAs: h,
    });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await mailTo('kari.nordmann@helse-vest.no')).toHaveLength(2);
    expect(hookCalls).toHaveLength(2);
    expect(await mailTo('travel.fagdirektor@helse-nord.no')).toHaveLength(1);

    // The link in the message ends the subscription with no login; later changes are not told.
    const link = new URL(perChange.unsubscribeUrl);
    const bad = await second.call(`${link.pathname}?token=${perChange.subscriptionId}.forged`, {
      token: null,
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('INVALID_TOKEN');
    const ok = await second.call(`${link.pathname}${link.search}`, { token: null });
    expect(ok.status).toBe(200);
    const left = (await (await second.call('/subscriptions/v1/subscriptions')).json()) as {
      subscriptions: { subscriptionId: string }[];
    };
    expect(left.subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId)).not.toContain(
      perChange.subscriptionId,
    );
    await produceMethodEvents(second.events, [
      methodEvent(
        'DETAILS_CHANGED',
        id,
        { details: medicineDetails({ name: 'Pembrolizumab, tredje tekst' }) },
        { occurredAt: new Date().toISOString() },
      ),
    ]);
    await eventually(() => hookCalls.length === 3, 30_000, 'the third webhook call');
    expect(await mailTo('kari.nordmann@helse-vest.no')).toHaveLength(2);
  }, 240_000);

  it('refuses a webhook to a private address and a subscription without a channel, naming the field', async () => {
    const call = second?.call ?? h.call;
    const privateHook = await call('/subscriptions/v1/subscriptions', {
      method: 'POST',
      json: { topic: { kind: 'METHOD', value: 'ID2024_612' }, webhookUrl: 'http://10.0.0.5/hook' },
    });
    expect(privateHook.status).toBe(400);
    expect(((await privateHook.json()) as { detail: string }).detail).toMatch(
      /webhookUrl host 10\.0\.0\.5 is not a public address/,
    );
    const none = await call('/subscriptions/v1/subscriptions', {
      method: 'POST',
      json: { topic: { kind: 'ATC_GROUP', value: 'L01X9' }, email: 'a@b.no' },
    });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { detail: string }).detail).toMatch(/^topic\.value/);
    const anonymous = await call('/subscriptions/v1/subscriptions', { token: null });
    expect(anonymous.status).toBe(401);
  });
});

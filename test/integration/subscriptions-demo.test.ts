/**
 * The demo's subscribers against a real SMTP server (aiosmtpd on loopback) and the real Kafka and registry: the
 * subscriptions `npm start` makes, then a demo method's history replayed through the API. What happened before
 * the subscription tells no one; the demo's next planned change, brought forward to now, sends the oncology
 * subscriber an e-mail about it, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionsAdapter } from '../../adapters/subscriptions/adapter.ts';
import { replay } from '../../core/cli/simulate.ts';
import { demoHistory } from '../../core/demo/history.ts';
import { DEMO_SUBSCRIPTIONS, nextDemoChange, subscribeDemo } from '../../core/demo/subscriptions.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { deleteTopics, eventually, testKafka } from '../support/kafka.ts';
import { type SmtpSink, startSmtpSink } from '../../deploy/emulators/smtp.ts';

let smtp: SmtpSink;
let h: TestHub;
const oncology = DEMO_SUBSCRIPTIONS.find(
  (s) => s.topic.kind === 'SPECIALTY' && s.topic.value === 'Onkologi',
)!;

beforeAll(async () => {
  smtp = await startSmtpSink();
  h = await startTestHub(
    ['api', 'projection', 'subscriptions'],
    {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_TLS: 'false',
      SUBSCRIPTIONS_SIGNING_KEY: 'demo-test-signing-key',
      SUBSCRIPTIONS_RETRY_BASE_MS: '100',
      SUBSCRIPTIONS_RETRY_MAX_MS: '300',
    },
    {
      adapters: [subscriptionsAdapter],
      topics: ['subscriptions.subscriptions.v1', 'subscriptions.deliveries.v1'],
    },
  );
}, 400_000);

afterAll(async () => {
  await h?.hub.stop().catch(() => undefined);
  if (h) {
    const physical = Object.values(h.topics);
    await deleteTopics(testKafka(), [...physical, ...physical.map((t) => `${t}.dlq`)]);
  }
  await smtp?.close();
});

describe('the demo with subscriptions', () => {
  it('holds subscribers, and one receives an e-mail for a demo method change after it subscribed', async () => {
    expect(await subscribeDemo(h.url, h.token)).toBe(DEMO_SUBSCRIPTIONS.length);
    expect(await subscribeDemo(h.url, h.token)).toBe(0); // a second npm start adds none
    const subscribedAt = new Date();
    // The demo's next planned oncology change, brought forward to now; the method's past goes in first.
    const next = nextDemoChange(oncology, subscribedAt);
    expect(next, 'the demo plans a change to an oncology method').toBeDefined();
    const past = demoHistory({ until: subscribedAt.toISOString() }).filter(
      (e) => e.methodId === next!.methodId,
    );
    const target = { url: h.url, token: h.token };
    expect((await replay({ target, events: past, rate: 0, batchSize: 250, progress: false })).applied).toBe(
      past.length,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const mailsTo = async () => (await smtp.messages()).filter((m) => m.rcptTos.includes(oncology.email));
    expect(await mailsTo(), 'changes from before the subscription tell no one').toHaveLength(0);

    expect(
      (await replay({ target, events: [next!], rate: 0, batchSize: 250, progress: false })).applied,
    ).toBe(1);
    await eventually(async () => (await mailsTo()).length === 1, 30_000, 'the e-mail for the next change');
    const [mail] = await mailsTo();
    expect(mail!.subject).toContain(next!.methodId);
    expect(mail!.text).toContain('/subscriptions/v1/unsubscribe?token=');
    expect(mail!.headers['list-unsubscribe']).toBeDefined();
    // Brought forward again (a second npm start): the same event id, applied once, no second e-mail.
    expect(
      (await replay({ target, events: [next!], rate: 0, batchSize: 250, progress: false })).duplicate,
    ).toBe(1);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await mailsTo()).toHaveLength(1);
  });
});

/**
 * The subscriptions adapter's settings, declared once; read with `loadSettings(subscriptionSettings, env)`.
 * The README's table is this declaration (`npx metodehub config --markdown`).
 */
import { flag, port, positive, type Setting, text, url } from '../../core/config/spec.ts';

export const subscriptionSettings = {
  SMTP_HOST: {
    description:
      'SMTP server the change e-mails are handed to. Empty: e-mail subscriptions wait until it is set.',
    default: '',
    parse: text,
  },
  SMTP_PORT: { description: 'Port of the SMTP server.', default: 587, parse: port },
  SMTP_FROM: {
    description: 'The From address of change e-mails.',
    default: 'Nye metoder <varsel@nyemetoder.no>',
    parse: text,
  },
  SMTP_TLS: {
    description:
      'TLS to the SMTP server: implicit TLS when SMTP_PORT is 465, else STARTTLS is required. false: plain SMTP (a server on loopback in development and tests only).',
    default: true,
    parse: flag,
  },
  SMTP_USER: { description: 'SMTP user name; empty sends without authentication.', default: '', parse: text },
  SMTP_PASSWORD: { description: 'SMTP password for SMTP_USER.', default: '', parse: text },
  SMTP_TIMEOUT_MS: {
    description:
      'How long handing one e-mail to the SMTP server may take before it counts as failed and is retried.',
    default: 15_000,
    parse: positive,
  },
  SUBSCRIPTIONS_PUBLIC_URL: {
    description:
      "The hub's address as subscribers reach it, for the unsubscribe link in each message (no login needed).",
    default: 'http://127.0.0.1:8080',
    parse: url,
  },
  SUBSCRIPTIONS_SIGNING_KEY: {
    description:
      'Secret that signs unsubscribe tokens and from which each webhook subscription secret is derived. Empty: a random key for this process only (links and webhook secrets stop working at restart).',
    default: '',
    parse: text,
  },
  SUBSCRIPTIONS_WRITE_SCOPE: {
    description: 'Scope a token needs to create, list and delete its subscriptions.',
    default: 'nyemetoder:subscriptions:write',
    parse: text,
  },
  SUBSCRIPTIONS_DIGEST_CHECK_MS: {
    description: 'How often digests whose period has passed are looked for and sent.',
    default: 60_000,
    parse: positive,
  },
  SUBSCRIPTIONS_WEBHOOK_TIMEOUT_MS: {
    description: 'How long one webhook POST may take before it counts as failed and is retried.',
    default: 10_000,
    parse: positive,
  },
  SUBSCRIPTIONS_RETRY_BASE_MS: {
    description:
      'First wait before a failed e-mail or webhook is tried again; doubles each time, with jitter.',
    default: 1_000,
    parse: positive,
  },
  SUBSCRIPTIONS_RETRY_MAX_MS: {
    description: 'Longest wait between attempts while the SMTP server or a webhook is down.',
    default: 60_000,
    parse: positive,
  },
} satisfies Record<string, Setting<unknown>>;

export type SubscriptionSettings = {
  [K in keyof typeof subscriptionSettings]: (typeof subscriptionSettings)[K]['default'];
};

/**
 * Pure functions of the subscriptions adapter: which subscriptions a method change concerns, what a subscriber
 * is told (public facts only: the message is built from a whitelist and checked by the trust-boundary guard),
 * the signed unsubscribe token and the webhook secret and signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MethodState, Subscription, SubscriptionDelivery } from '../../contracts/generated/types.ts';

/** Whether a change of `state` concerns the subscription: its topic matches and it came after subscribing. */
export function concerns(subscription: Subscription, state: MethodState): boolean {
  if (!subscription.active || state.updatedAt < subscription.createdAt) return false;
  const value = subscription.topicValue;
  switch (subscription.topicKind) {
    case 'METHOD':
      return state.methodId === value;
    case 'SPECIALTY':
      return (state.details.specialty ?? '').toLocaleLowerCase('nb') === value.toLocaleLowerCase('nb');
    case 'ATC_GROUP':
      return state.details.atcCodes.some((code) => code.toUpperCase().startsWith(value.toUpperCase()));
  }
}

/** The change a subscriber is told of: what the method is now, never a confidential field. */
export interface ChangeNotice {
  changeId: string;
  methodId: string;
  methodName: string | null;
  status: string;
  methodVersion: number;
  changedAt: string;
  specialty: string | null;
  atcCodes: string[];
  decision: { outcome: string; decidedOn: string; reassessBy: string | null } | null;
}

export function noticeOf(state: MethodState): ChangeNotice {
  return {
    changeId: state.lastEventId,
    methodId: state.methodId,
    methodName: state.details.name,
    status: state.status,
    methodVersion: state.version,
    changedAt: state.updatedAt,
    specialty: state.details.specialty,
    atcCodes: [...state.details.atcCodes],
    decision: state.decision
      ? {
          outcome: state.decision.outcome,
          decidedOn: state.decision.decidedOn,
          reassessBy: state.decision.temporaryIntroduction?.reassessBy ?? null,
        }
      : null,
  };
}

/** A notice as the deliveries topic keeps it for a digest. */
export function noticeOfDelivery(d: SubscriptionDelivery): ChangeNotice {
  return {
    changeId: d.changeId,
    methodId: d.methodId,
    methodName: d.methodName,
    status: d.status,
    methodVersion: d.methodVersion,
    changedAt: d.changedAt,
    specialty: null,
    atcCodes: [],
    decision: null,
  };
}

export const deliveryKeyOf = (subscriptionId: string, changeId: string): string =>
  `${subscriptionId}/${changeId}`;

export const topicLabel = (s: Pick<Subscription, 'topicKind' | 'topicValue'>): string =>
  s.topicKind === 'METHOD'
    ? `metode ${s.topicValue}`
    : s.topicKind === 'SPECIALTY'
      ? `fagområde ${s.topicValue}`
      : `ATC-gruppe ${s.topicValue}`;

const lineOf = (n: ChangeNotice): string =>
  `${n.methodId} ${n.methodName ?? ''}: status ${n.status} (versjon ${n.methodVersion}, endret ${n.changedAt})` +
  (n.decision
    ? `; beslutning ${n.decision.outcome} ${n.decision.decidedOn}${n.decision.reassessBy ? `, revurderes innen ${n.decision.reassessBy}` : ''}`
    : '');

export interface EmailMessage {
  subject: string;
  text: string;
  messageId: string;
}

/** One e-mail: one change, or a digest of several; Message-ID is fixed by what it carries, so receivers can dedupe too. */
export function emailOf(
  subscription: Subscription,
  notices: ChangeNotice[],
  links: { unsubscribe: string; methods: string },
  messageKey: string,
): EmailMessage {
  const digest = subscription.digestEveryMinutes !== null;
  const first = notices[0]!;
  const subject = digest
    ? `Nye metoder: ${notices.length} endring(er) for ${topicLabel(subscription)}`
    : `Nye metoder: ${first.methodId} ${first.methodName ?? ''} er nå ${first.status}`.trim();
  const text = [
    digest
      ? `Endringer for ${topicLabel(subscription)} (Changes for your subscription):`
      : `Endring for ${topicLabel(subscription)} (A change for your subscription):`,
    '',
    ...notices.map((n) => `- ${lineOf(n)}\n  ${links.methods}/${n.methodId}`),
    '',
    `Avslutt abonnementet (unsubscribe): ${links.unsubscribe}`,
    '',
  ].join('\n');
  return { subject, text, messageId: `<${messageKey.replace(/[^A-Za-z0-9._-]/g, '.')}@metodehub>` };
}

/** The webhook body: one change or a digest, as JSON. */
export function webhookBodyOf(
  subscription: Subscription,
  notices: ChangeNotice[],
  links: { unsubscribe: string },
  deliveryId: string,
): string {
  return JSON.stringify({
    deliveryId,
    subscriptionId: subscription.subscriptionId,
    topic: { kind: subscription.topicKind, value: subscription.topicValue },
    digest: subscription.digestEveryMinutes !== null,
    changes: notices,
    unsubscribeUrl: links.unsubscribe,
  });
}

const hmac = (key: string, text: string) => createHmac('sha256', key).update(text, 'utf8');

/** `<subscriptionId>.<signature>`: anyone holding the link may end that one subscription, nothing else. */
export const unsubscribeTokenOf = (key: string, subscriptionId: string): string =>
  `${subscriptionId}.${hmac(key, `unsubscribe:${subscriptionId}`).digest('base64url')}`;

/** The subscription an unsubscribe token names, or why it is refused. */
export function verifyUnsubscribeToken(
  key: string,
  token: string,
): { ok: true; subscriptionId: string } | { ok: false; reason: string } {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return { ok: false, reason: 'token is not <subscriptionId>.<signature>' };
  const subscriptionId = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(unsubscribeTokenOf(key, subscriptionId).slice(dot + 1));
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'token signature does not match: use the link from a message as it is' };
  return { ok: true, subscriptionId };
}

/** A webhook subscription's HMAC secret: derived, so no secret is stored on a topic. */
export const webhookSecretOf = (key: string, subscriptionId: string): string =>
  hmac(key, `webhook:${subscriptionId}`).digest('hex');

/** The signature header, as the FEST vendor webhooks sign: `sha256=<hex HMAC of the body>`. */
export const webhookSignatureOf = (secret: string, body: string): string =>
  `sha256=${hmac(secret, body).digest('hex')}`;

/**
 * The demo's subscribers (abonnement, 003:467): kept apart from the generated history so the history stays a
 * pure function of its seed. A subscriber is told only of changes after it subscribed, so the demo's e-mail
 * comes from the change the history plans next, brought forward to now (`nextDemoChange`).
 */
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { type DemoOptions, demoHistory } from './history.ts';

export interface DemoSubscription {
  topic: { kind: 'METHOD' | 'SPECIALTY' | 'ATC_GROUP'; value: string };
  email: string;
  digestEveryMinutes?: number;
}

/** Addresses under .example (RFC 2606): nothing here can reach a real mailbox. */
export const DEMO_SUBSCRIPTIONS: readonly DemoSubscription[] = [
  { topic: { kind: 'SPECIALTY', value: 'Onkologi' }, email: 'fagdirektor.onkologi@helse-vest.example' },
  {
    topic: { kind: 'ATC_GROUP', value: 'L01' },
    email: 'legemiddelkomiteen@helse-nord.example',
    digestEveryMinutes: 60,
  },
];

/**
 * The demo's next planned change to a method the subscription covers, brought forward to `now`: the hub takes
 * no event dated more than a day ahead, and a subscriber is told only of changes after it subscribed. The event
 * keeps its id, so bringing it forward twice (or replaying the demo later) applies it once.
 */
export function nextDemoChange(
  subscription: DemoSubscription,
  now: Date = new Date(),
  options: Omit<DemoOptions, 'until'> = {},
): MethodEvent | undefined {
  const from = now.toISOString();
  const planned = demoHistory({
    ...options,
    until: new Date(now.getTime() + 3 * 365 * 86_400_000).toISOString(),
  });
  const details = new Map<string, { specialty: string | null; atcCodes: string[] }>();
  for (const e of planned) {
    const d = e.registered?.details ?? e.detailsChanged?.details;
    if (d && e.occurredAt <= from) details.set(e.methodId, { specialty: d.specialty, atcCodes: d.atcCodes });
  }
  const { kind, value } = subscription.topic;
  const covers = (methodId: string): boolean => {
    const d = details.get(methodId);
    if (kind === 'METHOD') return methodId === value;
    if (kind === 'SPECIALTY') return d?.specialty === value;
    return d?.atcCodes.some((code) => code.startsWith(value.toUpperCase())) ?? false;
  };
  const next = planned.find((e) => e.occurredAt > from && covers(e.methodId));
  return next && { ...next, occurredAt: from };
}

interface Listed {
  subscriptions: { topicKind: string; topicValue: string; email: string | null }[];
}

/**
 * Subscribes the demo's subscribers through the hub's API, once: a subscriber that is already there (an
 * earlier `npm start`) is left as it is. Answers how many were added.
 */
export async function subscribeDemo(
  hubUrl: string,
  token: string,
  subscriptions: readonly DemoSubscription[] = DEMO_SUBSCRIPTIONS,
): Promise<number> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const url = `${hubUrl}/subscriptions/v1/subscriptions`;
  const listed = await fetch(url, { headers });
  if (!listed.ok)
    throw new Error(`DEMO_SUBSCRIPTIONS: GET ${url} answered ${listed.status} ${await listed.text()}`);
  const known = new Set(
    ((await listed.json()) as Listed).subscriptions.map((s) => `${s.topicKind}|${s.topicValue}|${s.email}`),
  );
  let added = 0;
  for (const subscription of subscriptions) {
    if (known.has(`${subscription.topic.kind}|${subscription.topic.value}|${subscription.email}`)) continue;
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(subscription) });
    if (r.status !== 201)
      throw new Error(`DEMO_SUBSCRIPTIONS: POST ${url} answered ${r.status} ${await r.text()}`);
    added++;
  }
  return added;
}

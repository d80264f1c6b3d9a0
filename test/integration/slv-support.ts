/** What the SLV integration tests share: a hub running the slv adapter against a fresh Dynamics emulator. */
import { randomUUID } from 'node:crypto';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { type SlvAdapter, slvAdapter } from '../../adapters/slv/adapter.ts';
import { type DynamicsEmulator, startDynamicsEmulator } from '../../deploy/emulators/dynamics/server.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually } from '../support/kafka.ts';

export interface SlvTestBed {
  h: TestHub;
  slv: DynamicsEmulator;
  adapter: () => SlvAdapter;
  post: (events: unknown[]) => Promise<void>;
  eventsOf: (methodId: string) => MethodEvent[];
  close: () => Promise<void>;
}

/** The slv adapter's settings against an emulator, fast retries and polls. */
export const slvTestEnv = (slv: DynamicsEmulator, env: Record<string, string> = {}) => ({
  SLV_URL: slv.url,
  SLV_TOKEN_URL: slv.tokenUrl,
  SLV_CLIENT_ID: 'metodehub-slv',
  SLV_CLIENT_SECRET: 's3cret',
  SLV_POLL_INTERVAL_MS: '250',
  SLV_RETRY_BASE_MS: '50',
  SLV_RETRY_MAX_MS: '400',
  SLV_CALL_ATTEMPTS: '2',
  SLV_CIRCUIT_FAILURES: '3',
  SLV_CIRCUIT_OPEN_MS: '500',
  SLV_REQUEST_TIMEOUT_MS: '5000',
  ...env,
});

export async function startSlvTestBed(env: Record<string, string> = {}): Promise<SlvTestBed> {
  const slv = await startDynamicsEmulator({
    clients: [{ clientId: 'metodehub-slv', clientSecret: 's3cret' }],
  });
  const h = await startTestHub(['api', 'projection', 'slv'], slvTestEnv(slv, env), {
    adapters: [slvAdapter],
    topics: ['slv.case-updates.v1'],
  });
  const adapter = () => h.hub.adapters.get('slv') as SlvAdapter;
  // The first read of SLV only learns what it has; wait for it so later writes show as changes.
  await eventually(() => adapter().poller.lastPoll?.ok === true, 30_000, 'first read of SLV changes');
  const post = async (events: unknown[]) => {
    const r = await h.call('/api/v1/case-events', { method: 'POST', json: events });
    if (r.status !== 200) throw new Error(`case events refused: ${r.status} ${await r.text()}`);
  };
  return {
    h,
    slv,
    adapter,
    post,
    eventsOf: (methodId) => h.hub.store.ledger(methodId)?.entries.map((e) => e.event) ?? [],
    close: async () => {
      await h.close();
      await slv.close();
    },
  };
}

const day = (n: number) => new Date(Date.UTC(2025, 0, 6) + n * 86_400_000).toISOString();
const date = (n: number) => day(n).slice(0, 10);

export const registered = (methodId: string, name = 'Pembrolizumab til behandling av blærekreft') => ({
  eventId: randomUUID(),
  methodId,
  type: 'METHOD_REGISTERED',
  occurredAt: day(0),
  registered: { details: medicineDetails({ name }) },
});

export const toOrdering = (methodId: string) => ({
  eventId: randomUUID(),
  methodId,
  type: 'STATUS_CHANGED',
  occurredAt: day(1),
  statusChanged: { to: 'AWAITING_ORDERING', from: null, reason: 'Metodevarsel skrevet' },
});

export const assignment = (
  methodId: string,
  type: 'ASSIGNMENT_ORDERED' | 'ASSIGNMENT_CHANGED',
  track: 'A' | 'B' | 'C' | 'D',
  n = 2,
) => ({
  eventId: randomUUID(),
  methodId,
  type,
  occurredAt: day(n),
  assignment: { assignee: 'SLV', slvTrack: track, orderedOn: date(n), deadline: date(n + 180) },
});

export const note = (methodId: string, subject: string, text: string, n = 3) => ({
  eventId: randomUUID(),
  methodId,
  type: 'NOTE_ATTACHED',
  occurredAt: day(n),
  note: { noteId: randomUUID(), subject, text },
});

/** A medicine registered and ordered from SLV on the given track. */
export const orderedFromSlv = (methodId: string, track: 'A' | 'B' | 'C' | 'D' = 'B', name?: string) => [
  registered(methodId, name),
  toOrdering(methodId),
  assignment(methodId, 'ASSIGNMENT_ORDERED', track),
];

/**
 * Two hubs with every adapter, as child processes, on a broker and registry of the test's own (ports 19500-19502)
 * and the same partner stand-ins: SLV's Dynamics 365 knows each hub as its own OAuth client, so its request log
 * says which instance polled; one FEST vendor; Helsedirektoratet. Both hubs share the dev issuer, so a token
 * minted by either is good on both (a request forwarded to the leader carries the client's token).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamicsEmulator, startDynamicsEmulator } from '../../deploy/emulators/dynamics/server.ts';
import { FestVendorEmulator } from '../emulators/fest-vendor/server.ts';
import { type HdirStandIn, startHdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { type FaultStack, startFaultStack } from '../faults/faultStack.ts';
import { type HubProcess, hubProcess } from '../faults/hubProcess.ts';
import { adapterComponents } from '../faults/partners.ts';

export const multiPorts = { kafka: 19500, controller: 19501, registry: 19502 };
export const roles = ['slv', 'fest', 'case-events'] as const;
export type Role = (typeof roles)[number];

export interface NamedHub extends HubProcess {
  name: 'a' | 'b';
  /** The SLV client id this hub polls with. */
  slvClient: string;
  /** Its name in the leadership groups (host-pid), learnt from its /readyz. */
  instance: string;
}

export interface TwoHubs {
  stack: FaultStack;
  slv: DynamicsEmulator;
  vendor: FestVendorEmulator;
  hdir: HdirStandIn;
  hubs: [NamedHub, NamedHub];
  close: () => Promise<void>;
}

export async function startTwoHubs(): Promise<TwoHubs> {
  const stack = await startFaultStack(multiPorts);
  const slv = await startDynamicsEmulator({
    clients: [
      { clientId: 'hub-a', clientSecret: 'multi-secret-a' },
      { clientId: 'hub-b', clientSecret: 'multi-secret-b' },
    ],
  });
  const hdir = await startHdirStandIn();
  const vendor = new FestVendorEmulator('multi-vendor-secret-0123456789');
  await vendor.start();
  const dir = mkdtempSync(join(tmpdir(), 'metodehub-multi-'));
  const env = (name: 'a' | 'b'): Record<string, string> => ({
    SLV_URL: slv.url,
    SLV_TOKEN_URL: slv.tokenUrl,
    SLV_CLIENT_ID: `hub-${name}`,
    SLV_CLIENT_SECRET: `multi-secret-${name}`,
    SLV_POLL_INTERVAL_MS: '300',
    SLV_RETRY_BASE_MS: '100',
    SLV_RETRY_MAX_MS: '1000',
    HDIR_NOTIFY_URL: hdir.notifyUrl,
    FEST_SECRET_KEY: Buffer.alloc(32, 9).toString('base64'),
    FEST_PUSH_RETRY_BASE_MS: '100',
    FEST_PUSH_RETRY_MAX_MS: '1000',
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    OUTBOUND_ALLOW_HTTP: 'true',
    INGRESS_TRANSACTIONAL_ID: `multi-hub-${name}`,
    LEADERSHIP_SESSION_TIMEOUT_MS: '6000',
  });
  const hubs: NamedHub[] = [];
  const close = async () => {
    for (const hub of hubs) if (hub.running) await hub.kill();
    await Promise.all([slv.close(), hdir.close(), vendor.stop()]);
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // One after the other: the first writes the dev issuer's key file, the second reads the same key.
  for (const name of ['a', 'b'] as const)
    hubs.push(
      Object.assign(await hubProcess({ ...stack, dir, components: adapterComponents, env: env(name) }), {
        name,
        slvClient: `hub-${name}`,
        instance: '',
      }),
    );
  // One after the other: the first leads every role, the second joins as stand-by.
  try {
    for (const hub of hubs) {
      await hub.start();
      await untilReady(hub, 120_000);
    }
  } catch (error) {
    // A hub that cannot start must not leave the broker of the test's own running.
    await close();
    throw error;
  }
  return {
    stack,
    slv,
    vendor,
    hdir,
    hubs: hubs as [NamedHub, NamedHub],
    close,
  };
}

interface Readiness {
  adapters?: Record<string, { ok: boolean; detail: string; leaders?: Record<string, string | null> }>;
}

/** Until `hub`'s /readyz answers 200: every adapter started and its partner reached. */
export async function untilReady(hub: HubProcess, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const answer = await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
    if (answer?.status === 200) return;
    if (answer) last = await answer.text();
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`NOT_READY: ${hub.url}/readyz did not answer 200 within ${timeoutMs} ms: ${last}`);
}

/** Who leads each role, as `hub`'s /readyz says, once every role has a leader and every adapter has started. */
export async function leadersOf(hub: HubProcess, timeoutMs = 30_000): Promise<Record<Role, string>> {
  const until = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < until) {
    const answer = await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
    if (answer) {
      const body = (await answer.json()) as Readiness;
      const leaders = body.adapters?.leadership?.leaders ?? {};
      last = JSON.stringify(leaders);
      if (roles.every((r) => typeof leaders[r] === 'string')) return leaders as Record<Role, string>;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `NO_LEADERS: ${hub.url}/readyz named no leader for some role within ${timeoutMs} ms: ${last}`,
  );
}

/** The instance name (host-pid) a hub's leadership reports for itself. */
export async function instanceOf(hub: HubProcess): Promise<string> {
  const answer = await fetch(`${hub.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
  const body = (await answer.json()) as Readiness;
  const detail = body.adapters?.leadership?.detail ?? '';
  const self = /this instance \(([^)]+)\)/.exec(detail)?.[1];
  if (!self) throw new Error(`NO_INSTANCE: ${hub.url}/readyz does not name its instance: ${detail}`);
  return self;
}

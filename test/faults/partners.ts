/**
 * The partner stand-ins of the fault suite, in the test's process on 127.0.0.1: SLV's Dynamics 365, a
 * prescribing-support vendor's FEST webhook and Helsedirektoratet's notification endpoint. Each can go down
 * (connections refused; Helsedirektoratet answers 503) and come back on the same port, where the hub delivers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamicsEmulator, startDynamicsEmulator } from '../../deploy/emulators/dynamics/server.ts';
import { FestVendorEmulator } from '../emulators/fest-vendor/server.ts';
import { type HdirStandIn, startHdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import type { HubProcess } from './hubProcess.ts';

export type Partner = 'slv' | 'fest-vendor' | 'hdir';

export interface Partners {
  slv: DynamicsEmulator;
  vendor: FestVendorEmulator;
  hdir: HdirStandIn;
  /** The hub's settings naming the stand-ins, with short retries so a partner back is served at once. */
  env: Record<string, string>;
  /** Registers the vendor's webhook with the hub (from catalogue version 0). */
  registerVendor: (hub: HubProcess) => Promise<void>;
  down: (partner: Partner) => Promise<void>;
  up: (partner: Partner) => Promise<void>;
  close: () => Promise<void>;
}

export const adapterComponents = 'api,projection,slv,hdir,financing,fest,eu-jca';

export async function startPartners(): Promise<Partners> {
  const slv = await startDynamicsEmulator({
    clients: [{ clientId: 'metodehub-slv', clientSecret: 'faults-secret' }],
  });
  const hdir = await startHdirStandIn();
  const vendor = new FestVendorEmulator('faults-vendor-secret-0123456789');
  await vendor.start();
  const vendorPort = Number(new URL(vendor.url).port);
  const stateDir = mkdtempSync(join(tmpdir(), 'metodehub-faults-partners-'));
  const env: Record<string, string> = {
    SLV_URL: slv.url,
    SLV_TOKEN_URL: slv.tokenUrl,
    SLV_CLIENT_ID: 'metodehub-slv',
    SLV_CLIENT_SECRET: 'faults-secret',
    SLV_POLL_INTERVAL_MS: '500',
    SLV_RETRY_BASE_MS: '100',
    SLV_RETRY_MAX_MS: '1000',
    SLV_CIRCUIT_OPEN_MS: '1000',
    SLV_REQUEST_TIMEOUT_MS: '3000',
    HDIR_NOTIFY_URL: hdir.notifyUrl,
    HDIR_RETRY_BASE_MS: '100',
    HDIR_RETRY_MAX_MS: '1000',
    HDIR_CIRCUIT_OPEN_MS: '1000',
    // Vendor secrets are stored sealed in Kafka; the same key across hub restarts opens them.
    FEST_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    FEST_PUSH_RETRY_BASE_MS: '100',
    FEST_PUSH_RETRY_MAX_MS: '1000',
    OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
    OUTBOUND_ALLOW_HTTP: 'true',
  };
  return {
    slv,
    vendor,
    hdir,
    env,
    registerVendor: async (hub) => {
      const token = await hub.mint(['fest:vilkar:read'], 'faults-vendor');
      const register = () =>
        fetch(`${hub.url}/fest/v1/webhook`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ url: vendor.url, secret: vendor.secret, fromVersion: 0 }),
        });
      // As a vendor would: a 503 (no leader of fest yet, just after start) is resent after its Retry-After.
      let answer = await register();
      for (const until = Date.now() + 90_000; answer.status === 503 && Date.now() < until; ) {
        await answer.text();
        const seconds = Number(answer.headers.get('retry-after') ?? '1');
        await new Promise((r) => setTimeout(r, 1000 * (Number.isFinite(seconds) ? Math.max(1, seconds) : 1)));
        answer = await register();
      }
      if (!answer.ok)
        throw new Error(
          `WEBHOOK_NOT_REGISTERED: PUT /fest/v1/webhook answered ${answer.status}: ${await answer.text()}`,
        );
    },
    down: async (partner) => {
      if (partner === 'slv') await slv.setFaults({ down: true });
      else if (partner === 'hdir') hdir.down(503);
      else await vendor.stop();
    },
    up: async (partner) => {
      if (partner === 'slv') await slv.setFaults({ down: false });
      else if (partner === 'hdir') hdir.up();
      else await vendor.start(vendorPort);
    },
    close: async () => {
      await Promise.all([slv.close(), hdir.close(), vendor.stop()]);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

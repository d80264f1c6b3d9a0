/**
 * Vendors' webhooks and their cursors, one record per vendor on the compacted topic `fest.vendor-webhooks.v1`,
 * so pushes resume from each vendor's cursor on any instance and after a restart on a fresh machine. The vendor
 * is the subject of its token. Its signing secret is stored only sealed with AES-256-GCM under FEST_SECRET_KEY:
 * vendors choose their own secret at registration, so it cannot be derived from one key and must be kept.
 */
import { readFile } from 'node:fs/promises';
import type { FestVendorWebhook } from '../../contracts/generated/types.ts';
import type { StateStore } from '../../core/bus/stateStore.ts';
import { ConfigError } from '../../core/config/spec.ts';
import { SecretBox } from '../../core/crypto/secretBox.ts';
import { loggerFor } from '../../core/log/logger.ts';
import type { Topics } from '../../contracts/topics.ts';

export interface VendorWebhook {
  vendor: string;
  url: string;
  /** Shared secret for the HMAC-SHA256 signature of each delivery (in memory only; stored sealed). */
  secret: string;
  /** The catalogue version the vendor has received everything up to. */
  cursor: number;
  registeredAt: string;
  lastDeliveredAt: string | null;
  /** Failed attempts since the last delivery, and why the last one failed. */
  failures: number;
  lastError: string | null;
}

const KEY_HELP = 'FEST_SECRET_KEY (base64 of 32 random bytes: openssl rand -base64 32)';

export class VendorWebhooks {
  private readonly byVendor = new Map<string, VendorWebhook>();
  /** The sealed form of each vendor's secret as stored, so an unchanged secret is not sealed (and written) again. */
  private readonly sealed = new Map<string, { secret: string; sealed: string }>();
  private saving: Promise<void> = Promise.resolve();
  private readonly box: SecretBox | undefined;
  private readonly log = loggerFor('fest');

  /** `importFrom`: the JSON state file of a hub before 0.2, read once into an empty topic. */
  constructor(
    private readonly store: StateStore<typeof Topics.festVendorWebhooks>,
    secretKey: string,
    private readonly importFrom?: string,
  ) {
    this.box = secretKey ? new SecretBox(secretKey) : undefined;
  }

  /** Reads every vendor back; refuses when vendors exist and FEST_SECRET_KEY is missing or not the key they were sealed with. */
  async load(): Promise<void> {
    const records = await this.store.restore();
    this.byVendor.clear();
    this.sealed.clear();
    if (records.size > 0 && !this.box)
      throw new ConfigError(
        `FEST_SECRET_KEY_MISSING: ${records.size} vendor webhook(s) are registered in ${this.store.topic} with sealed secrets; set ${KEY_HELP} to the key they were sealed with`,
      );
    for (const record of records.values()) {
      let secret: string;
      try {
        secret = this.box!.open(record.secretCiphertext, record.vendor);
      } catch (error) {
        throw new ConfigError(
          `FEST_SECRET_KEY_WRONG: the webhook secret of vendor ${record.vendor} in ${this.store.topic} does not open with FEST_SECRET_KEY (${(error as Error).message}); set the key the hub used when the vendor registered`,
        );
      }
      this.sealed.set(record.vendor, { secret, sealed: record.secretCiphertext });
      this.byVendor.set(record.vendor, webhookOf(record, secret));
    }
    if (records.size === 0 && this.importFrom) await this.importOldFile(this.importFrom);
  }

  get(vendor: string): VendorWebhook | undefined {
    return this.byVendor.get(vendor);
  }

  all(): VendorWebhook[] {
    return [...this.byVendor.values()];
  }

  async put(webhook: VendorWebhook): Promise<void> {
    if (!this.box)
      throw new ConfigError(
        `FEST_SECRET_KEY_MISSING: set ${KEY_HELP} so webhook secrets can be stored sealed`,
      );
    this.byVendor.set(webhook.vendor, webhook);
    await this.save();
  }

  async remove(vendor: string): Promise<boolean> {
    const had = this.byVendor.delete(vendor);
    if (had) await this.save();
    return had;
  }

  /** Writes every vendor whose record changed (cursor, failures, ...) and a tombstone for each removed one; once acked it resolves. */
  save(): Promise<void> {
    const run = this.saving.then(async () => {
      const next = new Map<string, FestVendorWebhook>();
      for (const webhook of this.byVendor.values()) next.set(webhook.vendor, this.recordOf(webhook));
      await this.store.write(this.store.changesTo(next));
    });
    this.saving = run.catch(() => undefined);
    return run;
  }

  private recordOf(webhook: VendorWebhook): FestVendorWebhook {
    let kept = this.sealed.get(webhook.vendor);
    if (kept?.secret !== webhook.secret) {
      kept = { secret: webhook.secret, sealed: this.box!.seal(webhook.secret, webhook.vendor) };
      this.sealed.set(webhook.vendor, kept);
    }
    return {
      vendor: webhook.vendor,
      url: webhook.url,
      secretCiphertext: kept.sealed,
      cursor: webhook.cursor,
      registeredAt: webhook.registeredAt,
      lastDeliveredAt: webhook.lastDeliveredAt,
      failures: webhook.failures,
      lastError: webhook.lastError,
    };
  }

  private async importOldFile(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let vendors: VendorWebhook[];
    try {
      vendors = (JSON.parse(text) as { vendors?: VendorWebhook[] }).vendors ?? [];
    } catch (error) {
      throw new Error(
        `FEST_STATE_IMPORT_FILE ${file} is not valid JSON (${(error as Error).message}); fix or move it away`,
      );
    }
    if (vendors.length === 0) return;
    if (!this.box)
      throw new ConfigError(
        `FEST_SECRET_KEY_MISSING: ${file} holds ${vendors.length} vendor webhook(s) to import; set ${KEY_HELP} first`,
      );
    for (const webhook of vendors) this.byVendor.set(webhook.vendor, webhook);
    await this.save();
    this.log.warn(
      { file, vendors: vendors.length },
      `vendor webhooks imported into ${this.store.topic} with sealed secrets; delete ${file}, it holds them in plain text`,
    );
  }
}

const webhookOf = (record: FestVendorWebhook, secret: string): VendorWebhook => ({
  vendor: record.vendor,
  url: record.url,
  secret,
  cursor: record.cursor,
  registeredAt: record.registeredAt,
  lastDeliveredAt: record.lastDeliveredAt,
  failures: record.failures,
  lastError: record.lastError,
});

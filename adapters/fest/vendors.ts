/**
 * Vendors' webhooks and their cursors, kept in a JSON state file written atomically (write, then rename),
 * so pushes resume from each vendor's cursor after a restart. The vendor is the subject of its token.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface VendorWebhook {
  vendor: string;
  url: string;
  /** Shared secret for the HMAC-SHA256 signature of each delivery. */
  secret: string;
  /** The catalogue version the vendor has received everything up to. */
  cursor: number;
  registeredAt: string;
  lastDeliveredAt: string | null;
  /** Failed attempts since the last delivery, and why the last one failed. */
  failures: number;
  lastError: string | null;
}

interface StateFile {
  vendors: VendorWebhook[];
}

export class VendorWebhooks {
  private readonly byVendor = new Map<string, VendorWebhook>();
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let parsed: StateFile;
    try {
      parsed = JSON.parse(text) as StateFile;
    } catch (error) {
      throw new Error(
        `FEST_STATE_FILE ${this.file} is not valid JSON (${(error as Error).message}); fix or move it away`,
      );
    }
    for (const webhook of parsed.vendors ?? []) this.byVendor.set(webhook.vendor, webhook);
  }

  get(vendor: string): VendorWebhook | undefined {
    return this.byVendor.get(vendor);
  }

  all(): VendorWebhook[] {
    return [...this.byVendor.values()];
  }

  async put(webhook: VendorWebhook): Promise<void> {
    this.byVendor.set(webhook.vendor, webhook);
    await this.save();
  }

  async remove(vendor: string): Promise<boolean> {
    const had = this.byVendor.delete(vendor);
    if (had) await this.save();
    return had;
  }

  /** Writes the file; saves run one after another, each writing the latest state. */
  save(): Promise<void> {
    const run = this.saving.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      const state: StateFile = { vendors: this.all() };
      await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, 'utf8');
      await rename(temporary, this.file);
    });
    this.saving = run.catch(() => undefined);
    return run;
  }
}

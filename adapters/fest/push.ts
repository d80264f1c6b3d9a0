/**
 * Pushes catalogue deltas to each vendor's webhook: from its cursor, in batches, as the same FEST XML as
 * the incremental extract, signed with HMAC-SHA256. A failed POST is retried with doubling, jittered
 * backoff until the vendor answers 2xx; the cursor moves only then, so nothing is lost or skipped.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { guardOutbound } from '../../core/bus/confidential.ts';
import { loggerFor } from '../../core/log/logger.ts';
import type { VilkarCatalogue } from './catalogue.ts';
import type { VendorWebhooks, VendorWebhook } from './vendors.ts';
import { festDocument, type RenderOptions } from './xml.ts';

export interface PushOptions extends RenderOptions {
  batchSize: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
}

const log = loggerFor('fest-push');

export const signatureOf = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/** One delivery loop per vendor; woken by catalogue changes, re-registration and resend requests. */
class VendorLoop {
  private wake: (() => void) | undefined;
  private poked = false;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly vendor: string,
    private readonly pusher: WebhookPusher,
  ) {
    this.done = this.run();
  }

  poke(): void {
    if (this.wake) this.wake();
    else this.poked = true; // busy delivering: look again before sleeping
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.poke();
    return this.done;
  }

  private sleep(ms: number): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(), ms);
      const finish = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      this.wake = finish;
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const webhook = this.pusher.webhooks.get(this.vendor);
      if (!webhook) return;
      const outcome = await this.pusher.deliverNext(webhook);
      if (this.stopped) return;
      if (outcome === 'idle') await this.sleep(60_000);
      else if (outcome === 'failed') await this.sleep(this.pusher.backoff(webhook.failures));
    }
  }
}

export class WebhookPusher {
  private readonly loops = new Map<string, VendorLoop>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly webhooks: VendorWebhooks,
    private readonly catalogue: VilkarCatalogue,
    private readonly options: PushOptions,
  ) {}

  start(): void {
    for (const webhook of this.webhooks.all()) this.ensureLoop(webhook.vendor);
    this.unsubscribe = this.catalogue.onChange(() => {
      for (const loop of this.loops.values()) loop.poke();
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.loops.values()].map((l) => l.stop()));
    this.loops.clear();
  }

  /** Starts or wakes the vendor's loop (after registration or a resend request). */
  ensureLoop(vendor: string): void {
    const loop = this.loops.get(vendor);
    if (loop) {
      loop.poke();
      return;
    }
    const created = new VendorLoop(vendor, this);
    this.loops.set(vendor, created);
    void created.done.finally(() => {
      if (this.loops.get(vendor) === created) this.loops.delete(vendor);
    });
  }

  async forget(vendor: string): Promise<void> {
    await this.loops.get(vendor)?.stop();
  }

  backoff(failures: number): number {
    const ceiling = Math.min(
      this.options.retryMaxMs,
      this.options.retryBaseMs * 2 ** Math.max(0, failures - 1),
    );
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** POSTs the next batch after the vendor's cursor. */
  async deliverNext(webhook: VendorWebhook): Promise<'delivered' | 'idle' | 'failed'> {
    const batch = this.catalogue.since(webhook.cursor, this.options.batchSize);
    if (batch.length === 0) return 'idle';
    const from = webhook.cursor;
    const to = batch[batch.length - 1]!.catalogueVersion;
    const body = festDocument(batch, Date.now(), this.options);
    guardOutbound(`fest webhook ${webhook.vendor}`, body);
    let failure: string | null = null;
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/xml; charset=utf-8',
          'x-fest-delivery': randomUUID(),
          'x-fest-from-version': String(from),
          'x-fest-to-version': String(to),
          'x-fest-catalogue-version': String(this.catalogue.version),
          'x-fest-signature': signatureOf(webhook.secret, body),
        },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) failure = `HTTP ${response.status} from ${webhook.url}`;
    } catch (error) {
      failure = `${webhook.url} did not answer: ${(error as Error).cause ?? (error as Error).message}`;
    }
    const current = this.webhooks.get(webhook.vendor);
    // Re-registered or asked to resend while this POST was under way: its cursor is not ours to move.
    if (current !== webhook) return 'delivered';
    if (failure) {
      webhook.failures++;
      webhook.lastError = failure;
      log.warn(
        { vendor: webhook.vendor, failures: webhook.failures, err: failure },
        'webhook delivery failed',
      );
      await this.webhooks.save();
      return 'failed';
    }
    webhook.cursor = to;
    webhook.failures = 0;
    webhook.lastError = null;
    webhook.lastDeliveredAt = new Date().toISOString();
    await this.webhooks.save();
    return 'delivered';
  }
}

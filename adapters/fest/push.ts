/**
 * Pushes catalogue deltas to each vendor's webhook: from its cursor, in batches, as FEST XML like the
 * incremental extract's, signed with HMAC-SHA256. A failed POST is retried with doubling, jittered
 * backoff until the vendor answers 2xx; the cursor moves only then, so nothing is lost or skipped.
 * Each POST goes through the core URL guard (again at send time, and in the connection's own DNS lookup),
 * and `lastError` tells the vendor only about its own endpoint.
 */
import { backoff } from '../../core/retry/backoff.ts';
import { createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { guardOutbound } from '../../core/bus/confidential.ts';
import { type UrlGuard, UrlPolicyError } from '../../core/http/urlGuard.ts';
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
  /** Loops run only between start and stop: on the instance that leads the `fest` role. */
  private active = false;

  constructor(
    readonly webhooks: VendorWebhooks,
    private readonly catalogue: VilkarCatalogue,
    private readonly options: PushOptions,
    private readonly guard: UrlGuard,
  ) {}

  start(): void {
    this.active = true;
    for (const webhook of this.webhooks.all()) this.ensureLoop(webhook.vendor);
    this.unsubscribe = this.catalogue.onChange(() => {
      for (const loop of this.loops.values()) loop.poke();
    });
  }

  async stop(): Promise<void> {
    this.active = false;
    this.unsubscribe?.();
    await Promise.all([...this.loops.values()].map((l) => l.stop()));
    this.loops.clear();
  }

  /** Starts or wakes the vendor's loop (after registration or a resend request). */
  ensureLoop(vendor: string): void {
    if (!this.active) return;
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
    return backoff(failures, this.options.retryBaseMs, this.options.retryMaxMs);
  }

  /** POSTs the next batch after the vendor's cursor. */
  async deliverNext(webhook: VendorWebhook): Promise<'delivered' | 'idle' | 'failed'> {
    const batch = this.catalogue.since(webhook.cursor, this.options.batchSize);
    if (batch.length === 0) return 'idle';
    const from = webhook.cursor;
    const to = batch[batch.length - 1]!.catalogueVersion;
    // Every earlier entry of each condition as utgått: the cursor is a version, and a repeat is harmless.
    const body = festDocument(batch, Date.now(), this.options, { endedSince: Number.NEGATIVE_INFINITY });
    guardOutbound(`fest webhook ${webhook.vendor}`, body);
    const headers = {
      'content-type': 'application/xml; charset=utf-8',
      'x-fest-delivery': randomUUID(),
      'x-fest-from-version': String(from),
      'x-fest-to-version': String(to),
      'x-fest-catalogue-version': String(this.catalogue.version),
      'x-fest-signature': signatureOf(webhook.secret, body),
    };
    const failure = await this.post(webhook, headers, body);
    const current = this.webhooks.get(webhook.vendor);
    // Re-registered or asked to resend while this POST was under way: its cursor is not ours to move.
    if (current !== webhook) return 'delivered';
    if (failure) {
      webhook.failures++;
      webhook.lastError = failure.forVendor;
      log.warn(
        { vendor: webhook.vendor, failures: webhook.failures, err: failure.internal },
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

  /** One POST; undefined when the vendor answered 2xx, else what to tell the vendor and what to log. */
  private async post(
    webhook: VendorWebhook,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ forVendor: string; internal: string } | undefined> {
    const verdict = await this.guard.check(webhook.url);
    if (!verdict.ok) return { forVendor: `refused by policy: ${verdict.reason}`, internal: verdict.reason };
    const timeoutMs = this.options.timeoutMs;
    const send = verdict.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const request = send(
        verdict.url,
        {
          method: 'POST',
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup: this.guard.lookup,
          signal: AbortSignal.timeout(timeoutMs),
        },
        (response) => {
          response.resume();
          response.on('error', () => undefined);
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(undefined);
          // Only the status class: the body (or a redirect target) is not ours to repeat.
          const kind = `${Math.floor(status / 100)}xx`;
          resolve({
            forVendor: `your endpoint answered HTTP ${kind}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`,
            internal: `HTTP ${status} from ${webhook.url}`,
          });
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ forVendor: vendorReason(error, timeoutMs), internal: `${webhook.url}: ${error.message}` }),
      );
      request.end(body);
    });
  }
}

/** Why a POST got no answer, said about the vendor's endpoint only. */
function vendorReason(error: NodeJS.ErrnoException, timeoutMs: number): string {
  if (error instanceof UrlPolicyError)
    return `refused by policy: ${error.message.replace(/^URL_REFUSED: /, '')}`;
  if (error.name === 'AbortError' || error.name === 'TimeoutError' || error.code === 'ABORT_ERR')
    return `your endpoint did not answer within ${timeoutMs} ms`;
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'your endpoint did not answer: connection refused';
    case 'ECONNRESET':
      return 'your endpoint did not answer: the connection was closed without a response';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'your endpoint did not answer: its host name does not resolve';
    case 'ETIMEDOUT':
      return 'your endpoint did not answer: the connection timed out';
  }
  if (/certificate|TLS|SSL/i.test(`${error.code} ${error.message}`))
    return 'your endpoint did not answer: the TLS handshake failed (check its certificate)';
  return 'your endpoint did not answer: the connection failed';
}

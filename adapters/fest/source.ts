/**
 * The FEST source extract (FEST_SOURCE_EXTRACT): read on a schedule and on demand from a file or an http(s) URL (the
 * outbound URL guard applies), copied to FEST_SOURCE_DIR while its products are indexed, and kept only when it reads
 * as a FEST document. A failed read keeps the last good copy and index; the error is kept for health.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UrlGuard } from '../../core/http/urlGuard.ts';
import { FestSourceError, type ProductIndex, readProductIndex } from './productIndex.ts';

export interface LoadedSource {
  /** The copy the merged document is streamed from. */
  path: string;
  index: ProductIndex;
  /** sha256 of the bytes, the merged document's ETag part. */
  digest: string;
  bytes: number;
  loadedAt: string;
}

export interface SourceOptions {
  /** A file path or an http(s) URL; empty: no source. */
  location: string;
  dir: string;
  reloadMs: number;
  urlGuard: UrlGuard;
  timeoutMs?: number;
}

export type ReloadOutcome =
  | { ok: true; source: LoadedSource }
  | { ok: false; error: string; kept: LoadedSource | undefined };

export class FestSourceExtract {
  current: LoadedSource | undefined;
  lastError: { at: string; reason: string } | undefined;
  /** Bumped on every successful reload, so links are computed again. */
  generation = 0;
  private running: Promise<ReloadOutcome> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private serial = 0;

  constructor(private readonly options: SourceOptions) {}

  get configured(): boolean {
    return this.options.location !== '';
  }

  start(): void {
    if (!this.configured) return;
    void this.reload();
    this.timer = setInterval(() => void this.reload(), this.options.reloadMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the source again; a reload already under way is joined rather than repeated. */
  reload(): Promise<ReloadOutcome> {
    this.running ??= this.read().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async read(): Promise<ReloadOutcome> {
    const dir = resolve(this.options.dir);
    const partial = join(dir, `incoming-${process.pid}-${++this.serial}.xml`);
    try {
      if (!this.configured)
        throw new FestSourceError('FEST_SOURCE_UNREADABLE', 'FEST_SOURCE_EXTRACT is not set');
      await mkdir(dir, { recursive: true });
      const input = await this.open();
      const hash = createHash('sha256');
      let bytes = 0;
      const tee = new PassThrough({ encoding: 'utf8' });
      const copied = pipeline(
        input,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            hash.update(chunk);
            bytes += chunk.length;
            // The parser sets the pace, so a slow parse never piles the extract up in memory.
            if (!tee.write(chunk)) await once(tee, 'drain');
            yield chunk;
          }
          tee.end();
        },
        createWriteStream(partial),
      ).catch((error: Error) => {
        tee.destroy(error);
        throw error;
      });
      const indexed = readProductIndex(tee).catch((error: Error) => {
        tee.destroy(error);
        input.destroy();
        throw error;
      });
      const [index] = await Promise.all([indexed, copied]);
      const path = join(dir, 'current.xml');
      // A merge still streaming the old copy keeps reading it: rename replaces the name, not the open file.
      await rename(partial, path);
      this.current = { path, index, digest: hash.digest('hex'), bytes, loadedAt: new Date().toISOString() };
      this.lastError = undefined;
      this.generation++;
      return { ok: true, source: this.current };
    } catch (error) {
      await rm(partial, { force: true });
      const reason =
        error instanceof FestSourceError
          ? error.message
          : `FEST_SOURCE_UNREADABLE: ${this.options.location}: ${(error as Error).message}`;
      this.lastError = { at: new Date().toISOString(), reason };
      return { ok: false, error: reason, kept: this.current };
    }
  }

  private async open(): Promise<Readable> {
    const location = this.options.location;
    if (!/^https?:\/\//i.test(location)) return createReadStream(location);
    const verdict = await this.options.urlGuard.check(location);
    if (!verdict.ok) throw new FestSourceError('FEST_SOURCE_UNREADABLE', `${location}: ${verdict.reason}`);
    const send = verdict.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const response = await new Promise<IncomingMessage>((resolveResponse, reject) => {
      send(verdict.url, {
        lookup: this.options.urlGuard.lookup,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 600_000),
      })
        .on('response', resolveResponse)
        .on('error', reject)
        .end();
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      response.resume();
      throw new FestSourceError('FEST_SOURCE_UNREADABLE', `${location} answered HTTP ${status}`);
    }
    return response;
  }

  /** One line for the adapter's health. */
  describe(): string {
    if (!this.configured) return 'no source extract (FEST_SOURCE_EXTRACT unset)';
    const good = this.current
      ? `source extract ${this.current.index.products.length} products, HentetDato ${this.current.index.fetchedAt}, read ${this.current.loadedAt}`
      : 'no source extract read yet';
    if (!this.lastError) return good;
    return `source extract ${this.options.location} could not be read at ${this.lastError.at} (${this.lastError.reason}); ${this.current ? `keeping the last good one: ${good}` : 'nothing to keep: GET /fest/v1/fest answers 503'}`;
  }
}

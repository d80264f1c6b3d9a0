/** What the emulator was sent and what it answered, so tests can assert on the adapter's behaviour. */

export interface RequestLogEntry {
  at: string;
  method: string;
  /** Path and query as sent, e.g. `/api/data/v9.2/nm_methodcases(nm_nyemetoderid='ID2019_074')`. */
  path: string;
  status: number;
  /** The OAuth client the bearer token belongs to, or the client_id of a token request. */
  clientId?: string;
  /** Headers that matter to Dataverse semantics; `authorization` is reduced to its scheme. */
  headers: Partial<Record<(typeof loggedHeaders)[number], string>>;
  /** The parsed JSON body of writes (token requests: without the secret). */
  body?: unknown;
  /** The OData (or OAuth) error code of a failed answer. */
  errorCode?: string;
  /** The Retry-After the emulator answered with, on 429. */
  retryAfter?: string;
}

export const loggedHeaders = [
  'authorization',
  'if-match',
  'if-none-match',
  'prefer',
  'content-type',
  'odata-version',
  'odata-maxversion',
] as const;

export interface Counters {
  requests: number;
  throttled429: number;
  preconditionFailed412: number;
  unauthorized401: number;
  serverErrors500: number;
  created: number;
  updated: number;
}

const zero = (): Counters => ({
  requests: 0,
  throttled429: 0,
  preconditionFailed412: 0,
  unauthorized401: 0,
  serverErrors500: 0,
  created: 0,
  updated: 0,
});

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private counts = zero();

  record(entry: RequestLogEntry): void {
    this.entries.push(entry);
    this.counts.requests++;
    if (entry.status === 429) this.counts.throttled429++;
    if (entry.status === 412) this.counts.preconditionFailed412++;
    if (entry.status === 401) this.counts.unauthorized401++;
    if (entry.status >= 500) this.counts.serverErrors500++;
  }

  countWrite(kind: 'created' | 'updated'): void {
    this.counts[kind]++;
  }

  list(): RequestLogEntry[] {
    return this.entries.map((entry) => structuredClone(entry));
  }

  counters(): Counters {
    return { ...this.counts };
  }

  clear(): void {
    this.entries = [];
    this.counts = zero();
  }
}

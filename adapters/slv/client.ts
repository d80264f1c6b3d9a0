/**
 * SLV's case platform over the Dynamics 365 (Dataverse) Web API, and nothing else: client-credentials
 * tokens cached until shortly before expiry and renewed on 401; 429 waited out as Retry-After says; 5xx,
 * timeouts and refused connections retried with jittered backoff; a circuit breaker around it all.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RetryLater, TransientError } from '../../core/bus/errors.ts';
import { backoff } from '../../core/retry/backoff.ts';
import { type Logger, loggerFor } from '../../core/log/logger.ts';
import { CircuitBreaker, type CircuitOpenError, type CircuitState } from '../../core/retry/circuitBreaker.ts';
import type { SlvSettings } from './settings.ts';

const apiPath = '/api/data/v9.2';
const caseColumns = [
  'nm_methodcaseid',
  'nm_nyemetoderid',
  'nm_name',
  'nm_track',
  'nm_status',
  'nm_statusreason',
  'nm_assignmentdate',
  'nm_deadline',
  'nm_reporturl',
  'nm_sourceeventid',
  'nm_substance',
  'nm_atccodes',
  'nm_indication',
  'nm_absolutedeadline',
  'modifiedon',
  'versionnumber',
];

/** A row of SLV's `nm_methodcases` table, as the Web API returns it. */
export interface SlvCase {
  nm_methodcaseid: string;
  nm_nyemetoderid: string;
  nm_name: string | null;
  nm_track: string | null;
  nm_status: string | null;
  nm_statusreason: string | null;
  nm_assignmentdate: string | null;
  nm_deadline: string | null;
  nm_reporturl: string | null;
  nm_sourceeventid: string | null;
  /** Active substances, comma-separated. */
  nm_substance: string | null;
  /** ATC codes, comma-separated. */
  nm_atccodes: string | null;
  nm_indication: string | null;
  /** The absolute deadline of a paused assessment (date-only). */
  nm_absolutedeadline: string | null;
  modifiedon: string;
  versionnumber: number;
  '@odata.etag'?: string;
}

/** The columns Nye metoder writes. */
export type SlvCaseChanges = Partial<
  Pick<
    SlvCase,
    | 'nm_name'
    | 'nm_track'
    | 'nm_status'
    | 'nm_statusreason'
    | 'nm_assignmentdate'
    | 'nm_deadline'
    | 'nm_sourceeventid'
    | 'nm_substance'
    | 'nm_atccodes'
    | 'nm_indication'
    | 'nm_absolutedeadline'
  >
>;

export interface SlvNote {
  annotationid: string;
  subject: string | null;
  notetext: string | null;
}

/** What change tracking answered: changed rows (raw: they are checked by the caller), deleted ids, next link. */
export interface ChangeSet {
  rows: unknown[];
  deletedIds: string[];
  deltaLink: string;
}

/** SLV cannot be reached or does not answer well now; the work must wait and be tried again. */
export class SlvUnavailable extends TransientError {
  override name = 'SlvUnavailable';
}

/** SLV answered that this request can never succeed as it is (a 4xx other than 401, 404, 412, 429). */
export class SlvRejected extends Error {
  override name = 'SlvRejected';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    what: string,
  ) {
    super(`SLV_REJECTED: ${what} answered ${status} ${code}: ${detail}`);
  }
}

/** The delta link is expired or unknown: start again with a full load. */
export class DeltaLinkRefused extends Error {
  override name = 'DeltaLinkRefused';
}

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
}

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

export class SlvClient {
  private readonly breaker: CircuitBreaker;
  private token: { value: string; renewAt: number } | undefined;
  private tokenRequest: Promise<string> | undefined;
  /** Until when SLV asked for no request at all (Retry-After of a 429). */
  private quietUntil = 0;
  /** When (epoch ms) the adapter last read a 429: from then on no request of it goes out until Retry-After has passed. */
  lastThrottledAt = 0;
  private readonly log: Logger = loggerFor('slv-client');
  lastProblem: string | undefined;
  readonly counts = { requests: 0, throttled: 0, retried: 0, tokenRenewals: 0 };

  constructor(private readonly settings: SlvSettings) {
    this.breaker = new CircuitBreaker(settings.SLV_CIRCUIT_FAILURES, settings.SLV_CIRCUIT_OPEN_MS);
  }

  get circuit(): CircuitState {
    return this.breaker.state;
  }

  private get base(): string {
    return this.settings.SLV_URL.replace(/\/$/, '');
  }

  /** The case of a method, by its alternate key (the Nye metoder ID); undefined when SLV has none. */
  async caseOf(methodId: string): Promise<SlvCase | undefined> {
    const answer = await this.call(
      'GET',
      `${apiPath}/nm_methodcases(nm_nyemetoderid=${quote(methodId)})?$select=${caseColumns.join(',')}`,
      `reading the case of ${methodId}`,
    );
    if (answer.status === 404) return undefined;
    return this.expect(answer, 200, `reading the case of ${methodId}`) as SlvCase;
  }

  /**
   * Upsert by alternate key with PATCH. `etag` makes it an update of exactly that version (If-Match);
   * without one it may only create (If-None-Match: *). Answers the row as our write left it (its version
   * tells our write from later edits), or undefined when the precondition failed (412, or 404 on an update
   * of a case that is gone): re-read and try again.
   */
  async upsertCase(
    methodId: string,
    changes: SlvCaseChanges,
    etag: string | undefined,
  ): Promise<SlvCase | undefined> {
    const what = `writing the case of ${methodId}`;
    const answer = await this.call(
      'PATCH',
      `${apiPath}/nm_methodcases(nm_nyemetoderid=${quote(methodId)})?$select=${caseColumns.join(',')}`,
      what,
      {
        body: changes,
        headers: {
          prefer: 'return=representation',
          ...(etag ? { 'if-match': etag } : { 'if-none-match': '*' }),
        },
      },
    );
    if (answer.status === 412 || (etag && answer.status === 404)) return undefined;
    const body = this.expect(answer, 2, what) as SlvCase | undefined;
    if (body && typeof body === 'object' && typeof body.versionnumber === 'number') return body;
    // A server that ignores return=representation answers 204: read the row back.
    const readBack = await this.caseOf(methodId);
    if (!readBack) throw new SlvUnavailable(`${what}: the case is gone right after it was written`);
    return readBack;
  }

  async notesOf(caseId: string): Promise<SlvNote[]> {
    const what = `reading the notes of case ${caseId}`;
    const answer = await this.call(
      'GET',
      `${apiPath}/annotations?$select=annotationid,subject,notetext&$filter=_objectid_value eq ${caseId}`,
      what,
    );
    return (this.expect(answer, 200, what) as { value: SlvNote[] }).value;
  }

  /**
   * Creates a note with an id we choose, so a repeated create (a retry after a lost answer) is refused
   * as a duplicate (412) instead of attaching it twice. False when it existed already.
   */
  async addNote(caseId: string, noteId: string, subject: string, text: string): Promise<boolean> {
    const what = `attaching a note to case ${caseId}`;
    const answer = await this.call('POST', `${apiPath}/annotations`, what, {
      body: {
        annotationid: noteId,
        subject,
        notetext: text,
        'objectid_nm_methodcase@odata.bind': `/nm_methodcases(${caseId})`,
      },
    });
    if (answer.status === 412) return false;
    this.expect(answer, 2, what);
    return true;
  }

  /**
   * Change tracking: without a link, every case and a first delta link; with one, what changed since.
   * Follows `@odata.nextLink` pages to the end.
   */
  async changesSince(deltaLink: string | undefined): Promise<ChangeSet> {
    const rows: unknown[] = [];
    const deletedIds: string[] = [];
    let next: string = deltaLink
      ? this.rebased(deltaLink)
      : `${apiPath}/nm_methodcases?$select=${caseColumns.join(',')}`;
    const what = deltaLink ? 'reading changes by delta link' : 'reading every case (change tracking)';
    for (;;) {
      const answer = await this.call('GET', next, what, {
        headers: { prefer: 'odata.track-changes, odata.maxpagesize=500' },
      });
      if (deltaLink && (answer.status === 400 || answer.status === 410)) {
        throw new DeltaLinkRefused(`SLV refused the delta link: ${errorText(answer.body)}`);
      }
      const page = this.expect(answer, 200, what) as {
        value?: unknown[];
        '@odata.nextLink'?: string;
        '@odata.deltaLink'?: string;
      };
      for (const item of page.value ?? []) {
        const record = item as Record<string, unknown>;
        if (record.reason === 'deleted' && typeof record.id === 'string') deletedIds.push(record.id);
        else rows.push(item);
      }
      if (page['@odata.nextLink']) next = this.rebased(page['@odata.nextLink']);
      else if (page['@odata.deltaLink']) return { rows, deletedIds, deltaLink: page['@odata.deltaLink'] };
      else
        throw new SlvUnavailable(`SLV answered a change-tracking page with neither nextLink nor deltaLink`);
    }
  }

  /** A link SLV gave, on the configured base URL: a moved endpoint or a restarted stand-in loses nothing. */
  private rebased(link: string): string {
    const at = link.indexOf(`${apiPath}/`);
    return at >= 0 ? `${this.base}${link.slice(at)}` : link;
  }

  private expect(answer: Answer, status: number, what: string): unknown {
    const ok = status === 2 ? answer.status >= 200 && answer.status < 300 : answer.status === status;
    if (ok) return answer.body;
    const error = (answer.body as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new SlvRejected(answer.status, error?.code ?? '-', error?.message ?? 'no message', what);
  }

  /** One Web API call with every recovery the protocol asks for; any other status is the caller's. */
  private async call(
    method: string,
    pathOrUrl: string,
    what: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const target = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    let renewedForThisCall = false;
    for (let attempt = 1; ; ) {
      await this.quietPeriod(what);
      try {
        this.breaker.admit('SLV');
      } catch (error) {
        throw new SlvUnavailable(`${what}: ${(error as CircuitOpenError).message}`);
      }
      let response: Response;
      try {
        const token = await this.accessToken();
        this.counts.requests++;
        response = await fetch(target, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'odata-version': '4.0',
            'odata-maxversion': '4.0',
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...options.headers,
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.settings.SLV_REQUEST_TIMEOUT_MS),
        });
      } catch (error) {
        attempt = await this.failedAttempt(attempt, what, describeNetworkError(error));
        continue;
      }
      if (response.status === 401) {
        await response.body?.cancel();
        this.token = undefined;
        if (!renewedForThisCall) {
          renewedForThisCall = true;
          continue;
        }
        // Refused with a fresh token too: SLV or its token service recovering; Dataverse's 401 has no body.
        const challenge = response.headers.get('www-authenticate') ?? 'no WWW-Authenticate';
        attempt = await this.failedAttempt(
          attempt,
          what,
          `SLV_UNAUTHORIZED: 401 with a fresh token (${challenge}); if it lasts, check SLV_CLIENT_ID, SLV_CLIENT_SECRET and SLV_SCOPE`,
        );
        continue;
      }
      if (response.status === 429) {
        const seconds = Number(response.headers.get('retry-after') ?? '1');
        const waitS = Number.isFinite(seconds) && seconds >= 0 ? seconds : 1;
        // No request of this adapter goes to SLV before the wait ends, whoever asks: set before any await, so
        // a caller that runs while the body is dropped already waits.
        this.lastThrottledAt = Date.now();
        this.quietUntil = Math.max(this.quietUntil, this.lastThrottledAt + waitS * 1000);
        this.counts.throttled++;
        await response.body?.cancel();
        this.log.info(
          { waitS, what },
          'DMP (formerly SLV) throttles (429); no request until Retry-After has passed',
        );
        continue;
      }
      if (response.status >= 500) {
        const text = await response.text().catch(() => '');
        attempt = await this.failedAttempt(attempt, what, `${response.status} ${errorText(parse(text))}`);
        continue;
      }
      this.breaker.succeeded();
      this.lastProblem = undefined;
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: parse(text) };
    }
  }

  /** Waits out SLV's Retry-After; one longer than SLV_MAX_RETRY_AFTER_S is left to the backlog. */
  private async quietPeriod(what: string): Promise<void> {
    const waitMs = this.quietUntil - Date.now();
    if (waitMs <= 0) return;
    if (waitMs > this.settings.SLV_MAX_RETRY_AFTER_S * 1000) {
      throw new RetryLater(
        `${what}: SLV throttles (429) and asks to wait ${Math.ceil(waitMs / 1000)} s`,
        waitMs,
      );
    }
    await sleep(waitMs);
  }

  /** Counts a failed attempt and waits the backoff; throws when the call has used its attempts. */
  private async failedAttempt(attempt: number, what: string, reason: string): Promise<number> {
    this.breaker.failed();
    this.lastProblem = `${what}: ${reason}`;
    if (attempt >= this.settings.SLV_CALL_ATTEMPTS) {
      throw new SlvUnavailable(`${what}: ${reason} (after ${attempt} attempts)`);
    }
    this.counts.retried++;
    const wait = backoff(attempt, this.settings.SLV_RETRY_BASE_MS, this.settings.SLV_RETRY_MAX_MS);
    this.log.warn({ attempt, waitMs: wait, reason, what }, 'DMP (formerly SLV) call failed; retrying');
    await sleep(wait);
    return attempt + 1;
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.renewAt) return this.token.value;
    this.tokenRequest ??= this.fetchToken().finally(() => {
      this.tokenRequest = undefined;
    });
    return this.tokenRequest;
  }

  private async fetchToken(): Promise<string> {
    const scope = this.settings.SLV_SCOPE || `${this.base}/.default`;
    const response = await fetch(this.settings.SLV_TOKEN_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: this.settings.SLV_CLIENT_ID,
        client_secret: this.settings.SLV_CLIENT_SECRET,
        scope,
      }),
      signal: AbortSignal.timeout(this.settings.SLV_REQUEST_TIMEOUT_MS),
    });
    const body = parse(await response.text()) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!response.ok || !body?.access_token) {
      // Not the message's fault: the backlog waits until the credentials are put right.
      throw new TransientError(
        `TOKEN_REFUSED: ${this.settings.SLV_TOKEN_URL} answered ${response.status} ${body?.error ?? ''}; check SLV_CLIENT_ID, SLV_CLIENT_SECRET and SLV_SCOPE`,
      );
    }
    const lifetimeMs = (body.expires_in ?? 300) * 1000;
    this.counts.tokenRenewals++;
    // Renew a little before expiry: a tenth of the lifetime, at most a minute.
    this.token = {
      value: body.access_token,
      renewAt: Date.now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10),
    };
    return body.access_token;
  }
}

function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function errorText(body: unknown): string {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  return error ? `${error.code ?? ''} ${error.message ?? ''}`.trim() : String(body ?? '');
}

function describeNetworkError(error: unknown): string {
  const e = error as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return e.cause?.code ?? e.message;
}

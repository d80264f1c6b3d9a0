/**
 * A stand-in for Helsedirektoratet's notification endpoint, for tests and local runs: a real HTTP server on
 * 127.0.0.1 that takes `POST /api/nyemetoder/varsler` (JSON, `Idempotency-Key` header required), records
 * each notification once per key, answers a repeated key with `{"duplicate": true}`, and can be told to
 * be down, fail the next requests, answer slowly, refuse, or demand a bearer token.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const NOTIFY_PATH = '/api/nyemetoder/varsler';

export interface ReceivedNotification {
  key: string;
  body: Record<string, unknown>;
  receivedAt: string;
}

export interface HdirStandIn {
  /** The notification endpoint: give it to the hub as HDIR_NOTIFY_URL. */
  notifyUrl: string;
  /** Each notification once, in the order first received. */
  received: ReceivedNotification[];
  /** Every request, whatever its answer. */
  attempts: number;
  /** Requests that repeated a key already received. */
  duplicates: number;
  /** Answer every request with `status` until up() (503 by default). */
  down(status?: number): void;
  up(): void;
  /** Fail the next `count` requests with `status`. */
  failNext(count: number, status?: number): void;
  /** Answer the next `count` requests 429 with `Retry-After: seconds`. */
  throttleNext(count: number, seconds: number): void;
  /** When the last 429 was answered (ms since the epoch). */
  lastThrottledAt: number | undefined;
  /** Refuse the next request with a 4xx that says why. */
  rejectNext(status?: number, reason?: string): void;
  /** Wait this long before answering each request. */
  slow(ms: number): void;
  /** Require "Authorization: Bearer <token>" (401 without it). */
  requireToken(token: string | undefined): void;
  close(): Promise<void>;
}

/** `port` 0 picks a free one. Over HTTP (no auth): POST /_standin/down, /_standin/up; GET /_standin/received. */
export async function startHdirStandIn(options: { port?: number } = {}): Promise<HdirStandIn> {
  const received: ReceivedNotification[] = [];
  const byKey = new Map<string, string>();
  let downStatus: number | undefined;
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let rejection: { status: number; reason: string } | undefined;
  let throttle = { count: 0, seconds: 0 };
  let delayMs = 0;
  let token: string | undefined;

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const standIn: HdirStandIn = {
    notifyUrl: '',
    received,
    attempts: 0,
    duplicates: 0,
    down: (status = 503) => {
      downStatus = status;
    },
    up: () => {
      downStatus = undefined;
    },
    failNext: (count, status = 503) => {
      failures = { count, status };
    },
    throttleNext: (count, seconds) => {
      throttle = { count, seconds };
    },
    lastThrottledAt: undefined,
    rejectNext: (status = 422, reason = 'the notification is not acceptable') => {
      rejection = { status, reason };
    },
    slow: (ms) => {
      delayMs = ms;
    },
    requireToken: (t) => {
      token = t;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const server = createServer(async (req, res) => {
    standIn.attempts++;
    const text = await readBody(req);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (req.url?.startsWith('/_standin/')) {
      standIn.attempts--;
      if (req.method === 'POST' && req.url === '/_standin/down') {
        standIn.down();
        return answer(res, 200, { down: true });
      }
      if (req.method === 'POST' && req.url === '/_standin/up') {
        standIn.up();
        return answer(res, 200, { down: false });
      }
      if (req.method === 'GET' && req.url === '/_standin/received')
        return answer(res, 200, {
          received: received.length,
          attempts: standIn.attempts,
          down: downStatus !== undefined,
        });
      return answer(res, 404, {
        error: `no route ${req.method} ${req.url}; try POST /_standin/down or /_standin/up`,
      });
    }
    if (req.method !== 'POST' || req.url !== NOTIFY_PATH)
      return answer(res, 404, { error: `no route ${req.method} ${req.url}` });
    if (downStatus !== undefined) return answer(res, downStatus, { error: 'tjenesten er nede' });
    if (throttle.count > 0) {
      throttle.count--;
      standIn.lastThrottledAt = Date.now();
      res.setHeader('retry-after', String(throttle.seconds));
      return answer(res, 429, { error: 'for mange forespørsler' });
    }
    if (failures.count > 0) {
      failures.count--;
      return answer(res, failures.status, { error: 'midlertidig feil' });
    }
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`)
      return answer(res, 401, { error: 'mangler eller ugyldig token' });
    if (rejection) {
      const { status, reason } = rejection;
      rejection = undefined;
      return answer(res, status, { error: reason });
    }
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') return answer(res, 400, { error: 'Idempotency-Key mangler' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return answer(res, 400, { error: 'body is not JSON' });
    }
    const seen = byKey.get(key);
    if (seen !== undefined) {
      if (seen !== text)
        return answer(res, 422, { error: `Idempotency-Key ${key} reused for another notification` });
      standIn.duplicates++;
      return answer(res, 200, { key, duplicate: true });
    }
    byKey.set(key, text);
    received.push({ key, body, receivedAt: new Date().toISOString() });
    return answer(res, 201, { key, duplicate: false });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  standIn.notifyUrl = `http://127.0.0.1:${port}${NOTIFY_PATH}`;
  return standIn;
}

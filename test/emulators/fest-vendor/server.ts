/**
 * A prescribing-support vendor's webhook receiver, for tests: a real HTTP server on 127.0.0.1 that takes
 * FEST deltas, checks their HMAC signature, keeps them, and validates each body on demand with libxml2 against
 * the official FEST 2.5.1 strict schema (a vendor's importer reads nothing else). It can be told to fail the
 * next N deliveries (with a status, or by dropping the connection).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { officialFestSchemas, validateOfficialFest } from '../../support/festSchema.ts';

export interface Delivery {
  receivedAt: number;
  fromVersion: number;
  toVersion: number;
  body: string;
  signatureValid: boolean;
  /**
   * libxml2's complaints about the body against the official strict schema, asked for when needed (one
   * validation takes seconds); `['FEST_SCHEMAS_MISSING: ...']` where the schemas are not beside the checkout.
   */
  schemaErrors: () => Promise<string[]>;
}

/** A body's verdict from the official schema, computed once. */
function schemaCheckOf(body: string): () => Promise<string[]> {
  let verdict: Promise<string[]> | undefined;
  return () => {
    verdict ??=
      officialFestSchemas() === undefined
        ? Promise.resolve(['FEST_SCHEMAS_MISSING: no shared/reference/fest-2.5.1 beside the checkout'])
        : validateOfficialFest(body).then((v) =>
            v.valid ? [] : v.errors.length > 0 ? v.errors : ['invalid'],
          );
    return verdict;
  };
}

export interface FailurePlan {
  /** How many next deliveries fail. */
  count: number;
  /** Answer with this status, or 'drop' to destroy the connection without an answer. */
  with: number | 'drop';
}

export class FestVendorEmulator {
  readonly deliveries: Delivery[] = [];
  /** Every attempt, accepted or failed on purpose. */
  attempts = 0;
  private failures: FailurePlan = { count: 0, with: 500 };
  private server: Server | undefined;
  url = '';

  constructor(readonly secret: string) {}

  /** The next `count` deliveries fail as told. */
  failNext(count: number, withWhat: number | 'drop' = 500): void {
    this.failures = { count, with: withWhat };
  }

  /** `port` 0 picks a free one; give the earlier port to come back where the hub delivers. */
  async start(port = 0): Promise<string> {
    this.server = createServer((request, response) => {
      void this.handle(request).then(
        (answer) => {
          if (answer === 'drop') {
            request.socket.destroy();
            return;
          }
          response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'fail');
        },
        () => response.writeHead(500).end(),
      );
    });
    await new Promise<void>((done) => this.server!.listen(port, '127.0.0.1', done));
    const bound = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${bound}/fest/deltas`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((done) => (this.server ? this.server.close(() => done()) : done()));
  }

  private async handle(request: IncomingMessage): Promise<number | 'drop'> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    this.attempts++;
    if (this.failures.count > 0) {
      this.failures.count--;
      return this.failures.with;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const expected = `sha256=${createHmac('sha256', this.secret).update(body, 'utf8').digest('hex')}`;
    const given = String(request.headers['x-fest-signature'] ?? '');
    const signatureValid =
      given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    if (!signatureValid) return 401;
    this.deliveries.push({
      receivedAt: Date.now(),
      fromVersion: Number(request.headers['x-fest-from-version']),
      toVersion: Number(request.headers['x-fest-to-version']),
      body,
      signatureValid,
      schemaErrors: schemaCheckOf(body),
    });
    return 204;
  }
}

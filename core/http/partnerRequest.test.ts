/** A partner request on node:http: what it gives back, and how it fails. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerRequest } from './partnerRequest.ts';

let server: Server;
let base: string;
let connections = 0;
const seen: { method?: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      seen.push({ method: request.method, headers: request.headers, body });
      if (request.url === '/slow') return; // never answers
      response.setHeader('retry-after', '7');
      response.setHeader('set-cookie', ['a=1', 'b=2']);
      response.writeHead(request.url === '/busy' ? 503 : 201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ got: body, ø: 'æøå' }));
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('partnerRequest', () => {
  it('sends the method, headers and body, and gives the status, headers and text of the answer', async () => {
    const answer = await partnerRequest(`${base}/notify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
      body: '{"flag":"å"}',
      timeoutMs: 5_000,
    });
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.text)).toEqual({ got: '{"flag":"å"}', ø: 'æøå' });
    expect(answer.header('Retry-After')).toBe('7');
    expect(answer.header('set-cookie')).toBe('a=1');
    expect(answer.header('x-absent')).toBeNull();
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      headers: { 'idempotency-key': 'k-1', 'content-length': String(Buffer.byteLength('{"flag":"å"}')) },
    });
  });

  it('keeps the connection for the next request', async () => {
    const before = connections;
    for (let i = 0; i < 3; i++)
      expect((await partnerRequest(`${base}/busy`, { method: 'GET', timeoutMs: 5_000 })).status).toBe(503);
    expect(connections - before).toBeLessThanOrEqual(1);
  });

  it('rejects with the reason when nothing answers in time, or nothing listens', async () => {
    await expect(partnerRequest(`${base}/slow`, { method: 'GET', timeoutMs: 100 })).rejects.toThrow(
      'no answer within 100 ms',
    );
    await expect(partnerRequest('http://127.0.0.1:1/', { method: 'GET', timeoutMs: 5_000 })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});

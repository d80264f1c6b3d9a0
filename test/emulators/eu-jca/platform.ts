/**
 * A stand-in for the EU HTA IT platform's side of the channel: serves the JCA documents the
 * notifications link to, and records every request it gets, so a test can prove that no hostile XML ever
 * made the hub call out (an XXE canary). Real HTTP on 127.0.0.1, port 0.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EuPlatform {
  url: string;
  /** Every request the platform received: method and path. */
  requests: { method: string; path: string }[];
  close: () => Promise<void>;
}

export async function startEuPlatform(): Promise<EuPlatform> {
  const requests: EuPlatform['requests'] = [];
  const server = createServer((request: IncomingMessage, response) => {
    requests.push({ method: request.method ?? 'GET', path: request.url ?? '/' });
    if (request.url?.endsWith('.dtd') || request.url?.endsWith('/dtd')) {
      response.writeHead(200, { 'content-type': 'application/xml-dtd' });
      response.end('<!ENTITY leaked "the hub fetched an external entity">');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/pdf' });
    response.end('%PDF-1.7 (a JCA report stand-in)');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

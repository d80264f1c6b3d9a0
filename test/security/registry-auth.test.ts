/**
 * Schema-registry credentials: a registry behind authentication (a loopback gate in front of the real registry that
 * refuses requests without the right Authorization, as a registry behind an auth proxy or with basic auth does) is
 * used with SCHEMA_REGISTRY_USERNAME/PASSWORD or SCHEMA_REGISTRY_TOKEN, and refused without them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ContractRegistry, registryAuthOf } from '../../core/bus/registry.ts';
import { loadConfig } from '../../core/config/spec.ts';

const BASIC = `Basic ${Buffer.from('hub:registry-secret').toString('base64')}`;
const BEARER = 'Bearer token-for-the-hub';
let gate: Server;
let url: string;
const seen: string[] = [];

beforeAll(async () => {
  const upstream = new URL(inject('schemaRegistryUrl'));
  gate = createServer(async (request, response) => {
    const authorization = request.headers.authorization ?? '';
    seen.push(authorization);
    if (authorization !== BASIC && authorization !== BEARER) {
      response.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Basic realm="registry"',
      });
      response.end(JSON.stringify({ error_code: 40101, message: 'Unauthorized' }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = (request.url ?? '/').replace(/^\/registry/, upstream.pathname.replace(/\/$/, ''));
    const answer = await fetch(new URL(path, upstream.origin), {
      method: request.method ?? 'GET',
      headers: { 'content-type': request.headers['content-type'] ?? 'application/json' },
      ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
    });
    response.writeHead(answer.status, {
      'content-type': answer.headers.get('content-type') ?? 'application/json',
    });
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/registry`;
});

afterAll(async () => {
  await new Promise((resolve) => gate?.close(resolve));
});

const TOPIC = 'financing.drug-decisions.v1';

describe('a registry that needs credentials', () => {
  it('is used with basic auth from the settings', async () => {
    const config = loadConfig({
      SCHEMA_REGISTRY_USERNAME: 'hub',
      SCHEMA_REGISTRY_PASSWORD: 'registry-secret',
    });
    const registry = new ContractRegistry(url, registryAuthOf(config));
    expect(registry.authorization).toBe(BASIC);
    expect(await registry.register(TOPIC)).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(BASIC);
  });

  it('is used with a bearer token from the settings', async () => {
    const registry = new ContractRegistry(
      url,
      registryAuthOf(loadConfig({ SCHEMA_REGISTRY_TOKEN: 'token-for-the-hub' })),
    );
    expect(await registry.register(TOPIC)).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(BEARER);
  });

  it('is refused without them', async () => {
    await expect(new ContractRegistry(url).register(TOPIC)).rejects.toThrow(/401|Unauthorized/);
  });
});

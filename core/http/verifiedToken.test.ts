/**
 * Issue 20: a route asks what the verified token holds, not the Authorization header again. `requestHasScope`
 * used to decode the header's JWT without checking it, so a route that asked it for a second scope (the
 * confidential one) believed a token signed by anyone.
 */
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../config/spec.ts';
import { requestHasScope, TokenVerifier } from './auth.ts';
import { DEV_ISSUER, DevIssuer } from './devIssuer.ts';
import { createHubServer } from './server.ts';

const issuer = await DevIssuer.ephemeral();
const stranger = await DevIssuer.ephemeral();
const config = loadConfig({ AUTH_DEV_ISSUER: 'false' });
const app = await createHubServer({
  config,
  verifier: new TokenVerifier({ jwks: issuer.jwks(), issuer: DEV_ISSUER, audience: config.AUTH_AUDIENCE }),
  ready: () => true,
});
const answer = (request: Parameters<typeof requestHasScope>[0] & { subject?: string }) => ({
  subject: request.subject ?? null,
  confidential: requestHasScope(request, 'secret'),
});
app.get('/guarded', { onRequest: app.requireScope('read') }, async (request) => answer(request));
app.get('/open', async (request) => answer(request));
await app.ready();
afterAll(() => app.close());

const mint = (scopes: string[], by = issuer) =>
  by.mint({ scopes, audience: config.AUTH_AUDIENCE, issuer: DEV_ISSUER, subject: 'someone' });
const get = async (url: string, token: string) =>
  (await app.inject({ url, headers: { authorization: `Bearer ${token}` } })).json();

it('gives a route the verified token: its subject and every scope it holds', async () => {
  expect(await get('/guarded', await mint(['read', 'secret']))).toEqual({
    subject: 'someone',
    confidential: true,
  });
  expect(await get('/guarded', await mint(['read']))).toEqual({ subject: 'someone', confidential: false });
});

it('never counts the scopes of a token no check has verified, whoever signed it', async () => {
  expect(await get('/open', await mint(['read', 'secret'], stranger))).toEqual({
    subject: null,
    confidential: false,
  });
});

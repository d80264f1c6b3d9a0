/** Token checks: each way a token can fail gets its own status and code. */
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenVerifier } from './auth.ts';
import { DEV_ISSUER, DevIssuer } from './devIssuer.ts';

const SCOPE = 'nyemetoder:case-events:write';

describe('TokenVerifier', async () => {
  const issuer = await DevIssuer.ephemeral();
  const stranger = await DevIssuer.ephemeral();
  const verifier = new TokenVerifier({ jwks: issuer.jwks(), issuer: DEV_ISSUER, audience: 'metodehub' });
  const mint = (extra: Partial<Parameters<DevIssuer['mint']>[0]> = {}, by = issuer) =>
    by.mint({ scopes: [SCOPE], audience: 'metodehub', ...extra });

  it('accepts a token with the scope, and says who it is for', async () => {
    const result = await verifier.verify(`Bearer ${await mint({ subject: 'saksbehandler' })}`, SCOPE);
    expect(result).toMatchObject({ ok: true, subject: 'saksbehandler', scopes: [SCOPE] });
  });

  it.each([
    ['no header', async () => undefined, 401, 'MISSING_TOKEN'],
    ['not a bearer token', async () => 'Basic dXNlcjpwdw==', 401, 'MISSING_TOKEN'],
    ['expired', async () => `Bearer ${await mint({ expiresIn: -120 })}`, 401, 'TOKEN_EXPIRED'],
    ['another audience', async () => `Bearer ${await mint({ audience: 'fest' })}`, 401, 'TOKEN_INVALID'],
    ['another issuer', async () => `Bearer ${await mint({ issuer: 'someone-else' })}`, 401, 'TOKEN_INVALID'],
    ['signed by another key', async () => `Bearer ${await mint({}, stranger)}`, 401, 'TOKEN_INVALID'],
    ['not a JWT', async () => 'Bearer abc.def', 401, 'TOKEN_INVALID'],
    [
      'without the scope',
      async () => `Bearer ${await mint({ scopes: ['nyemetoder:methods:read'] })}`,
      403,
      'INSUFFICIENT_SCOPE',
    ],
  ])('refuses a token %s', async (_what, header, status, code) => {
    const result = await verifier.verify(await header(), SCOPE);
    expect(result).toMatchObject({ ok: false, status, code });
    expect(result.ok ? '' : result.reason.length).toBeGreaterThan(10);
  });

  it('refuses a token without exp: one that never expires is one that cannot be revoked', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const own = new TokenVerifier({ jwks: { keys: [jwk] }, issuer: DEV_ISSUER, audience: 'metodehub' });
    const forever = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(DEV_ISSUER)
      .setAudience('metodehub')
      .setSubject('someone')
      .setIssuedAt()
      .sign(privateKey);
    const result = await own.verify(`Bearer ${forever}`, SCOPE);
    expect(result).toMatchObject({ ok: false, status: 401, code: 'TOKEN_WITHOUT_EXPIRY' });
  });

  it('the dev issuer always sets exp', async () => {
    for (const expiresIn of [undefined, '5m', 3600, -120]) {
      const claims = decodeJwt(await mint(expiresIn === undefined ? {} : { expiresIn }));
      expect(typeof claims.exp, String(expiresIn)).toBe('number');
    }
  });

  describe('a token accepted once', () => {
    afterEach(() => vi.useRealTimers());

    it('is refused as expired once its exp has passed, though it was accepted and kept before', async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const own = new TokenVerifier({ jwks: issuer.jwks(), issuer: DEV_ISSUER, audience: 'metodehub' });
      const header = `Bearer ${await mint({ expiresIn: 30 })}`;
      expect(await own.verify(header, SCOPE)).toMatchObject({ ok: true });
      vi.setSystemTime(Date.now() + 10_000);
      expect(await own.verify(header, SCOPE)).toMatchObject({ ok: true });
      vi.setSystemTime(Date.now() + 21_000);
      expect(await own.verify(header, SCOPE)).toMatchObject({ ok: false, code: 'TOKEN_EXPIRED' });
    });

    it('does not let a token that differs from it in one character pass, nor another scope', async () => {
      const token = await mint();
      expect(await verifier.verify(`Bearer ${token}`, SCOPE)).toMatchObject({ ok: true });
      // A character inside the signature: the last one may carry only padding bits, so changing it can change nothing.
      const at = token.lastIndexOf('.') + 10;
      const other = token[at] === 'A' ? 'B' : 'A';
      const altered = `${token.slice(0, at)}${other}${token.slice(at + 1)}`;
      expect(await verifier.verify(`Bearer ${altered}`, SCOPE)).toMatchObject({
        ok: false,
        code: 'TOKEN_INVALID',
      });
      expect(await verifier.verify(`Bearer ${token}`, 'nyemetoder:admin')).toMatchObject({
        ok: false,
        code: 'INSUFFICIENT_SCOPE',
      });
    });
  });

  it('reads scopes from "scp" arrays too', async () => {
    const { scopesOf } = await import('./auth.ts');
    expect(scopesOf({ scp: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(scopesOf({ scope: 'a b' })).toEqual(['a', 'b']);
  });
});

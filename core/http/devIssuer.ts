/**
 * The dev issuer: a local stand-in for the OAuth2 authorization server (HelseID in production), so
 * `npm start` can hand out a working token. Its RSA key is kept in a git-ignored file, so tokens survive
 * a restart and the CLI can mint one too. Never enabled unless AUTH_DEV_ISSUER=true.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

export const DEV_ISSUER = 'metodehub-dev-issuer';

export interface MintOptions {
  scopes: string[];
  audience: string;
  subject?: string;
  /** A jose duration ("12h") or seconds; negative for an already expired token (tests). */
  expiresIn?: string | number;
  issuer?: string;
}

export class DevIssuer {
  private constructor(
    private readonly privateJwk: JWK,
    private readonly publicJwk: JWK,
  ) {}

  /** A fresh key that lives as long as the process. */
  static async ephemeral(): Promise<DevIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = randomUUID();
    return new DevIssuer(
      { ...(await exportJWK(privateKey)), kid, alg: 'RS256' },
      { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    );
  }

  /** The key in `file`, made and saved on first use. */
  static async fromFile(file: string): Promise<DevIssuer> {
    try {
      const saved = JSON.parse(await readFile(file, 'utf8')) as { privateJwk: JWK; publicJwk: JWK };
      return new DevIssuer(saved.privateJwk, saved.publicJwk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new Error(
          `the dev issuer key ${file} is unreadable (${(error as Error).message}); delete it to make a new one`,
        );
      }
    }
    const issuer = await DevIssuer.ephemeral();
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ privateJwk: issuer.privateJwk, publicJwk: issuer.publicJwk }), {
      mode: 0o600,
    });
    return issuer;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  async mint(options: MintOptions): Promise<string> {
    const key = await importJWK(this.privateJwk, 'RS256');
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = options.expiresIn ?? '12h';
    const jwt = new SignJWT({ scope: options.scopes.join(' ') })
      .setProtectedHeader({ alg: 'RS256', kid: this.publicJwk.kid!, typ: 'at+jwt' })
      .setIssuer(options.issuer ?? DEV_ISSUER)
      .setAudience(options.audience)
      .setSubject(options.subject ?? 'dev-user')
      .setJti(randomUUID());
    if (typeof expiresIn === 'number') {
      jwt.setIssuedAt(Math.min(now, now + expiresIn - 60)).setExpirationTime(now + expiresIn);
    } else {
      jwt.setIssuedAt(now).setExpirationTime(expiresIn);
    }
    return jwt.sign(key);
  }
}

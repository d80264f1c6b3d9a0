/**
 * Bearer-token checks for the hub's API: an OAuth2 access token (JWT) signed by a key of the configured
 * JWKS, for our issuer and audience, carrying the scope the route needs. Each refusal says which of those
 * failed, with 401 for "who are you" and 403 for "you may not".
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose';

export interface AuthSettings {
  issuer: string;
  audience: string;
  /** Either a JWKS URL or the key set itself (the dev issuer's). */
  jwks: URL | JSONWebKeySet;
}

export type AuthResult =
  | { ok: true; subject: string; scopes: string[]; claims: JWTPayload }
  | { ok: false; status: 401 | 403 | 503; code: string; reason: string };

export function scopesOf(claims: JWTPayload): string[] {
  const scope = claims.scope ?? claims.scp;
  if (typeof scope === 'string') return scope.split(' ').filter(Boolean);
  if (Array.isArray(scope)) return scope.map(String);
  return [];
}

/** What `requireScope` verified of a request's bearer token: signature, issuer, audience and lifetime checked. */
export interface VerifiedToken {
  subject: string;
  scopes: string[];
  claims: JWTPayload;
}

/**
 * Whether a request's verified token (what `requireScope` kept on the request) also holds `scope`. A request
 * no `requireScope` passed has none, so an unverified token's claims never count.
 */
export function requestHasScope(request: { token?: VerifiedToken }, scope: string): boolean {
  return request.token?.scopes.includes(scope) ?? false;
}

/**
 * How long a token's verified claims are kept (ms), never past its exp. (A remote key set is itself kept by jose
 * for up to 10 minutes, so a key the issuer drops stops counting no later than it did without this.)
 */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
const VERIFIED_TOKENS_KEPT = 1000;

export class TokenVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet> | ReturnType<typeof createLocalJWKSet>;
  /**
   * Claims of tokens whose signature, issuer, audience and lifetime were checked, by the token's exact text: a
   * client sends the same token with every request, and checking its RSA signature each time was 3% of the
   * hub's CPU at 100 requests/s. Only a token that passed is kept, until the earlier of its exp and the TTL.
   */
  private readonly verified = new Map<string, { claims: JWTPayload; until: number }>();

  constructor(private readonly settings: AuthSettings) {
    this.keys =
      settings.jwks instanceof URL
        ? createRemoteJWKSet(settings.jwks, { cooldownDuration: 30_000, cacheMaxAge: 600_000 })
        : createLocalJWKSet(settings.jwks);
  }

  async verify(authorization: string | undefined, requiredScope: string): Promise<AuthResult> {
    if (!authorization) {
      return refuse(
        401,
        'MISSING_TOKEN',
        'no Authorization header; send "Authorization: Bearer <access token>"',
      );
    }
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match)
      return refuse(401, 'MISSING_TOKEN', 'the Authorization header is not "Bearer <access token>"');
    const token = match[1]!;
    const now = Date.now();
    let claims: JWTPayload;
    const kept = this.verified.get(token);
    if (kept && kept.until > now) claims = kept.claims;
    else {
      try {
        ({ payload: claims } = await jwtVerify(token, this.keys, {
          issuer: this.settings.issuer,
          audience: this.settings.audience,
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        this.verified.delete(token);
        return refusalOf(error, this.settings);
      }
      if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.clear();
      this.verified.set(token, { claims, until: Math.min(now + VERIFIED_TOKEN_TTL_MS, claims.exp! * 1000) });
    }
    const scopes = scopesOf(claims);
    if (!scopes.includes(requiredScope)) {
      return refuse(
        403,
        'INSUFFICIENT_SCOPE',
        `the token's scopes are [${scopes.join(' ')}]; this request needs "${requiredScope}"`,
      );
    }
    return { ok: true, subject: claims.sub ?? 'unknown', scopes, claims };
  }
}

const refuse = (status: 401 | 403 | 503, code: string, reason: string): AuthResult => ({
  ok: false,
  status,
  code,
  reason,
});

function refusalOf(error: unknown, settings: AuthSettings): AuthResult {
  if (error instanceof errors.JWTExpired) {
    const exp =
      typeof error.payload.exp === 'number' ? new Date(error.payload.exp * 1000).toISOString() : '?';
    return refuse(401, 'TOKEN_EXPIRED', `the token expired at ${exp}; get a new one`);
  }
  if (
    error instanceof errors.JWTClaimValidationFailed &&
    error.claim === 'exp' &&
    error.reason === 'missing'
  ) {
    return refuse(
      401,
      'TOKEN_WITHOUT_EXPIRY',
      'the token has no "exp" claim; this hub accepts only tokens that expire, ask the issuer for one',
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const wanted = error.claim === 'iss' ? settings.issuer : error.claim === 'aud' ? settings.audience : '';
    return refuse(
      401,
      'TOKEN_INVALID',
      `claim "${error.claim}" failed: ${error.reason}${wanted ? ` (this hub accepts ${wanted})` : ''}`,
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return refuse(401, 'TOKEN_INVALID', 'the token is not signed by a key of the configured issuer');
  }
  if (
    error instanceof errors.JWKSTimeout ||
    (error instanceof errors.JOSEError && /fetch|JWKS/i.test(error.message))
  ) {
    return refuse(503, 'AUTH_UNAVAILABLE', `the issuer's keys could not be fetched: ${error.message}`);
  }
  return refuse(401, 'TOKEN_INVALID', `the token could not be read: ${(error as Error).message}`);
}

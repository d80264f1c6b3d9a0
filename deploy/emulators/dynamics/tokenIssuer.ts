/**
 * The Microsoft Entra ID (Azure AD) side: OAuth2 client-credentials tokens for the Web API. Tokens are
 * signed JWTs like Entra's; the issuer also remembers each one so expiry is exact to the millisecond and
 * `expireAll()` can revoke them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export type TokenGrant =
  | {
      ok: true;
      body: { token_type: 'Bearer'; expires_in: number; ext_expires_in: number; access_token: string };
    }
  | { ok: false; status: 400 | 401; body: { error: string; error_description: string } };

export type TokenCheck =
  | { ok: true; clientId: string }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired'; description: string };

export interface TokenRequest {
  grant_type?: string;
  client_id?: string;
  client_secret?: string;
  scope?: string;
}

export class TokenIssuer {
  private readonly key = randomBytes(32);
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly clients: readonly ClientCredentials[],
    private readonly lifetimeSeconds: () => number,
    private readonly audience: () => string,
    /** When set, `scope` must be `<resource>/.default`; otherwise any `.../.default` scope is accepted. */
    private readonly resource: string | undefined,
  ) {}

  async grant(request: TokenRequest): Promise<TokenGrant> {
    const refuse = (status: 400 | 401, error: string, description: string): TokenGrant => ({
      ok: false,
      status,
      body: { error, error_description: description },
    });
    if (!request.grant_type)
      return refuse(
        400,
        'invalid_request',
        "AADSTS900144: The request body must contain the parameter 'grant_type'.",
      );
    if (request.grant_type !== 'client_credentials') {
      return refuse(
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${request.grant_type}'.`,
      );
    }
    const client = this.clients.find((c) => c.clientId === request.client_id);
    if (!client || client.clientSecret !== request.client_secret) {
      return refuse(
        401,
        'invalid_client',
        `AADSTS7000215: Invalid client secret provided for client '${request.client_id ?? ''}'.`,
      );
    }
    const scope = request.scope ?? '';
    const wanted = this.resource === undefined ? undefined : `${this.resource.replace(/\/$/, '')}/.default`;
    if (!scope.endsWith('/.default') || (wanted !== undefined && scope !== wanted)) {
      return refuse(
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope '${scope}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier${wanted ? ` (${wanted})` : ''}.`,
      );
    }
    const lifetimeMs = this.lifetimeSeconds() * 1000;
    const now = Date.now();
    const jti = randomUUID();
    const accessToken = await new SignJWT({ appid: client.clientId, roles: [] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setJti(jti)
      .setAudience(this.audience())
      .setIssuer('https://sts.windows.net/emulator/')
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.ceil((now + lifetimeMs) / 1000))
      .sign(this.key);
    this.expiries.set(jti, now + lifetimeMs);
    const expiresIn = Math.max(1, Math.ceil(lifetimeMs / 1000));
    return {
      ok: true,
      body: {
        token_type: 'Bearer',
        expires_in: expiresIn,
        ext_expires_in: expiresIn,
        access_token: accessToken,
      },
    };
  }

  async check(authorization: string | undefined): Promise<TokenCheck> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match)
      return { ok: false, reason: 'missing', description: 'No bearer token in the Authorization header.' };
    try {
      const { payload } = await jwtVerify(match[1]!, this.key, { audience: this.audience() });
      const expiresAt = payload.jti === undefined ? undefined : this.expiries.get(payload.jti);
      if (expiresAt === undefined)
        return { ok: false, reason: 'invalid', description: 'The access token is not known.' };
      if (Date.now() >= expiresAt)
        return { ok: false, reason: 'expired', description: 'The access token has expired.' };
      return { ok: true, clientId: String(payload['appid']) };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED')
        return { ok: false, reason: 'expired', description: 'The access token has expired.' };
      return { ok: false, reason: 'invalid', description: 'The access token is invalid.' };
    }
  }

  /** Every token issued so far stops working; new ones can be fetched. */
  expireAll(): void {
    for (const jti of this.expiries.keys()) this.expiries.set(jti, 0);
  }

  clear(): void {
    this.expiries.clear();
  }
}

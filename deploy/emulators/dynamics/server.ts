/**
 * A stand-in for SLV's Microsoft Dynamics 365 (Dataverse) Web API, for tests of the SLV adapter: OAuth2
 * client-credentials tokens, `nm_methodcases` and `annotations` under `/api/data/v9.2/`, service
 * protection limits, change tracking, fault switches and control helpers. See README.md.
 */
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { type AppliedWrite, asEntity, CaseStore } from './caseStore.ts';
import { type FaultChanges, type Faults, noFaults, parseFaultChanges } from './faults.ts';
import { apiPath, errorCodes, jsonContentType, ODataError } from './odata.ts';
import {
  changeSettings,
  type DynamicsEmulatorOptions,
  type RuntimeSettings,
  resolveSettings,
  type SeedCase,
  type Settings,
} from './options.ts';
import { type Counters, loggedHeaders, RequestLog, type RequestLogEntry } from './requestLog.ts';
import type { Annotation, Entity, MethodCase, MethodCaseChanges } from './schema.ts';
import { ServiceProtection } from './serviceProtection.ts';
import { TokenIssuer, type TokenRequest } from './tokenIssuer.ts';
import { readCaseBody, WebApi } from './webApi.ts';

export type { DynamicsEmulatorOptions, SeedCase, RuntimeSettings } from './options.ts';
export type { Faults, FaultChanges } from './faults.ts';
export type { Counters, RequestLogEntry } from './requestLog.ts';
export type { MethodCase, MethodCaseChanges, Annotation, Entity } from './schema.ts';
export type { AppliedWrite } from './caseStore.ts';

export interface DynamicsEmulator {
  /** Organisation URL, e.g. http://127.0.0.1:41234 (the Web API is under `${url}/api/data/v9.2`). */
  url: string;
  apiUrl: string;
  /** Client-credentials token endpoint (also served as `/<tenant>/oauth2/v2.0/token`). */
  tokenUrl: string;
  close(): Promise<void>;
  /** Changes fault switches; `down: true` resolves once connections are refused. */
  setFaults(changes: FaultChanges): Promise<void>;
  faults(): Faults;
  /** Changes run-time settings such as tokenLifetimeSeconds or maxRequests. */
  configure(changes: RuntimeSettings): void;
  settings(): Settings;
  /** Every access token issued so far answers 401 from now on. */
  expireAllTokens(): void;
  /** Every delta link issued so far answers 400 (expired) from now on. */
  expireDeltaTokens(): void;
  /** An SLV case handler edits a case: only the columns given change (the rest keep their values); new version and modifiedon. */
  editAsSlv(nyeMetoderId: string, changes: MethodCaseChanges): Entity<MethodCase>;
  /** SLV creates a case itself. */
  createAsSlv(methodCase: SeedCase): Entity<MethodCase>;
  /** SLV deletes a case; change tracking reports it as deleted. */
  deleteAsSlv(nyeMetoderId: string): void;
  /**
   * Runs `edit` once, just before the next PATCH is applied: an edit at SLV that lands between a client's
   * read and its conditional write, so the write meets a newer version (412 when it sent If-Match).
   */
  beforeNextPatch(edit: () => void): void;
  records(): Entity<MethodCase>[];
  /**
   * Every method-case write applied, oldest first, with the columns it set. Unlike the request log it
   * holds a write whose answer never left (the connection was cut after the row changed).
   */
  appliedWrites(): AppliedWrite[];
  record(nyeMetoderId: string): Entity<MethodCase> | undefined;
  notes(): Entity<Annotation>[];
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  counters(): Counters;
  /** Empties data, log, counters, faults and limits, restores settings and seed. Issued tokens stay valid. */
  reset(): Promise<void>;
}

const controlPath = '/_emulator';

export async function startDynamicsEmulator(
  options: DynamicsEmulatorOptions = {},
): Promise<DynamicsEmulator> {
  const initial = resolveSettings(options);
  let settings = initial;
  let faults = noFaults();
  let minimumDeltaVersion = 0;
  const pendingPatchEdits: (() => void)[] = [];
  let baseUrl = '';

  const store = new CaseStore();
  const log = new RequestLog();
  const protection = new ServiceProtection(() => settings);
  const issuer = new TokenIssuer(
    settings.clients,
    () => settings.tokenLifetimeSeconds,
    () => baseUrl,
    settings.resource,
  );
  const webApi = new WebApi({
    baseUrl: () => baseUrl,
    store,
    defaultPageSize: () => settings.defaultPageSize,
    deltaTokenRetentionSeconds: () => settings.deltaTokenRetentionSeconds,
    minimumDeltaVersion: () => minimumDeltaVersion,
  });
  const seed = (cases: SeedCase[]) => {
    for (const methodCase of cases) createAsSlv(methodCase);
  };

  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 16 * 1024 * 1024 });
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  /** What the log needs from a request that only the handler knows. */
  const outcome = new WeakMap<FastifyRequest, { clientId?: string; errorCode?: string }>();

  // Dataverse reads JSON bodies only (Entra's token endpoint reads forms); anything else is 415.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(
        new ODataError(
          400,
          errorCodes.odata,
          `The request body is not valid JSON: ${(error as Error).message}`,
        ),
        undefined,
      );
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (error instanceof ODataError) return sendODataError(request, reply, error);
    const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
    const message =
      status === 415
        ? `The content type '${request.headers['content-type'] ?? ''}' is not supported; send application/json.`
        : error.message;
    return sendODataError(request, reply, new ODataError(status, errorCodes.odata, message));
  });

  const isControl = (request: FastifyRequest) => request.url.startsWith(controlPath);

  app.addHook('onSend', async (request, _reply, payload) => {
    if (!isControl(request) && faults.slowMs > 0) await sleep(faults.slowMs);
    if (!isControl(request) && faults.slowWritesMs > 0 && ['POST', 'PATCH'].includes(request.method))
      await sleep(faults.slowWritesMs);
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    if (isControl(request)) return;
    const known = outcome.get(request) ?? {};
    const headers: RequestLogEntry['headers'] = {};
    for (const name of loggedHeaders) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = name === 'authorization' ? value.split(' ')[0]! : value;
    }
    const retryAfter = reply.getHeader('retry-after');
    log.record({
      at: new Date().toISOString(),
      method: request.method,
      path: request.url,
      status: reply.statusCode,
      headers,
      ...(known.clientId === undefined ? {} : { clientId: known.clientId }),
      ...(request.body === undefined ? {} : { body: withoutSecret(request.body) }),
      ...(known.errorCode === undefined ? {} : { errorCode: known.errorCode }),
      ...(retryAfter === undefined ? {} : { retryAfter: String(retryAfter) }),
    });
  });

  function sendODataError(request: FastifyRequest, reply: FastifyReply, error: ODataError) {
    outcome.set(request, { ...outcome.get(request), errorCode: error.code });
    return reply
      .code(error.status)
      .headers({ 'odata-version': '4.0', ...error.headers })
      .header('content-type', jsonContentType)
      .send(JSON.stringify(error.body()));
  }

  // Microsoft Entra ID token endpoint (v1 and v2 paths, with or without a tenant segment).
  const tokenHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const form = (
      typeof request.body === 'object' && request.body !== null ? request.body : {}
    ) as TokenRequest;
    const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (basic) {
      const [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      form.client_id ??= decodeURIComponent(id ?? '');
      form.client_secret ??= decodeURIComponent(secret ?? '');
    }
    outcome.set(request, form.client_id === undefined ? {} : { clientId: form.client_id });
    const grant = await issuer.grant(form);
    reply.headers({
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'content-type': 'application/json; charset=utf-8',
    });
    if (!grant.ok) {
      outcome.set(request, { ...outcome.get(request), errorCode: grant.body.error });
      return reply.code(grant.status).send(JSON.stringify(grant.body));
    }
    return reply.code(200).send(JSON.stringify(grant.body));
  };
  app.post('/oauth2/token', tokenHandler);
  app.post('/:tenant/oauth2/token', tokenHandler);
  app.post('/:tenant/oauth2/v2.0/token', tokenHandler);

  app.route({
    method: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
    url: `${apiPath}/*`,
    handler: async (request, reply) => {
      const refusedByFault = faults.fail401Count > 0;
      if (refusedByFault) faults.fail401Count--;
      const auth = refusedByFault
        ? ({ ok: false, reason: 'expired', description: 'The token is not accepted now.' } as const)
        : await issuer.check(request.headers.authorization);
      if (!auth.ok) {
        // RFC 6750: a request without credentials gets the challenge without an error code.
        const error =
          auth.reason === 'missing' ? '' : `error="invalid_token", error_description="${auth.description}", `;
        return reply
          .code(401)
          .headers({
            'odata-version': '4.0',
            'www-authenticate': `Bearer ${error}authorization_uri="${baseUrl}/oauth2/authorize", resource_id="${baseUrl}/"`,
          })
          .send();
      }
      outcome.set(request, { clientId: auth.clientId });
      try {
        if (faults.throttle) {
          const { retryAfterSeconds, count } = faults.throttle;
          if (count !== undefined)
            faults.throttle = count > 1 ? { retryAfterSeconds, count: count - 1 } : null;
          throw new ODataError(
            429,
            errorCodes.requestsExceeded,
            `Number of requests exceeded the limit of ${settings.maxRequests} over time window of ${settings.windowSeconds} seconds.`,
            { 'retry-after': String(retryAfterSeconds) },
          );
        }
        const admitted = protection.admit(auth.clientId);
        reply.raw.once('close', admitted.release);
        reply.header('x-ms-ratelimit-burst-remaining-xrm-requests', String(admitted.remaining));
        if (faults.fail500Count > 0 || (faults.fail500Rate > 0 && Math.random() < faults.fail500Rate)) {
          if (faults.fail500Count > 0) faults.fail500Count--;
          throw new ODataError(500, errorCodes.unexpected, 'An unexpected error occurred.');
        }
        if (request.method === 'PATCH') pendingPatchEdits.shift()?.();
        const [pathname, search = ''] = request.url.slice(apiPath.length + 1).split(/\?(.*)/s);
        const response = webApi.handle({
          method: request.method,
          resource: pathname ?? '',
          query: new URLSearchParams(search),
          headers: request.headers as Record<string, string | undefined>,
          body: request.body,
        });
        if (response.write) log.countWrite(response.write);
        reply.code(response.status).headers({ 'odata-version': '4.0', ...response.headers });
        if (response.body === undefined) return reply.send();
        return reply.header('content-type', jsonContentType).send(JSON.stringify(response.body));
      } catch (error) {
        if (error instanceof ODataError) return sendODataError(request, reply, error);
        throw error;
      }
    },
  });

  // Going down and coming back up on the same port.
  let isDown = false;
  let downTimer: NodeJS.Timeout | undefined;
  let port = settings.port;

  async function goDown(): Promise<void> {
    if (isDown) return;
    isDown = true;
    await new Promise<void>((resolve) => {
      app.server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    // Lets clients in this process see their pooled connections close before the next request.
    await sleep(20);
  }

  async function comeUp(): Promise<void> {
    if (!isDown) return;
    await new Promise<void>((resolve, reject) => {
      app.server.once('error', reject);
      app.server.listen(port, settings.host, () => {
        app.server.off('error', reject);
        resolve();
      });
    });
    isDown = false;
  }

  /** Applies every fault but `down`; returns what to do about `down`. */
  function applyFaults(changes: FaultChanges): { down?: boolean; downForMs?: number } {
    const { down, downForMs, ...rest } = changes;
    faults = { ...faults, ...rest };
    return { ...(down === undefined ? {} : { down }), ...(downForMs === undefined ? {} : { downForMs }) };
  }

  async function applyDown({ down, downForMs }: { down?: boolean; downForMs?: number }): Promise<void> {
    clearTimeout(downTimer);
    downTimer = undefined;
    if (down === false) return comeUp();
    if (down === true || downForMs !== undefined) {
      await goDown();
      if (downForMs !== undefined) {
        downTimer = setTimeout(() => {
          downTimer = undefined;
          comeUp().catch((error: Error) =>
            process.stderr.write(`[dynamics emulator] could not come back up: ${error.message}\n`),
          );
        }, downForMs);
      }
    }
  }

  function editAsSlv(nyeMetoderId: string, changes: MethodCaseChanges): Entity<MethodCase> {
    const row = store.getByNyeMetoderId(nyeMetoderId);
    if (!row)
      throw new Error(
        `SLV_CASE_NOT_FOUND: SLV has no case for ${nyeMetoderId}; create it with createAsSlv or seed`,
      );
    const checked = readCaseBody(changes);
    return asEntity({ ...store.update(row, checked) });
  }

  function createAsSlv(methodCase: SeedCase): Entity<MethodCase> {
    if (store.getByNyeMetoderId(methodCase.nm_nyemetoderid)) {
      throw new Error(`SLV_CASE_EXISTS: SLV already has a case for ${methodCase.nm_nyemetoderid}`);
    }
    const checked = readCaseBody(methodCase);
    return asEntity({ ...store.create(methodCase.nm_nyemetoderid, checked) });
  }

  function deleteAsSlv(nyeMetoderId: string): void {
    const row = store.getByNyeMetoderId(nyeMetoderId);
    if (!row) throw new Error(`SLV_CASE_NOT_FOUND: SLV has no case for ${nyeMetoderId}`);
    store.delete(row);
  }

  async function reset(): Promise<void> {
    await applyDown({ down: false });
    faults = noFaults();
    settings = initial;
    minimumDeltaVersion = 0;
    pendingPatchEdits.length = 0;
    store.clear();
    protection.clear();
    log.clear();
    seed(settings.seed);
  }

  registerControlRoutes();

  function registerControlRoutes() {
    const fail = (reply: FastifyReply, error: unknown) =>
      reply.code(400).send({ error: error instanceof Error ? error.message : String(error) });
    app.get(`${controlPath}/faults`, async () => ({ ...faults, down: isDown }));
    app.post(`${controlPath}/faults`, async (request, reply) => {
      try {
        const down = applyFaults(parseFaultChanges(request.body));
        // Answer first: going down destroys this very connection.
        reply.raw.once('finish', () => {
          applyDown(down).catch(() => {});
        });
        return reply.send({ ...faults, down: down.down ?? (down.downForMs !== undefined ? true : isDown) });
      } catch (error) {
        return fail(reply, error);
      }
    });
    app.post(`${controlPath}/config`, async (request, reply) => {
      try {
        settings = changeSettings(settings, (request.body ?? {}) as RuntimeSettings);
        return reply.send(publicSettings(settings));
      } catch (error) {
        return fail(reply, error);
      }
    });
    app.post(`${controlPath}/reset`, async () => {
      await reset();
      return { ok: true };
    });
    app.post(`${controlPath}/expire-tokens`, async () => {
      issuer.expireAll();
      return { ok: true };
    });
    app.post(`${controlPath}/expire-delta-tokens`, async () => {
      minimumDeltaVersion = store.currentVersion() + 1;
      return { ok: true };
    });
    app.post(`${controlPath}/slv-edits`, async (request, reply) => {
      try {
        const { nm_nyemetoderid, changes } = (request.body ?? {}) as {
          nm_nyemetoderid?: string;
          changes?: MethodCaseChanges;
        };
        return reply.send(editAsSlv(String(nm_nyemetoderid), changes ?? {}));
      } catch (error) {
        return fail(reply, error);
      }
    });
    app.post(`${controlPath}/slv-cases`, async (request, reply) => {
      try {
        return reply.send(createAsSlv((request.body ?? {}) as SeedCase));
      } catch (error) {
        return fail(reply, error);
      }
    });
    app.delete(`${controlPath}/slv-cases/:id`, async (request, reply) => {
      try {
        deleteAsSlv((request.params as { id: string }).id);
        return reply.send({ ok: true });
      } catch (error) {
        return fail(reply, error);
      }
    });
    app.get(`${controlPath}/records`, async () => emulator.records());
    app.get(`${controlPath}/notes`, async () => emulator.notes());
    app.get(`${controlPath}/writes`, async () => emulator.appliedWrites());
    app.get(`${controlPath}/requests`, async () => log.list());
    app.get(`${controlPath}/counters`, async () => log.counters());
  }

  seed(settings.seed);
  await app.listen({ host: settings.host, port: settings.port });
  const address = app.server.address();
  if (address === null || typeof address === 'string')
    throw new Error('EMULATOR_NOT_LISTENING: no TCP address');
  port = address.port;
  baseUrl = `http://${settings.host}:${port}`;

  const emulator: DynamicsEmulator = {
    url: baseUrl,
    apiUrl: `${baseUrl}${apiPath}`,
    tokenUrl: `${baseUrl}/oauth2/token`,
    async close() {
      clearTimeout(downTimer);
      await app.close();
    },
    async setFaults(changes) {
      const checked = parseFaultChanges(changes);
      await applyDown(applyFaults(checked));
    },
    faults: () => ({ ...faults, down: isDown }),
    configure(changes) {
      settings = changeSettings(settings, changes);
    },
    settings: () => ({ ...settings }),
    expireAllTokens: () => issuer.expireAll(),
    expireDeltaTokens() {
      minimumDeltaVersion = store.currentVersion() + 1;
    },
    editAsSlv,
    createAsSlv,
    deleteAsSlv,
    beforeNextPatch: (edit) => {
      pendingPatchEdits.push(edit);
    },
    records: () => store.all().map((row) => asEntity({ ...row })),
    record(nyeMetoderId) {
      const row = store.getByNyeMetoderId(nyeMetoderId);
      return row && asEntity({ ...row });
    },
    appliedWrites: () => store.writes(),
    notes: () => store.allAnnotations().map((note) => asEntity({ ...note })),
    requestLog: () => log.list(),
    clearRequestLog: () => log.clear(),
    counters: () => log.counters(),
    reset,
  };
  return emulator;
}

function publicSettings(settings: Settings): Omit<Settings, 'clients'> {
  const { clients: _clients, ...rest } = settings;
  return rest;
}

function withoutSecret(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || !('client_secret' in body)) return body;
  const { client_secret: _secret, ...rest } = body as Record<string, unknown>;
  return rest;
}

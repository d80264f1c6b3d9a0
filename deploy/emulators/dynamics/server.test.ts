import { readFileSync } from 'node:fs';
import axios from 'axios';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { settings } from './options.ts';
import { type DynamicsEmulator, startDynamicsEmulator } from './server.ts';

const client = { clientId: 'metodehub-slv', clientSecret: 'emulator-secret' };

let emulator: DynamicsEmulator;

beforeAll(async () => {
  emulator = await startDynamicsEmulator({ clients: [client] });
});
afterAll(async () => {
  await emulator?.close();
});
afterEach(async () => {
  await emulator.reset();
});

async function requestToken(
  em: DynamicsEmulator,
  secret = client.clientSecret,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(em.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: client.clientId,
      client_secret: secret,
      scope: `${em.url}/.default`,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function bearer(em: DynamicsEmulator): Promise<string> {
  const { body } = await requestToken(em);
  return String(body['access_token']);
}

/** A Web API call the way the adapter makes one. */
async function api(
  em: DynamicsEmulator,
  token: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> | undefined }> {
  const url = path.startsWith('http') ? path : `${em.apiUrl}/${path}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'odata-version': '4.0',
      'odata-maxversion': '4.0',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const caseUrl = (id: string) => `nm_methodcases(nm_nyemetoderid='${id}')`;
const errorOf = (body: Record<string, unknown> | undefined) =>
  (body?.['error'] ?? {}) as { code?: string; message?: string };
const values = (body: Record<string, unknown> | undefined) =>
  (body?.['value'] ?? []) as Record<string, unknown>[];

describe('OAuth2 client credentials', () => {
  it('issues bearer tokens for known clients and refuses wrong secrets', async () => {
    const good = await requestToken(emulator);
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(String(good.body['access_token']).split('.')).toHaveLength(3);

    const bad = await requestToken(emulator, 'wrong');
    expect(bad.status).toBe(401);
    expect(bad.body['error']).toBe('invalid_client');
  });

  it('answers 401 with a Bearer challenge without a token, with a bad one, and once it expires', async () => {
    const none = await fetch(`${emulator.apiUrl}/nm_methodcases`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);

    const forged = await api(emulator, 'not.a.token', 'nm_methodcases');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');

    emulator.configure({ tokenLifetimeSeconds: 0.3 });
    const token = await bearer(emulator);
    expect((await api(emulator, token, 'nm_methodcases')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const expired = await api(emulator, token, 'nm_methodcases');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(emulator.counters().unauthorized401).toBe(3);
  });

  it('expireAllTokens revokes issued tokens; a fresh token works', async () => {
    const token = await bearer(emulator);
    emulator.expireAllTokens();
    expect((await api(emulator, token, 'nm_methodcases')).status).toBe(401);
    expect((await api(emulator, await bearer(emulator), 'nm_methodcases')).status).toBe(200);
  });
});

describe('upsert by alternate key', () => {
  it('creates, then updates, the same row; OData-EntityId names it', async () => {
    const token = await bearer(emulator);
    const created = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      body: { nm_name: 'Pembrolizumab', nm_track: 'A', nm_status: 'Bestilt', nm_sourceeventid: 'evt-1' },
    });
    expect(created.status).toBe(204);
    expect(created.headers.get('odata-version')).toBe('4.0');
    const entityId = created.headers.get('odata-entityid') ?? '';
    expect(entityId).toMatch(/\/api\/data\/v9\.2\/nm_methodcases\([0-9a-f-]{36}\)$/);

    const updated = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      body: { nm_status: 'Under vurdering', nm_assignmentdate: '2024-03-01' },
    });
    expect(updated.status).toBe(204);
    expect(updated.headers.get('odata-entityid')).toBe(entityId);
    expect(emulator.records()).toHaveLength(1);
    expect(emulator.counters()).toMatchObject({ created: 1, updated: 1 });

    const read = await api(emulator, token, caseUrl('ID2019_074'));
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toContain('application/json; odata.metadata=minimal');
    expect(read.body).toMatchObject({
      '@odata.context': `${emulator.apiUrl}/$metadata#nm_methodcases/$entity`,
      nm_nyemetoderid: 'ID2019_074',
      nm_name: 'Pembrolizumab',
      nm_status: 'Under vurdering',
      nm_assignmentdate: '2024-03-01',
      nm_sourceeventid: 'evt-1',
    });
    const row = read.body!;
    expect(row['@odata.etag']).toBe(`W/"${row['versionnumber']}"`);
    expect(String(row['modifiedon'])).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const byGuid = await api(emulator, token, `nm_methodcases(${row['nm_methodcaseid']})?$select=nm_status`);
    expect(byGuid.body).toEqual({
      '@odata.context': `${emulator.apiUrl}/$metadata#nm_methodcases(nm_status)/$entity`,
      '@odata.etag': row['@odata.etag'],
      nm_status: 'Under vurdering',
      nm_methodcaseid: row['nm_methodcaseid'],
    });
  });

  it('If-Match: * only updates (404 when missing); If-None-Match: * only creates (412 when present)', async () => {
    const token = await bearer(emulator);
    const missing = await api(emulator, token, caseUrl('ID2020_001'), {
      method: 'PATCH',
      headers: { 'if-match': '*' },
      body: { nm_status: 'Bestilt' },
    });
    expect(missing.status).toBe(404);
    expect(errorOf(missing.body).code).toBe('0x80040217');
    expect(emulator.records()).toHaveLength(0);

    const createOnly = { method: 'PATCH', headers: { 'if-none-match': '*' }, body: { nm_status: 'Bestilt' } };
    expect((await api(emulator, token, caseUrl('ID2020_001'), createOnly)).status).toBe(204);
    const again = await api(emulator, token, caseUrl('ID2020_001'), createOnly);
    expect(again.status).toBe(412);
    expect(
      (await api(emulator, token, caseUrl('ID2020_001'), { ...createOnly, headers: { 'if-match': '*' } }))
        .status,
    ).toBe(204);
  });

  it('returns the row with Prefer: return=representation', async () => {
    const token = await bearer(emulator);
    const response = await api(emulator, token, `${caseUrl('ID2021_042')}?$select=nm_status,nm_track`, {
      method: 'PATCH',
      headers: { prefer: 'return=representation' },
      body: { nm_status: 'Bestilt', nm_track: 'C' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('preference-applied')).toBe('return=representation');
    expect(response.body).toMatchObject({ nm_status: 'Bestilt', nm_track: 'C' });

    const update = await api(emulator, token, caseUrl('ID2021_042'), {
      method: 'PATCH',
      headers: { prefer: 'return=representation' },
      body: { nm_status: 'Levert' },
    });
    expect(update.status).toBe(200);
    expect(update.body).toMatchObject({ nm_status: 'Levert', nm_track: 'C', nm_nyemetoderid: 'ID2021_042' });
  });

  it('rejects unknown attributes, bad values and unknown $select columns with OData errors', async () => {
    const token = await bearer(emulator);
    const unknown = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      body: { nm_colour: 'red' },
    });
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown.body).message).toContain("'nm_colour'");

    const track = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      body: { nm_track: 'E' },
    });
    expect(track.status).toBe(400);
    const date = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      body: { nm_deadline: '2024-13-01' },
    });
    expect(date.status).toBe(400);
    expect(emulator.records()).toHaveLength(0);

    const select = await api(emulator, token, 'nm_methodcases?$select=Name');
    expect(select.status).toBe(400);
    expect(errorOf(select.body).message).toBe(
      "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.nm_methodcase'.",
    );
    const missing = await api(emulator, token, caseUrl('ID1999_999'));
    expect(missing.status).toBe(404);
    expect(errorOf(missing.body).code).toBe('0x80040217');
  });

  it('answers 412 to a stale If-Match after SLV edited the row', async () => {
    const token = await bearer(emulator);
    await api(emulator, token, caseUrl('ID2019_074'), { method: 'PATCH', body: { nm_status: 'Bestilt' } });
    const etag = String((await api(emulator, token, caseUrl('ID2019_074'))).body?.['@odata.etag']);

    emulator.editAsSlv('ID2019_074', {
      nm_status: 'Klokken stoppet',
      nm_statusreason: 'Venter på dokumentasjon',
    });
    const stale = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      headers: { 'if-match': etag },
      body: { nm_status: 'Under vurdering' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual({
      error: {
        code: '0x80060882',
        message: "The version of the existing record doesn't match the RowVersion property provided.",
      },
    });
    expect(emulator.record('ID2019_074')?.nm_status).toBe('Klokken stoppet');
    expect(emulator.counters().preconditionFailed412).toBe(1);

    const fresh = String((await api(emulator, token, caseUrl('ID2019_074'))).body?.['@odata.etag']);
    const ok = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      headers: { 'if-match': fresh },
      body: { nm_status: 'Under vurdering' },
    });
    expect(ok.status).toBe(204);
    const sent = emulator.requestLog().filter((entry) => entry.method === 'PATCH');
    expect(sent.map((entry) => [entry.status, entry.headers['if-match']])).toEqual([
      [204, undefined],
      [412, etag],
      [204, fresh],
    ]);
    expect(sent[2]?.body).toEqual({ nm_status: 'Under vurdering' });
  });
});

describe('notes', () => {
  it('creates a note bound to a case and finds it by _objectid_value', async () => {
    const token = await bearer(emulator);
    const created = await api(emulator, token, caseUrl('ID2019_074'), {
      method: 'PATCH',
      body: { nm_status: 'Bestilt' },
    });
    const caseId = /\(([^)]+)\)$/.exec(created.headers.get('odata-entityid') ?? '')?.[1];
    const note = await api(emulator, token, 'annotations', {
      method: 'POST',
      body: {
        subject: 'Oppdrag fra Bestillerforum',
        notetext: 'Løp A, frist 2024-09-01. Æ, ø og å skal overleve.',
        'objectid_nm_methodcase@odata.bind': `/nm_methodcases(${caseId})`,
      },
    });
    expect(note.status).toBe(204);
    expect(note.headers.get('odata-entityid')).toMatch(/\/annotations\([0-9a-f-]{36}\)$/);

    const found = await api(
      emulator,
      token,
      `annotations?$filter=_objectid_value eq ${caseId}&$select=subject,notetext`,
    );
    expect(found.status).toBe(200);
    expect(values(found.body)).toHaveLength(1);
    expect(values(found.body)[0]).toMatchObject({
      notetext: 'Løp A, frist 2024-09-01. Æ, ø og å skal overleve.',
    });
    expect(emulator.notes()[0]?._objectid_value).toBe(caseId);

    const orphan = await api(emulator, token, 'annotations', {
      method: 'POST',
      body: {
        subject: 'x',
        'objectid_nm_methodcase@odata.bind': "/nm_methodcases(nm_nyemetoderid='ID1999_999')",
      },
    });
    expect(orphan.status).toBe(404);
  });
});

describe('documented row semantics', () => {
  it('shows two writes between reads as one change with the last values, and lists deletions after every upsert', async () => {
    const token = await bearer(emulator);
    const first = await api(emulator, token, caseUrl('ID2023_001'), {
      method: 'PATCH',
      headers: { prefer: 'return=representation' },
      body: { nm_status: 'Bestilt', nm_name: 'Ours' },
    });
    expect(first.status).toBe(201);
    await api(emulator, token, caseUrl('ID2023_002'), { method: 'PATCH', body: { nm_status: 'Bestilt' } });
    const start = await api(emulator, token, 'nm_methodcases?$select=nm_nyemetoderid', {
      headers: { prefer: 'odata.track-changes' },
    });
    emulator.deleteAsSlv('ID2023_002');
    const ours = await api(emulator, token, caseUrl('ID2023_001'), {
      method: 'PATCH',
      headers: { prefer: 'return=representation' },
      body: { nm_track: 'B' },
    });
    expect(ours.status).toBe(200);
    emulator.editAsSlv('ID2023_001', { nm_status: 'Under vurdering' });
    const delta = values((await api(emulator, token, String(start.body?.['@odata.deltaLink']))).body);
    expect(delta).toHaveLength(2);
    expect(delta[0]).toMatchObject({ nm_nyemetoderid: 'ID2023_001' });
    const latest = emulator.record('ID2023_001')!;
    expect(latest).toMatchObject({ nm_status: 'Under vurdering', nm_track: 'B', nm_name: 'Ours' });
    expect(latest.versionnumber).toBeGreaterThan(Number(ours.body?.['versionnumber']));
    expect(delta[1]).toMatchObject({ reason: 'deleted' });
  });

  it('drops the alternate key of the body on update and lets it win on create', async () => {
    const token = await bearer(emulator);
    const created = await api(emulator, token, caseUrl('ID2023_010'), {
      method: 'PATCH',
      body: { nm_nyemetoderid: 'ID2023_011', nm_status: 'Bestilt' },
    });
    expect(created.status).toBe(204);
    expect(emulator.record('ID2023_011')).toBeDefined();
    const updated = await api(emulator, token, caseUrl('ID2023_011'), {
      method: 'PATCH',
      body: { nm_nyemetoderid: 'ID2023_012', nm_status: 'Levert' },
    });
    expect(updated.status).toBe(204);
    expect(emulator.record('ID2023_011')?.nm_status).toBe('Levert');
    expect(emulator.record('ID2023_012')).toBeUndefined();
  });

  it('refuses a second note with the same client-chosen id as a duplicate (412) and 401s without a body', async () => {
    const token = await bearer(emulator);
    await api(emulator, token, caseUrl('ID2023_020'), { method: 'PATCH', body: { nm_status: 'Bestilt' } });
    const caseId = emulator.record('ID2023_020')!.nm_methodcaseid;
    const note = {
      annotationid: '6f1c3a52-0f5e-4a8e-9d43-2b7c1c0e9a11',
      subject: 'x',
      notetext: 'y',
      'objectid_nm_methodcase@odata.bind': `/nm_methodcases(${caseId})`,
    };
    expect((await api(emulator, token, 'annotations', { method: 'POST', body: note })).status).toBe(204);
    const again = await api(emulator, token, 'annotations', { method: 'POST', body: note });
    expect(again.status).toBe(412);
    expect(errorOf(again.body).code).toBe('0x80040237');
    expect(emulator.notes()).toHaveLength(1);
    const refused = await fetch(`${emulator.apiUrl}/nm_methodcases`, {
      headers: { authorization: 'Bearer x.y.z' },
    });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toBe('');
  });
});

describe('service protection', () => {
  it('answers 429 with Retry-After once a client exceeds the requests per window', async () => {
    const limited = await startDynamicsEmulator({ clients: [client], maxRequests: 3, windowSeconds: 60 });
    try {
      const token = await bearer(limited);
      for (let i = 0; i < 3; i++) expect((await api(limited, token, 'nm_methodcases')).status).toBe(200);
      const throttled = await api(limited, token, 'nm_methodcases');
      expect(throttled.status).toBe(429);
      const retryAfter = Number(throttled.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(throttled.body).toEqual({
        error: {
          code: '0x80072322',
          message: 'Number of requests exceeded the limit of 3 over time window of 60 seconds.',
        },
      });
      expect(limited.counters().throttled429).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it('answers 429 when too many requests of one client run at once', async () => {
    emulator.configure({ maxConcurrentRequests: 1 });
    await emulator.setFaults({ slowMs: 200 });
    const token = await bearer(emulator);
    const answers = await Promise.all([1, 2, 3].map(() => api(emulator, token, 'nm_methodcases')));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses[0]).toBe(200);
    expect(statuses).toContain(429);
    const rejected = answers.find((a) => a.status === 429);
    expect(errorOf(rejected?.body).code).toBe('0x80072326');
    expect(rejected?.headers.get('retry-after')).not.toBeNull();
  });
});

describe('change tracking', () => {
  async function upsert(token: string, id: string, status: string) {
    const response = await api(emulator, token, caseUrl(id), {
      method: 'PATCH',
      body: { nm_status: status, nm_sourceeventid: `evt-${id}` },
    });
    expect(response.status).toBe(204);
  }

  it('gives the full set and a delta link, then only later changes, the same set when called twice', async () => {
    const token = await bearer(emulator);
    await upsert(token, 'ID2019_074', 'Bestilt');
    await upsert(token, 'ID2020_010', 'Bestilt');
    await upsert(token, 'ID2020_011', 'Bestilt');

    const initial = await api(emulator, token, 'nm_methodcases?$select=nm_nyemetoderid,nm_status', {
      headers: { prefer: 'odata.track-changes' },
    });
    expect(initial.status).toBe(200);
    expect(initial.headers.get('preference-applied')).toBe('odata.track-changes');
    expect(initial.body?.['@odata.context']).toBe(
      `${emulator.apiUrl}/$metadata#nm_methodcases(nm_nyemetoderid,nm_status)/$delta`,
    );
    expect(values(initial.body).map((row) => row['nm_nyemetoderid'])).toEqual([
      'ID2019_074',
      'ID2020_010',
      'ID2020_011',
    ]);
    const deltaLink = String(initial.body?.['@odata.deltaLink']);
    expect(deltaLink).toMatch(/\/nm_methodcases\?\$select=nm_nyemetoderid,nm_status&\$deltatoken=\d+%21/);

    emulator.editAsSlv('ID2019_074', { nm_status: 'Under vurdering' });
    await upsert(token, 'ID2021_001', 'Bestilt');
    const deletedId = emulator.record('ID2020_011')?.nm_methodcaseid;
    emulator.deleteAsSlv('ID2020_011');

    const delta = await api(emulator, token, deltaLink);
    expect(delta.status).toBe(200);
    const changed = values(delta.body);
    expect(changed).toHaveLength(3);
    expect(changed[0]).toMatchObject({ nm_nyemetoderid: 'ID2019_074', nm_status: 'Under vurdering' });
    // A case handler's edit changes only the columns it sets: the marker our write left stays.
    expect(emulator.record('ID2019_074')?.nm_sourceeventid).toBe('evt-ID2019_074');
    expect(changed[1]).toMatchObject({ nm_nyemetoderid: 'ID2021_001' });
    expect(changed[2]).toEqual({
      '@odata.context': `${emulator.apiUrl}/$metadata#nm_methodcases/$deletedEntity`,
      id: deletedId,
      reason: 'deleted',
    });

    const again = await api(emulator, token, deltaLink);
    expect(values(again.body)).toEqual(changed);

    const next = await api(emulator, token, String(delta.body?.['@odata.deltaLink']));
    expect(values(next.body)).toEqual([]);
    expect(next.body?.['@odata.deltaLink']).toBeDefined();
  });

  it('pages with Prefer: odata.maxpagesize and ends the last page with the delta link', async () => {
    const token = await bearer(emulator);
    for (let n = 1; n <= 5; n++) await upsert(token, `ID2022_00${n}`, 'Bestilt');
    const seen: unknown[] = [];
    let link: string | undefined = 'nm_methodcases?$select=nm_nyemetoderid';
    let deltaLink: unknown;
    let pages = 0;
    while (link) {
      const page = await api(emulator, token, link, {
        headers: { prefer: 'odata.track-changes,odata.maxpagesize=2' },
      });
      expect(page.status).toBe(200);
      pages++;
      seen.push(...values(page.body).map((row) => row['nm_nyemetoderid']));
      link = page.body?.['@odata.nextLink'] as string | undefined;
      deltaLink = page.body?.['@odata.deltaLink'];
      if (link) expect(deltaLink).toBeUndefined();
      // A change made while paging shows in the next delta, not in the pages of this one.
      if (pages === 1) emulator.editAsSlv('ID2022_001', { nm_status: 'Levert' });
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(['ID2022_001', 'ID2022_002', 'ID2022_003', 'ID2022_004', 'ID2022_005']);
    const delta = await api(emulator, token, String(deltaLink));
    expect(values(delta.body).map((row) => row['nm_nyemetoderid'])).toEqual(['ID2022_001']);
  });

  it('answers 400 to an expired or unknown delta token', async () => {
    const token = await bearer(emulator);
    await upsert(token, 'ID2019_074', 'Bestilt');
    const initial = await api(emulator, token, 'nm_methodcases', {
      headers: { prefer: 'odata.track-changes' },
    });
    const deltaLink = String(initial.body?.['@odata.deltaLink']);
    emulator.expireDeltaTokens();
    const expired = await api(emulator, token, deltaLink);
    expect(expired.status).toBe(400);
    expect(errorOf(expired.body).code).toBe('0x80044352');

    const garbage = await api(emulator, token, 'nm_methodcases?$deltatoken=not-a-token');
    expect(garbage.status).toBe(400);
    expect(errorOf(garbage.body).message).toContain('delta token');
  });
});

describe('fault switches', () => {
  it('down refuses connections until brought back up', async () => {
    const token = await bearer(emulator);
    await emulator.setFaults({ down: true });
    const attempt = () =>
      fetch(`${emulator.apiUrl}/nm_methodcases`).then(
        () => 'answered',
        (error: Error) => (error.cause as { code?: string }).code,
      );
    // A connection the client had pooled may fail as a reset socket; a new one is refused.
    expect(await attempt()).not.toBe('answered');
    expect(await attempt()).toBe('ECONNREFUSED');
    expect(emulator.faults().down).toBe(true);
    await emulator.setFaults({ down: false });
    expect((await api(emulator, token, 'nm_methodcases')).status).toBe(200);
  });

  it('keeps a write it applied in appliedWrites when going down cuts its answer, which the request log never sees', async () => {
    const token = await bearer(emulator);
    await emulator.setFaults({ slowWritesMs: 300 });
    const cut = api(emulator, token, caseUrl('ID2023_031'), {
      method: 'PATCH',
      body: { nm_status: 'Bestilt', nm_sourceeventid: 'evt-cut' },
    }).then(
      () => 'answered',
      () => 'cut',
    );
    await until(() => emulator.record('ID2023_031') !== undefined);
    await emulator.setFaults({ down: true });
    expect(await cut).toBe('cut');
    await emulator.setFaults({ down: false, slowWritesMs: 0 });
    emulator.editAsSlv('ID2023_031', { nm_status: 'Under vurdering' });

    expect(emulator.requestLog().filter((e) => e.method === 'PATCH')).toEqual([]);
    expect(emulator.appliedWrites()).toEqual([
      {
        versionnumber: expect.any(Number),
        nm_nyemetoderid: 'ID2023_031',
        columns: { nm_status: 'Bestilt', nm_sourceeventid: 'evt-cut' },
      },
      {
        versionnumber: expect.any(Number),
        nm_nyemetoderid: 'ID2023_031',
        columns: { nm_status: 'Under vurdering' },
      },
    ]);
    expect((await axios.get(`${emulator.url}/_emulator/writes`)).data).toHaveLength(2);
    await emulator.reset();
    expect(emulator.appliedWrites()).toEqual([]);
  });

  it('goes down for a while when asked over HTTP by a test in another process', async () => {
    const token = await bearer(emulator);
    const asked = await axios.post(`${emulator.url}/_emulator/faults`, { downForMs: 300 });
    expect(asked.data).toMatchObject({ down: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(axios.get(`${emulator.apiUrl}/nm_methodcases`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await api(emulator, token, 'nm_methodcases')).status).toBe(200);
  });

  it('fail500Count answers the next requests with 500', async () => {
    const token = await bearer(emulator);
    await emulator.setFaults({ fail500Count: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await api(emulator, token, 'nm_methodcases')).status);
    expect(statuses).toEqual([500, 500, 200]);
    expect(emulator.counters().serverErrors500).toBe(2);
  });

  it('slowMs delays every answer', async () => {
    const token = await bearer(emulator);
    await emulator.setFaults({ slowMs: 300 });
    const started = Date.now();
    expect((await api(emulator, token, 'nm_methodcases')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('throttle forces 429 with the given Retry-After', async () => {
    const token = await bearer(emulator);
    await axios.post(`${emulator.url}/_emulator/faults`, { throttle: { retryAfterSeconds: 7, count: 1 } });
    const throttled = await api(emulator, token, 'nm_methodcases');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(errorOf(throttled.body).code).toBe('0x80072322');
    expect((await api(emulator, token, 'nm_methodcases')).status).toBe(200);
  });

  it('rejects unknown faults with a reason', async () => {
    await expect(emulator.setFaults({ slowMs: -1 })).rejects.toThrow(/FAULTS_INVALID: slowMs/);
  });
});

describe('README', () => {
  it('documents every setting', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(settings)) expect(readme).toContain(`\`${name}\``);
  });
});

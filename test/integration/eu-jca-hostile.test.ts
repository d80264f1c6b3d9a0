/**
 * Bad input at the JCA intake, against the real broker and registry: malformed JSON and XML, external
 * entities, entity bombs, oversized bodies, unknown versions, wrong media types and bad tokens. Each gets
 * its own clear 4xx; every refused document that could be read is kept on the dead-letter topic and listed;
 * nothing reaches eu.jca-notifications.v1; no external entity is ever fetched; the hub keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { euJcaAdapter } from '../../adapters/eu-jca/adapter.ts';
import { readDeadLetterInfo } from '../../core/bus/deadLetter.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import { hostile, jcaDocument, toXml } from '../emulators/eu-jca/documents.ts';
import { type EuPlatform, startEuPlatform } from '../emulators/eu-jca/platform.ts';
import { JcaSender } from '../emulators/eu-jca/sender.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, readAll, testKafka } from '../support/kafka.ts';

const MAX_BYTES = 20_000;
let h: TestHub;
let platform: EuPlatform;
let sender: JcaSender;
let reader: string;
let notificationsTopic: string;

beforeAll(async () => {
  platform = await startEuPlatform();
  h = await startTestHub(
    ['eu-jca'],
    { JCA_MAX_BODY_BYTES: String(MAX_BYTES) },
    {
      adapters: [euJcaAdapter],
      topics: ['eu.jca-notifications.v1'],
    },
  );
  notificationsTopic = h.topics['eu.jca-notifications.v1']!;
  sender = new JcaSender(h.url, await h.hub.devToken(['eu-jca:intake:write']));
  reader = await h.hub.devToken(['nyemetoder:methods:read']);
});
afterAll(async () => {
  await h?.close();
  await platform?.close();
});

interface Problem {
  code: string;
  detail: string;
  errors?: { code?: string; path?: string; reason: string }[];
}

const expected: Record<string, [number, string]> = {
  'XXE file': [400, 'XML_DTD_FORBIDDEN'],
  'XXE http': [400, 'XML_DTD_FORBIDDEN'],
  'XXE parameter entity': [400, 'XML_DTD_FORBIDDEN'],
  'billion laughs': [400, 'XML_DTD_FORBIDDEN'],
  'quadratic blow-up': [400, 'XML_DTD_FORBIDDEN'],
  'lower-case doctype': [400, 'XML_DTD_FORBIDDEN'],
  'malformed XML': [400, 'MALFORMED_XML'],
  'deep XML': [400, 'MALFORMED_XML'],
  'malformed JSON': [400, 'MALFORMED_JSON'],
  'deep JSON': [400, 'INVALID_DOCUMENT'],
  'oversized JSON': [413, 'BODY_TOO_LARGE'],
  'unknown version': [422, 'UNSUPPORTED_SCHEMA_VERSION'],
};

async function rejectedList() {
  const r = await h.call('/jca/v1/rejected', { token: reader });
  expect(r.status).toBe(200);
  return (
    (await r.json()) as { rejected: { rejectionId: string; code: string; kept: boolean; bytes: number }[] }
  ).rejected;
}

describe('hostile and broken documents', () => {
  const bodies = () => JcaSender.hostileBodies(platform.url, MAX_BYTES);

  it.each(Object.keys(expected))('refuses %s with a clear 4xx and keeps it', async (name) => {
    const { body, contentType } = bodies().find((b) => b.name === name)!;
    const r = await sender.postRaw(body, contentType);
    const [status, code] = expected[name]!;
    expect(r.status).toBe(status);
    const problem = r.body as unknown as Problem;
    expect(problem.code).toBe(code);
    expect(problem.detail).toMatch(/kept for inspection as [0-9a-f-]{36}/);
    const rejectionId = /as ([0-9a-f-]{36})/.exec(problem.detail)![1]!;
    const listed = (await rejectedList()).find((x) => x.rejectionId === rejectionId);
    expect(listed).toMatchObject({ code, kept: status !== 413 });
  });

  it('never fetched an external entity or DTD', () => {
    expect(platform.requests).toEqual([]);
  });

  it('keeps the original bytes and the reason on the dead-letter topic', async () => {
    const bomb = hostile.billionLaughs();
    const r = await sender.postRaw(bomb, 'application/xml');
    expect(r.status).toBe(400);
    const rejectionId = /as ([0-9a-f-]{36})/.exec((r.body as unknown as Problem).detail)![1]!;
    await eventually(
      async () => {
        const dead = await readAll(testKafka(), `${notificationsTopic}.dlq`);
        const mine = dead.find((m) => m.headers?.rejection_id?.toString() === rejectionId);
        if (!mine) return false;
        expect(mine.value?.toString('utf8')).toBe(bomb);
        const info = readDeadLetterInfo(mine.headers);
        expect(info.errorClass).toBe('REJECTED_AT_INTAKE');
        expect(info.reason).toContain('400 XML_DTD_FORBIDDEN');
        return true;
      },
      20_000,
      'the dead letter of the billion laughs',
    );
  });

  it('lists every schema problem of an invalid document by path', async () => {
    const doc = { ...jcaDocument(), milestone: 'APPROVED', procedureVersion: -1, assessor: 'US' };
    const r = await sender.postRaw(JSON.stringify(doc), 'application/json');
    expect(r.status).toBe(400);
    const problem = r.body as unknown as Problem;
    expect(problem.code).toBe('INVALID_DOCUMENT');
    expect(problem.errors!.map((e) => e.path).sort()).toEqual(['assessor', 'milestone', 'procedureVersion']);
  });

  it('refuses an unknown XML namespace, other media types and an empty body', async () => {
    const foreign = await sender.postRaw(toXml(jcaDocument(), 'urn:eu:hta:jca:2'), 'application/xml');
    expect(foreign.status).toBe(422);
    expect((foreign.body as unknown as Problem).code).toBe('UNSUPPORTED_SCHEMA_VERSION');
    const text = await sender.postRaw('procedureId=JCA-1', 'text/plain');
    expect(text.status).toBe(415);
    expect((text.body as unknown as Problem).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const empty = await sender.postRaw('', 'application/json');
    expect(empty.status).toBe(400);
  });
});

describe('authentication', () => {
  it('refuses missing, expired, foreign and wrong-scope tokens before reading the body, and keeps nothing', async () => {
    const before = (await rejectedList()).length;
    const body = JSON.stringify(jcaDocument());
    const missing = await sender.postRaw(body, 'application/json', null);
    expect(missing.status).toBe(401);
    expect((missing.body as unknown as Problem).code).toBe('MISSING_TOKEN');
    const expired = await sender.postRaw(
      body,
      'application/json',
      await h.hub.devToken(['eu-jca:intake:write'], -300),
    );
    expect(expired.status).toBe(401);
    expect((expired.body as unknown as Problem).code).toBe('TOKEN_EXPIRED');
    const stranger = await DevIssuer.ephemeral();
    const foreign = await sender.postRaw(
      body,
      'application/json',
      await stranger.mint({ scopes: ['eu-jca:intake:write'], audience: 'metodehub' }),
    );
    expect(foreign.status).toBe(401);
    const readOnly = await sender.postRaw(body, 'application/json', reader);
    expect(readOnly.status).toBe(403);
    expect((readOnly.body as unknown as Problem).code).toBe('INSUFFICIENT_SCOPE');
    const bomb = await sender.postRaw(hostile.billionLaughs(), 'application/xml', null);
    expect(bomb.status).toBe(401);
    expect((await rejectedList()).length).toBe(before);
    const noRead = await h.call('/jca/v1/timeline', { token: null });
    expect(noRead.status).toBe(401);
  });
});

describe('the hub is unharmed', () => {
  it('takes a good notification while bombs arrive, and published only that one', async () => {
    const bombs = Array.from({ length: 20 }, (_, i) =>
      sender.postRaw(i % 2 === 0 ? hostile.billionLaughs() : hostile.quadraticBlowup(), 'application/xml'),
    );
    const doc = jcaDocument();
    const [good, ...refused] = await Promise.all([sender.post(doc, 'xml'), ...bombs]);
    expect(good!.status).toBe(201);
    expect(refused.every((r) => r.status === 400)).toBe(true);
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
    const published = await readAll(testKafka(), notificationsTopic);
    expect(published).toHaveLength(1);
    expect(published[0]!.key?.toString()).toBe(doc.procedureId);
  });
});

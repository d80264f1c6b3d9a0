/**
 * The served OpenAPI document of a hub with every adapter: it passes Redocly's linter with no error, every
 * operation has an operationId and a 2xx answer, and every GET route's answer (and the case events' answer)
 * matches the schema the document declares for its status and content type.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoHistory } from '../../core/demo/history.ts';
import { osloDateOf } from '../../core/time/oslo.ts';
import { jcaDocument } from '../emulators/eu-jca/documents.ts';
import { type HostileBed, startHostileBed } from '../hostile/bed.ts';

interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: { enum?: string[] } }[];
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
interface Document {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const redocly = resolve(import.meta.dirname, '../../node_modules/.bin/redocly');

let bed: HostileBed;
let token: string;
let doc: Document;
let methodId: string;
let procedureId: string;
const call = (path: string, init: RequestInit = {}) =>
  fetch(`${bed.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
  });
const send = (method: string, path: string, body?: unknown) =>
  call(path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
const operation = (method: string, path: string) => doc.paths[path]![method.toLowerCase()]!;

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);

/** Closes every object schema that lists its properties, so an answer field the document leaves out fails. */
function closed(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map(closed);
  const s = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)]));
  if (s.properties && s.additionalProperties === undefined && !s.anyOf && !s.oneOf && !s.allOf)
    s.additionalProperties = false;
  return s;
}

/** Whether an answer matches what the document declares for it; the reasons when not. */
async function checkAnswer(op: Operation, answer: Response): Promise<string[]> {
  const declared = op.responses[String(answer.status)] ?? op.responses[`${String(answer.status)[0]}XX`];
  if (!declared) return [`status ${answer.status} is not declared (${Object.keys(op.responses).join(', ')})`];
  const type = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const body = await answer.text();
  if (!declared.content) return body === '' ? [] : [`declares no body but answered ${type}`];
  const media = declared.content[type];
  if (!media) return [`answered ${type}, declared ${Object.keys(declared.content).join(', ')}`];
  if (!type.endsWith('json')) return [];
  const validate = ajv.compile(closed(media.schema ?? {}) as object);
  if (validate(JSON.parse(body))) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`,
  );
}

const sampleQuery: Record<string, string> = { from: '2013-01-01', to: '2035-12-31' };

beforeAll(async () => {
  bed = await startHostileBed();
  token = await bed.hub.devToken();
  const events = demoHistory({ methods: 24 });
  for (let i = 0; i < events.length; i += 50) {
    const r = await call('/api/v1/case-events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(events.slice(i, i + 50)),
    });
    expect(r.status, await r.clone().text()).toBeLessThan(300);
  }
  const decided = events.filter((e) => e.type === 'DECISION_MADE').at(-1) ?? events.at(-1)!;
  methodId = decided.methodId;
  const jca = jcaDocument();
  procedureId = jca.procedureId;
  expect((await send('POST', '/jca/v1/intake', jca)).status).toBe(201);
  doc = (await (await call('/api/v1/openapi.json')).json()) as Document;
}, 240_000);
afterAll(async () => {
  await bed?.close();
});

describe('the served OpenAPI document', () => {
  it('passes redocly lint with no error, with a server and an operationId on every operation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(doc));
      const run = await promisify(execFile)(redocly, ['lint', file, '--format=json'], {
        maxBuffer: 64 * 1024 * 1024,
      }).catch((error: { stdout: string; stderr: string }) => error);
      const report = JSON.parse(run.stdout) as {
        problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
      };
      const shown = report.problems.map(
        (p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`,
      );
      expect(
        shown.filter((p) => p.startsWith('error')),
        run.stderr,
      ).toEqual([]);
      expect(shown).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(doc.servers?.length).toBeGreaterThan(0);
    const ops = Object.values(doc.paths).flatMap((p) => Object.values(p));
    expect(ops.length).toBeGreaterThan(40);
    expect(ops.filter((o) => !o.operationId)).toEqual([]);
    expect(ops.filter((o) => !Object.keys(o.responses).some((s) => s.startsWith('2')))).toEqual([]);
  });

  it('answers every GET route as its schema says, with a token and without one', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get;
      if (!op) continue;
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === 'id' || name === 'methodId' ? methodId : name === 'procedureId' ? procedureId : 'NONE',
      );
      const query = new URLSearchParams();
      for (const p of op.parameters ?? [])
        if (p.in === 'query' && p.required)
          query.set(p.name, sampleQuery[p.name] ?? p.schema?.enum?.[0] ?? 'x');
      const full = query.size > 0 ? `${url}?${query}` : url;
      for (const withToken of [true, false]) {
        const answer = withToken ? await call(full) : await fetch(`${bed.url}${full}`);
        checked++;
        for (const reason of await checkAnswer(op, answer))
          wrong.push(`GET ${full}${withToken ? '' : ' (no token)'} ${answer.status}: ${reason}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  }, 180_000);

  it('answers a resent batch of case events as its schema says', async () => {
    const op = doc.paths['/api/v1/case-events']!.post!;
    const answer = await call('/api/v1/case-events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(demoHistory({ methods: 24 }).slice(0, 3)),
    });
    expect(answer.status).toBe(200);
    expect(await checkAnswer(op, answer)).toEqual([]);
  });

  it('answers writes as their schemas say: JCA intake, subscriptions, an implementation status', async () => {
    const wrong: string[] = [];
    const check = async (method: string, path: string, template: string, body?: unknown, status?: number) => {
      const answer = await send(method, path, body);
      if (status !== undefined && answer.status !== status)
        wrong.push(`${method} ${path}: ${answer.status}, expected ${status}: ${await answer.clone().text()}`);
      const copy = answer.clone();
      for (const reason of await checkAnswer(operation(method, template), answer))
        wrong.push(`${method} ${path} ${answer.status}: ${reason}`);
      return copy;
    };
    const jca = jcaDocument();
    await check('POST', '/jca/v1/intake', '/jca/v1/intake', jca, 201);
    await check('POST', '/jca/v1/intake', '/jca/v1/intake', jca, 200);
    const created = await check(
      'POST',
      '/subscriptions/v1/subscriptions',
      '/subscriptions/v1/subscriptions',
      { topic: { kind: 'METHOD', value: methodId }, email: 'fagdirektor@example.no' },
      201,
    );
    const { subscriptionId } = (await created.json()) as { subscriptionId: string };
    await check('GET', '/subscriptions/v1/subscriptions', '/subscriptions/v1/subscriptions', undefined, 200);
    await check(
      'DELETE',
      `/subscriptions/v1/subscriptions/${subscriptionId}`,
      '/subscriptions/v1/subscriptions/{subscriptionId}',
      undefined,
      204,
    );
    const flags = (await (await call('/hdir/v1/flags')).json()) as {
      flags: { methodId: string; guidelineId: string }[];
    };
    const flag = flags.flags[0]!;
    const report = {
      methodId: flag.methodId,
      guidelineId: flag.guidelineId,
      status: 'IN_PROGRESS',
      date: osloDateOf(Date.now()),
    };
    await check('POST', '/hdir/v1/implementation-status', '/hdir/v1/implementation-status', report, 200);
    await check('POST', '/hdir/v1/implementation-status', '/hdir/v1/implementation-status', report, 200);
    expect(wrong).toEqual([]);
  });

  it('answers /api/v1, the URL npm start prints, with an index of the API', async () => {
    const answer = await fetch(`${bed.url}/api/v1`);
    expect(answer.status).toBe(200);
    const index = (await answer.json()) as { links: { openapi: string }; operations: unknown[] };
    expect(index.links.openapi).toBe('/api/v1/openapi.json');
    expect(index.operations.length).toBeGreaterThan(40);
    expect(await checkAnswer(doc.paths['/api/v1']!.get!, await fetch(`${bed.url}/api/v1`))).toEqual([]);
  });
});

/**
 * What passes the door can be carried by every adapter: a life of a medicine written at the edges of every
 * limit the contracts declare (every text at its longest, with the hardest characters XML and JSON must carry;
 * every list at its longest; dates at their earliest and latest) goes through a hub running every adapter and
 * reaches FEST (an extract that parses and validates), financing, Helsedirektoratet and DMP (SLV), with no dead
 * letter anywhere. And one character past a limit is refused at the door, naming the field.
 */
import { randomBytes } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { euJcaAdapter } from '../../adapters/eu-jca/adapter.ts';
import { festAdapter } from '../../adapters/fest/adapter.ts';
import { financingAdapter } from '../../adapters/financing/adapter.ts';
import { hdirAdapter } from '../../adapters/hdir/adapter.ts';
import { slvAdapter } from '../../adapters/slv/adapter.ts';
import { contractFor } from '../../core/contracts/catalogue.ts';
import {
  boundMs,
  type FieldLimits,
  LONG_LIMIT,
  validityDefaults,
  violationsOf,
} from '../../core/contracts/validity.ts';
import { startDynamicsEmulator, type DynamicsEmulator } from '../../deploy/emulators/dynamics/server.ts';
import { officialFestSchemas, validateOfficialFest } from '../support/festSchema.ts';
import { startHdirStandIn, type HdirStandIn } from '../../deploy/emulators/hdir/server.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

const EVENTS = 'nyemetoder.method-events.v1';
const schema = contractFor(EVENTS).schema;

/** The limits a field of the method-events contract declares, found by its dotted path. */
function limitsOf(path: string): FieldLimits & { type?: unknown } {
  let node: unknown = schema;
  const named = new Map<string, unknown>();
  const remember = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const branch of n) remember(branch);
      return;
    }
    if (!n || typeof n !== 'object') return;
    const r = n as { type?: unknown; name?: string; fields?: { type: unknown }[]; items?: unknown };
    if (r.type === 'record' && r.name) named.set(r.name, r);
    for (const f of r.fields ?? []) remember(f.type);
    remember(r.items);
    if (typeof r.type === 'object') remember(r.type);
  };
  remember(schema);
  let field: FieldLimits = {};
  for (const name of path.split('.')) {
    const record = resolveRecord(node, named);
    const found = record.fields.find((f) => f.name === name);
    if (!found) throw new Error(`no field ${name} in ${path}`);
    field = found as FieldLimits;
    node = found.type;
  }
  return field;
}

function resolveRecord(
  node: unknown,
  named: Map<string, unknown>,
): { fields: ({ name: string; type: unknown } & FieldLimits)[] } {
  if (typeof node === 'string') return resolveRecord(named.get(node.split('.').at(-1)!), named);
  if (Array.isArray(node))
    return resolveRecord(
      node.find((b) => b !== 'null'),
      named,
    );
  const n = node as { type?: unknown; fields?: unknown };
  if (n.fields) return n as never;
  return resolveRecord(n.type, named);
}

// Every character class a renderer can trip on: Norwegian letters, XML's specials, a CDATA end, an astral
// character (two UTF-16 units), a non-breaking space, line and paragraph separators, the replacement character.
const HARD = 'Æøå ÆØÅ <&>"\' ]]> 𝔘𝔫𝔦 é ü \u00a0\u2028\u2029\ufffd «Nye metoder» ';
const HARD_MULTILINE = `${HARD}\tinnrykk\r\nny linje\n`;

/** A text of exactly `length` UTF-16 units made of the hardest characters, never ending in half a pair. */
function edgeText(length: number, multiline: boolean): string {
  const unit = multiline ? HARD_MULTILINE : HARD;
  let text = unit.repeat(Math.ceil(length / unit.length) + 1).slice(0, length);
  if (/[\ud800-\udbff]$/.test(text)) text = `${text.slice(0, -1)}x`;
  return text;
}

/** The longest text a field of the contract allows. */
function longest(path: string): string {
  const limits = limitsOf(path);
  return edgeText(limits.maxLength ?? validityDefaults.string.maxLength, limits.multiline !== false);
}
function most(path: string): number {
  return limitsOf(path).maxItems ?? validityDefaults.array.maxItems;
}

const now = Date.now();
const latestDate = new Date(boundMs(validityDefaults.date.latest, now) - 86_400_000)
  .toISOString()
  .slice(0, 10);
const today = new Date(now).toISOString().slice(0, 10);
const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();

const ATC_CODES = Array.from({ length: 30 }, (_, i) => `L01XX${String(i + 1).padStart(2, '0')}`);

function edgeDetails(methodName: string) {
  const substances = Array.from({ length: most('registered.details.substances') }, (_, i) => {
    const text = longest('registered.details.substances');
    return `${i}${text.slice(String(i).length)}`;
  });
  return {
    name: `${methodName} ${longest('registered.details.name')}`.slice(
      0,
      limitsOf('registered.details.name').maxLength,
    ),
    shortDescription: longest('registered.details.shortDescription'),
    methodType: 'MEDICINE',
    level: 'NATIONAL',
    specialty: longest('registered.details.specialty'),
    indication: longest('registered.details.indication'),
    substances,
    atcCodes: ATC_CODES.slice(0, most('registered.details.atcCodes')),
    marketingAuthorisation: 'GRANTED',
    supplier: longest('registered.details.supplier'),
    hPrescription: true,
    estimatedPatientsPerYear: 2147483647,
    guidelineFlags: ['HP-LUNGE'],
    assessmentUrl: `https://nyemetoder.no/${'a'.repeat(1900)}`,
    supplierConfidentialNote: longest('registered.details.supplierConfidentialNote'),
  };
}

/** A whole life at the edges: registered on the first day the contracts allow, decided today. */
function edgeLife(methodId: string) {
  const e = (type: string, minutesAgo: number, detail: Record<string, unknown>) => ({
    eventId: randomUUID(),
    methodId,
    type,
    occurredAt: at(minutesAgo),
    source: 'case-system',
    actor: longest('actor'),
    ...detail,
  });
  const life = [
    {
      ...e('METHOD_REGISTERED', 200, { registered: { details: edgeDetails(methodId) } }),
      occurredAt: validityDefaults.instant.earliest,
    },
    e('STATUS_CHANGED', 190, {
      statusChanged: { from: null, to: 'AWAITING_ORDERING', reason: longest('statusChanged.reason') },
    }),
    e('ASSIGNMENT_ORDERED', 180, {
      assignment: {
        assignee: 'SLV',
        slvTrack: 'A',
        fhiProduct: longest('assignment.fhiProduct'),
        orderedOn: validityDefaults.date.earliest,
        deadline: latestDate,
      },
    }),
    e('NOTE_ATTACHED', 175, {
      note: { noteId: longest('note.noteId'), subject: longest('note.subject'), text: longest('note.text') },
    }),
    e('ASSESSMENT_STARTED', 170, {
      assessmentStarted: { startedOn: today, assessor: longest('assessmentStarted.assessor') },
    }),
    e('ASSESSMENT_PAUSED', 160, {
      assessmentPaused: {
        pausedOn: today,
        waitingFor: longest('assessmentPaused.waitingFor'),
        absoluteDeadline: latestDate,
      },
    }),
    e('ASSESSMENT_RESUMED', 150, { assessmentResumed: { resumedOn: today } }),
    e('ASSESSMENT_DELIVERED', 140, {
      assessmentDelivered: {
        deliveredOn: today,
        reportUrl: `https://nyemetoder.no/r/${'b'.repeat(1900)}`,
        simplified: false,
      },
    }),
    e('STATUS_CHANGED', 135, {
      statusChanged: {
        from: 'ASSESSMENT_IN_PROGRESS',
        to: 'ASSESSMENT_COMPLETED',
        reason: longest('statusChanged.reason'),
      },
    }),
    e('PRICE_NEGOTIATION_STARTED', 130, { priceNegotiationStarted: { startedOn: today } }),
    e('PRICE_NEGOTIATION_CONCLUDED', 120, {
      priceNegotiationConcluded: {
        concludedOn: today,
        agreementType: 'PRICE_VOLUME',
        publicPriceNoteUrl: 'https://nyemetoder.no/prisnotat/offentlig',
        confidentialPriceNoteUrl: 'https://intern.sykehusinnkjop.no/prisnotat/hemmelig-edge',
      },
    }),
    e('DECISION_MADE', 110, {
      decision: {
        forum: 'BESLUTNINGSFORUM',
        outcome: 'TEMPORARILY_INTRODUCED',
        decidedOn: today,
        effectiveFrom: latestDate,
        indication: longest('decision.indication'),
        conditions: Array.from({ length: most('decision.conditions') }, () => longest('decision.conditions')),
        withoutDocumentation: false,
        withoutDocumentationReason: longest('decision.withoutDocumentationReason'),
        temporaryIntroduction: {
          reassessBy: latestDate,
          outcomeMeasures: Array.from(
            { length: most('decision.temporaryIntroduction.outcomeMeasures') },
            () => longest('decision.temporaryIntroduction.outcomeMeasures'),
          ),
          dataPlan: longest('decision.temporaryIntroduction.dataPlan'),
          exitPlan: longest('decision.temporaryIntroduction.exitPlan'),
        },
      },
    }),
    e('EXCEPTION_GRANTED', 100, {
      exception: {
        exceptionId: longest('exception.exceptionId'),
        kind: 'GROUP',
        scope: longest('exception.scope'),
        holder: { rhf: 'HELSE_NORD', trust: longest('exception.holder.trust') },
        effectiveOn: today,
      },
    }),
    e('METHOD_LINKED', 90, {
      link: { relation: 'OTHER', target: longest('link.target'), note: longest('link.note') },
    }),
  ];
  // The largest sequence numbers a JSON reader carries exactly.
  return life.map((event, i) => ({
    ...event,
    sourceSequence: LONG_LIMIT - life.length + 1 + i,
  }));
}

let h: TestHub;
let slv: DynamicsEmulator;
let hdir: HdirStandIn;
let stateDir: string;
const methodId = 'ID2013_999';

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'edges-'));
  hdir = await startHdirStandIn();
  slv = await startDynamicsEmulator({ clients: [{ clientId: 'metodehub-slv', clientSecret: 's3cret' }] });
  h = await startTestHub(
    ['api', 'projection', 'fest', 'financing', 'hdir', 'slv', 'eu-jca'],
    {
      HDIR_NOTIFY_URL: hdir.notifyUrl,
      HDIR_RETRY_BASE_MS: '100',
      HDIR_RETRY_MAX_MS: '300',
      SLV_URL: slv.url,
      SLV_TOKEN_URL: slv.tokenUrl,
      SLV_CLIENT_ID: 'metodehub-slv',
      SLV_CLIENT_SECRET: 's3cret',
      SLV_POLL_INTERVAL_MS: '250',
      FEST_SECRET_KEY: randomBytes(32).toString('base64'),
      OUTBOUND_ALLOWED_HOSTS: '127.0.0.1',
      OUTBOUND_ALLOW_HTTP: 'true',
      INGRESS_MAX_BODY_BYTES: '1048576',
    },
    {
      adapters: [festAdapter, financingAdapter, hdirAdapter, slvAdapter, euJcaAdapter],
      topics: [
        'fest.vilkar.v1',
        'financing.drug-decisions.v1',
        'hdir.guideline-flags.v1',
        'slv.case-updates.v1',
        'eu.jca-notifications.v1',
        'ops.dead-letter-audit.v1',
      ],
    },
  );
}, 240_000);
afterAll(async () => {
  await h?.close();
  await slv?.close();
  await hdir?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('a life at the edge of every limit', () => {
  it('is valid by the one definition, and every event of it is taken at the door', async () => {
    const life = edgeLife(methodId);
    for (const event of life) expect(violationsOf(schema, event), event.type).toEqual([]);
    // One request each: together they are larger than a request may be.
    for (const event of life) {
      const r = await h.call('/api/v1/case-events', { method: 'POST', json: event });
      expect(r.status, `${event.type}: ${await r.clone().text()}`).toBe(200);
    }
  });

  it('reaches every adapter, with its texts intact, and no consumer dead-letters any of it', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: a JSON answer read field by field
    const { state }: any = await (await h.call(`/api/v1/methods/${methodId}`)).json();
    expect(state.status).toBe('DECIDED');
    expect(state.details.name).toBe(edgeDetails(methodId).name);

    // FEST: the condition is in the extract, which parses and validates against the schema.
    const extract = async () =>
      (await h.call('/fest/v1/vilkar', { token: await h.hub.devToken(['fest:vilkar:read']) })).text();
    await expect.poll(async () => (await extract()).includes(methodId), { timeout: 30_000 }).toBe(true);
    const xml = await extract();
    expect(XMLValidator.validate(xml)).toBe(true);
    if (officialFestSchemas()) expect(await validateOfficialFest(xml)).toEqual({ valid: true, errors: [] });
    else console.warn('FEST_SCHEMAS_MISSING: the FEST extract is not checked against the official schema');
    const parsed = new XMLParser({ ignoreAttributes: false, processEntities: true }).parse(xml);
    expect(JSON.stringify(parsed)).toContain('𝔘𝔫𝔦');
    expect(xml).not.toContain('hemmelig-edge');

    // Financing: the temporary introduction is in the feed.
    // biome-ignore lint/suspicious/noExplicitAny: a JSON answer read field by field
    const feed = async (): Promise<any> =>
      (
        await h.call(`/financing/v1/decisions?from=${today}&to=${today}`, {
          token: await h.hub.devToken(['nyemetoder:financing:read']),
        })
      ).json();
    await expect
      .poll(
        async () =>
          ((await feed()).decisions ?? []).filter((d: { methodId: string }) => d.methodId === methodId)
            .length,
        {
          timeout: 30_000,
        },
      )
      .toBeGreaterThan(0);

    // Helsedirektoratet: notified of the flag on the lung cancer programme.
    await expect
      .poll(() => hdir.received.filter((n) => JSON.stringify(n.body).includes(methodId)).length, {
        timeout: 30_000,
      })
      .toBeGreaterThan(0);

    // DMP (SLV): the case of the assignment is there.
    await expect.poll(() => slv.record(methodId) !== undefined, { timeout: 30_000 }).toBe(true);

    // No consumer refused any of it.
    const letters = (await (await h.call('/ops/api/dead-letters')).json()) as { entries?: unknown[] };
    const ours = (letters.entries ?? []).filter((e: unknown) => JSON.stringify(e).includes(methodId));
    expect(ours).toEqual([]);
    const health = (await (await h.call('/readyz')).json()) as {
      adapters: Record<string, { detail: string }>;
    };
    expect(health.adapters.outputs?.detail ?? 'every record rendered').toBe('every record rendered');
  });

  it('one character past a limit is refused at the door, naming the field', async () => {
    const [registration] = edgeLife('ID2013_998');
    const details = (registration as unknown as { registered: { details: Record<string, unknown> } })
      .registered.details;
    const cases: [string, Record<string, unknown>, string][] = [
      ['name', { name: `${details.name}x` }, 'registered.details.name'],
      [
        'substances',
        { substances: [...(details.substances as string[]), 'en til'] },
        'registered.details.substances',
      ],
      ['one-line name with a tab', { name: 'Navn\tmed tab' }, 'registered.details.name'],
    ];
    for (const [what, change, path] of cases) {
      const copy = { ...structuredClone(details), ...change };
      const r = await h.call('/api/v1/case-events', {
        method: 'POST',
        json: { ...registration, eventId: randomUUID(), registered: { details: copy } },
      });
      expect(r.status, what).toBe(400);
      expect(
        ((await r.json()) as { errors: { path: string }[] }).errors.map((e: { path: string }) => e.path),
        what,
      ).toContain(path);
    }
  });
});

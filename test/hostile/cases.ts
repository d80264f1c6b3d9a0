/**
 * The hostile inputs of issue 15 as data: every door (HTTP routes, JSON and XML intake, raw Kafka records)
 * crossed with every class of bad input, each with the refusal it must meet. hostile.test.ts runs them.
 */
import { randomUUID } from 'node:crypto';
import { hostile as jcaHostile, jcaDocument, toXml } from '../emulators/eu-jca/documents.ts';

/** Which token a case sends: the ones the test mints, or none. */
export type TokenKind =
  | 'full'
  | 'none'
  | 'garbage'
  | 'basic'
  | 'wrongScope'
  | 'expired'
  | 'noExp'
  | 'foreignKey'
  | 'wrongAudience';

export interface HttpCase {
  door: 'http';
  klass: string;
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  token?: TokenKind;
  contentType?: string;
  body?: string | Buffer;
  /** The 4xx it must be answered with (any of these). */
  status: number[];
  /** What the problem body must name (in code, detail or an item's path or reason). */
  names: RegExp;
}

export interface KafkaCase {
  door: 'kafka';
  klass: string;
  name: string;
  /** Declared topic the record is written to. */
  topic: 'nyemetoder.method-events.v1' | 'slv.case-updates.v1';
  /** The record key: unique, so its dead letter can be found. */
  key: string;
  value: (ctx: KafkaContext) => Buffer;
  /** What dlq_reason or dlq_error_class must name. */
  names: RegExp;
}

export type HostileCase = HttpCase | KafkaCase;

/** A method the test registers before the cases run (a lung-cancer medicine, flagged HP-LUNGE, no assessment). */
export const REGISTERED_METHOD = 'ID2030_001';
/** The loopback canary (fixed port of this suite's range) that no case may make the hub call. */
export const CANARY_PORT = 18457;
export const CANARY_URL = `http://127.0.0.1:${CANARY_PORT}`;

/** What the Kafka cases need from the running hub's registry. */
export interface KafkaContext {
  /** Registry ids of the events and SLV-updates contracts under their physical subjects, and one nobody has. */
  schemaIds: { events: number; slvUpdates: number; unknown: number };
  /** Frames a value with a topic's registered id, encoded by avsc directly: no producer checks. */
  encodeRaw: (topic: KafkaCase['topic'], value: unknown) => Buffer;
}

const json = 'application/json';
const at = '2025-03-03T10:00:00.000Z';
let serial = 0;
/** A fresh method id nobody registered (year 2031, so it clashes with no fixture). */
export const freshMethodId = (): string => `ID2031_${String(serial++ % 1000).padStart(3, '0')}`;

export const goodDetails = (overrides: Record<string, unknown> = {}) => ({
  name: 'Osimertinib til adjuvant behandling',
  shortDescription: 'Adjuvant behandling etter komplett reseksjon',
  methodType: 'MEDICINE',
  specialty: 'Onkologi',
  indication: 'Ikke-småcellet lungekreft med EGFR-mutasjon',
  substances: ['osimertinib'],
  atcCodes: ['L01EB04'],
  supplier: 'AstraZeneca',
  guidelineFlags: [],
  assessmentUrl: null,
  supplierConfidentialNote: null,
  ...overrides,
});

const registration = (methodId: string, details = goodDetails()) => ({
  eventId: randomUUID(),
  methodId,
  type: 'METHOD_REGISTERED',
  occurredAt: at,
  registered: { details },
});

const decision = (methodId: string, overrides: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  methodId,
  type: 'DECISION_MADE',
  occurredAt: at,
  decision: {
    forum: 'BESLUTNINGSFORUM',
    outcome: 'TEMPORARILY_INTRODUCED',
    decidedOn: '2025-03-03',
    effectiveFrom: '2025-04-01',
    indication: 'Adjuvant behandling',
    conditions: ['Kun ved EGFR-mutasjon'],
    withoutDocumentation: false,
    temporaryIntroduction: {
      reassessBy: '2027-03-01',
      outcomeMeasures: ['overlevelse'],
      dataPlan: 'Kvalitetsregister',
      exitPlan: 'Avslutt ved manglende effekt',
    },
    ...overrides,
  },
});

/** Sets `value` at a dotted path (numeric segments index arrays) in a deep copy of `event`. */
function withValue(event: object, path: string, value: unknown): object {
  const copy = structuredClone(event) as Record<string, unknown>;
  const parts = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const part of parts.slice(0, -1)) at = at[part] as Record<string, unknown>;
  at[parts.at(-1)!] = value;
  return copy;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A field's path as a problem names it: array elements as `.0` (schema) or `[0]` (limits). */
const fieldNamed = (path: string) =>
  new RegExp(escapeRegExp(path).replace(/\\\.(\d+)/g, (_m, i) => `(\\.${i}|\\[${i}\\])`));

// ---------------------------------------------------------------------------------------------- case events

const EVENTS = '/api/v1/case-events';
const postEvents = (
  klass: string,
  name: string,
  body: unknown,
  status: number[],
  names: RegExp,
): HttpCase => ({
  door: 'http',
  klass,
  name,
  method: 'POST',
  path: EVENTS,
  contentType: json,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  status,
  names,
});

/** The string fields of the three events that carry most text, with their limit. */
const detailStrings: [string, number][] = [
  ['name', 300],
  ['shortDescription', 2000],
  ['specialty', 100],
  ['indication', 2000],
  ['supplier', 300],
  ['substances.0', 200],
  ['atcCodes.0', 2000],
  ['guidelineFlags.0', 64],
  ['supplierConfidentialNote', 2000],
];
const decisionStrings: [string, number][] = [
  ['indication', 2000],
  ['conditions.0', 2000],
  ['temporaryIntroduction.outcomeMeasures.0', 2000],
  ['temporaryIntroduction.dataPlan', 5000],
  ['temporaryIntroduction.exitPlan', 5000],
];

const badTexts: [string, (limit: number) => string][] = [
  ['control char U+0001', () => 'Navn\u0001x'],
  ['escape U+001B', () => 'Navn\u001b[31mrød'],
  ['NUL U+0000', () => 'Navn\u0000x'],
  ['non-character U+FFFE', () => 'Navn\ufffex'],
  ['lone surrogate', () => 'Navn\ud800x'],
  ['over maxLength', (limit) => 'ø'.repeat(limit + 1)],
];

function stringFieldCases(): HttpCase[] {
  const cases: HttpCase[] = [];
  const shapes: [string, string, () => object, [string, number][]][] = [
    ['METHOD_REGISTERED', 'registered.details', () => registration(freshMethodId()), detailStrings],
    [
      'DETAILS_CHANGED',
      'detailsChanged.details',
      () => ({
        eventId: randomUUID(),
        methodId: freshMethodId(),
        type: 'DETAILS_CHANGED',
        occurredAt: at,
        detailsChanged: { details: goodDetails({ guidelineFlags: ['NFR-LUNGE'] }) },
      }),
      detailStrings,
    ],
    ['DECISION_MADE', 'decision', () => decision(freshMethodId()), decisionStrings],
  ];
  for (const [type, prefix, make, fields] of shapes) {
    const all: [string, number][] =
      type === 'METHOD_REGISTERED'
        ? [...fields.map(([f, n]): [string, number] => [`${prefix}.${f}`, n]), ['actor', 200], ['source', 64]]
        : fields.map(([f, n]) => [`${prefix}.${f}`, n]);
    for (const [path, limit] of all) {
      for (const [what, text] of badTexts) {
        const event = make();
        // guidelineFlags is empty in a good registration: give it one bad element.
        const base = path.endsWith('guidelineFlags.0') ? withValue(event, path.slice(0, -2), ['x']) : event;
        cases.push(
          postEvents(
            'event string field',
            `${type} ${path}: ${what}`,
            withValue(base, path, text(limit)),
            [400],
            fieldNamed(path),
          ),
        );
      }
    }
  }
  return cases;
}

const badDates: [string, string][] = [
  ['year 0000', '0000-01-01'],
  ['1970', '1970-01-01'],
  ['year 9999', '9999-12-31'],
  ['2023-02-30', '2023-02-30'],
  ['month 13', '2024-13-01'],
  ['unpadded', '2024-1-5'],
];
const badInstants: [string, string][] = [
  ['year 0000', '0000-01-01T00:00:00Z'],
  ['1970', '1970-01-01T00:00:00Z'],
  ['year 9999', '9999-12-31T23:59:59Z'],
  ['2023-02-30', '2023-02-30T10:00:00Z'],
  ['leap second 23:59:60', '2016-12-31T23:59:60Z'],
  ['no zone', '2024-05-01T10:00:00'],
];

function dateFieldCases(): HttpCase[] {
  const cases: HttpCase[] = [];
  const assignment = () => ({
    eventId: randomUUID(),
    methodId: freshMethodId(),
    type: 'ASSIGNMENT_ORDERED',
    occurredAt: at,
    assignment: { assignee: 'SLV', slvTrack: 'B', orderedOn: '2025-03-03', deadline: '2025-09-01' },
  });
  const started = () => ({
    eventId: randomUUID(),
    methodId: freshMethodId(),
    type: 'ASSESSMENT_STARTED',
    occurredAt: at,
    assessmentStarted: { startedOn: '2025-03-03', assessor: 'DMP' },
  });
  const phased = () => ({
    eventId: randomUUID(),
    methodId: freshMethodId(),
    type: 'PHASED_OUT',
    occurredAt: at,
    phasedOut: { effectiveFrom: '2025-03-03', subGroup: null, reason: null },
  });
  const fields: [string, () => object][] = [
    ['assignment.orderedOn', assignment],
    ['assignment.deadline', assignment],
    ['assessmentStarted.startedOn', started],
    ['phasedOut.effectiveFrom', phased],
    ['decision.decidedOn', () => decision(freshMethodId())],
    ['decision.effectiveFrom', () => decision(freshMethodId())],
    ['decision.temporaryIntroduction.reassessBy', () => decision(freshMethodId())],
  ];
  for (const [path, make] of fields)
    for (const [what, value] of badDates)
      cases.push(
        postEvents(
          'event date field',
          `${path}: ${what}`,
          withValue(make(), path, value),
          [400],
          fieldNamed(path),
        ),
      );
  for (const [what, value] of badInstants)
    cases.push(
      postEvents(
        'event instant field',
        `occurredAt: ${what}`,
        withValue(registration(freshMethodId()), 'occurredAt', value),
        [400],
        /occurredAt/,
      ),
    );
  return cases;
}

function identityAndShapeCases(): HttpCase[] {
  const reg = () => registration(freshMethodId());
  const cases: HttpCase[] = [];
  const shaped = (klass: string, name: string, event: object, names: RegExp, status = [400]) =>
    cases.push(postEvents(klass, name, event, status, names));
  shaped('event identity', 'eventId empty', withValue(reg(), 'eventId', ''), /eventId/);
  shaped('event identity', 'eventId 10 kB', withValue(reg(), 'eventId', 'a'.repeat(10_000)), /eventId/);
  shaped('event identity', 'eventId not a UUID', withValue(reg(), 'eventId', 'not-a-uuid'), /eventId/);
  shaped('event identity', 'eventId a number', withValue(reg(), 'eventId', 42), /eventId/);
  // A method ID's syntax is the lifecycle's rule, which names what is wrong with it (422 INVALID_METHOD_ID).
  const badId = /INVALID_METHOD_ID.*methodId|methodId.*INVALID_METHOD_ID/;
  shaped('event identity', 'methodId empty', withValue(reg(), 'methodId', ''), badId, [422]);
  shaped('event identity', 'methodId short', withValue(reg(), 'methodId', 'ID19_1'), badId, [422]);
  shaped('event identity', 'methodId path', withValue(reg(), 'methodId', '../../etc/passwd'), badId, [422]);
  shaped(
    'event identity',
    'methodId 10 kB',
    withValue(reg(), 'methodId', `ID${'9'.repeat(10_000)}`),
    /methodId/,
  );
  // JSON.stringify cannot write 2^70 as an integer literal; the case system's JSON can.
  const huge = JSON.stringify(reg()).replace(/}$/, ', "sourceSequence": 1180591620717411303424}');
  cases.push(postEvents('event number', 'sourceSequence 2^70', huge, [400], /sourceSequence/));
  shaped(
    'event number',
    'sourceSequence 2^53',
    withValue(reg(), 'sourceSequence', 2 ** 53),
    /sourceSequence/,
  );
  shaped('event number', 'sourceSequence 1.5', withValue(reg(), 'sourceSequence', 1.5), /sourceSequence/);
  shaped(
    'event number',
    'sourceSequence a string',
    withValue(reg(), 'sourceSequence', '12'),
    /sourceSequence/,
  );
  shaped(
    'event number',
    'estimatedPatientsPerYear 2^40',
    withValue(reg(), 'registered.details.estimatedPatientsPerYear', 2 ** 40),
    /estimatedPatientsPerYear/,
  );
  const over: [string, number, () => object][] = [
    ['registered.details.substances', 31, reg],
    ['registered.details.atcCodes', 31, reg],
    ['registered.details.guidelineFlags', 51, reg],
    ['decision.conditions', 31, () => decision(freshMethodId())],
    ['decision.temporaryIntroduction.outcomeMeasures', 31, () => decision(freshMethodId())],
  ];
  for (const [path, n, make] of over) {
    const item = path.endsWith('atcCodes') ? 'L01EB04' : path.endsWith('Flags') ? 'NFR-LUNGE' : 'x';
    shaped(
      'array over maxItems',
      `${path}: ${n} items`,
      withValue(
        make(),
        path,
        Array.from({ length: n }, () => item),
      ),
      fieldNamed(path),
    );
  }
  const unknownAt: [string, () => object][] = [
    ['(event)', reg],
    ['registered', reg],
    ['registered.details', reg],
    ['decision', () => decision(freshMethodId())],
    ['decision.temporaryIntroduction', () => decision(freshMethodId())],
  ];
  for (const [level, make] of unknownAt) {
    const event = make() as Record<string, unknown>;
    const target =
      level === '(event)'
        ? event
        : level.split('.').reduce<Record<string, unknown>>((o, p) => o[p] as Record<string, unknown>, event);
    target.sneaky = 'x';
    shaped('unknown field', `unknown field at ${level}`, event, /sneaky/);
  }
  const wrong: [string, string, unknown, () => object][] = [
    ['type a number', 'type', 7, reg],
    ['type not a type', 'type', 'METHOD_EXPLODED', reg],
    ['type UNKNOWN', 'type', 'UNKNOWN', reg],
    ['occurredAt a number', 'occurredAt', 1_700_000_000_000, reg],
    ['registered a string', 'registered', 'yes', reg],
    ['details an array', 'registered.details', [], reg],
    ['substances a string', 'registered.details.substances', 'osimertinib', reg],
    ['methodType not in the enum', 'registered.details.methodType', 'DRUG', reg],
    ['hPrescription a string', 'registered.details.hPrescription', 'yes', reg],
    ['name null', 'registered.details.name', null, reg],
    ['withoutDocumentation a string', 'decision.withoutDocumentation', 'no', () => decision(freshMethodId())],
    ['outcome not in the enum', 'decision.outcome', 'MAYBE', () => decision(freshMethodId())],
    ['assessmentUrl javascript:', 'registered.details.assessmentUrl', 'javascript:alert(1)', reg],
  ];
  for (const [what, path, value, make] of wrong)
    shaped('wrong type', what, withValue(make(), path, value), fieldNamed(path.split('.').at(-1)!));
  return cases;
}

function bodyCases(maxBatch: number, maxBytes: number): HttpCase[] {
  const cases: HttpCase[] = [
    postEvents('body shape', 'empty batch', [], [400], /empty/),
    postEvents('body shape', 'null', 'null', [400], /event|body/i),
    postEvents('body shape', 'a number', '42', [400], /event|body/i),
    postEvents('body shape', 'a string', '"METHOD_REGISTERED"', [400], /event|body/i),
    postEvents('body shape', 'an array of nulls', [null, null], [400], /event/i),
    postEvents(
      'body shape',
      'batch over INGRESS_MAX_BATCH',
      Array.from({ length: maxBatch + 1 }, () => ({ eventId: 'x' })),
      [413],
      /at most/,
    ),
    postEvents(
      'body shape',
      'prototype pollution',
      JSON.stringify(registration(freshMethodId())).replace(/^\{/, '{"__proto__": {"admin": true}, '),
      [400],
      /__proto__|FORBIDDEN_KEY/,
    ),
  ];
  cases.push(
    postEvents(
      'oversize body',
      'body over INGRESS_MAX_BODY_BYTES',
      [registration(freshMethodId(), goodDetails({ indication: 'ø'.repeat(maxBytes) }))],
      [413],
      /BODY_TOO_LARGE|too large|bytes/i,
    ),
  );
  return cases;
}

function illegalTransitionCases(registered: string): HttpCase[] {
  const fresh = freshMethodId;
  const event = (methodId: string, type: string, field: string, detail: object) => ({
    eventId: randomUUID(),
    methodId,
    type,
    occurredAt: at,
    [field]: detail,
  });
  const list: [string, object, RegExp][] = [
    ['decision before registration', decision(fresh()), /ILLEGAL_TRANSITION|UNKNOWN_METHOD|not registered/i],
    [
      'details changed before registration',
      event(fresh(), 'DETAILS_CHANGED', 'detailsChanged', { details: goodDetails() }),
      /ILLEGAL_TRANSITION|UNKNOWN_METHOD|not registered/i,
    ],
    [
      'assessment started before registration',
      event(fresh(), 'ASSESSMENT_STARTED', 'assessmentStarted', { startedOn: '2025-03-03', assessor: null }),
      /ILLEGAL_TRANSITION|UNKNOWN_METHOD|not registered/i,
    ],
    [
      'phased out before registration',
      event(fresh(), 'PHASED_OUT', 'phasedOut', {
        effectiveFrom: '2025-03-03',
        subGroup: null,
        reason: null,
      }),
      /ILLEGAL_TRANSITION|UNKNOWN_METHOD|not registered/i,
    ],
    ['registered twice', registration(registered), /ALREADY_REGISTERED|ILLEGAL_TRANSITION|registered/i],
    ['decision without an assessment', decision(registered), /ILLEGAL_TRANSITION|assess/i],
    [
      'resumed without a pause',
      event(registered, 'ASSESSMENT_RESUMED', 'assessmentResumed', { resumedOn: '2025-03-03' }),
      /ILLEGAL_TRANSITION|paused/i,
    ],
    [
      'reassessment of an undecided method',
      event(registered, 'REASSESSMENT_STARTED', 'reassessmentStarted', {
        startedOn: '2025-03-03',
        reason: null,
      }),
      /ILLEGAL_TRANSITION|decid/i,
    ],
    [
      'price concluded before it started',
      event(registered, 'PRICE_NEGOTIATION_CONCLUDED', 'priceNegotiationConcluded', {
        concludedOn: '2025-03-03',
        agreementType: 'FLAT_DISCOUNT',
        publicPriceNoteUrl: null,
        confidentialPriceNoteUrl: null,
      }),
      /ILLEGAL_TRANSITION|negotiat/i,
    ],
    [
      'status straight to DECIDED',
      event(registered, 'STATUS_CHANGED', 'statusChanged', { from: null, to: 'DECIDED', reason: null }),
      /ILLEGAL_TRANSITION|DECIDED/,
    ],
  ];
  return list.map(([name, body, names]) => postEvents('illegal transition', name, body, [422], names));
}

// ------------------------------------------------------------------------------------- every route, generic

interface Route {
  method: HttpCase['method'];
  path: string;
  /** A body the route would take (for auth cases on writing routes). */
  body?: string;
  query?: string[];
  asOf?: boolean;
}

export function routes(registered: string): Route[] {
  const goodEvent = JSON.stringify(registration(freshMethodId()));
  const status = JSON.stringify({
    methodId: registered,
    guidelineId: 'HP-LUNGE',
    status: 'IN_PROGRESS',
    date: '2025-03-03',
  });
  const hook = JSON.stringify({ url: 'https://vendor.example/hook', secret: 'vendor-secret-0123456789' });
  const subscription = JSON.stringify({
    topic: { kind: 'METHOD', value: registered },
    email: 'kari.nordmann@helse-vest.example',
  });
  return [
    { method: 'POST', path: EVENTS, body: goodEvent },
    { method: 'GET', path: `/api/v1/methods/${registered}`, query: ['asOf'], asOf: true },
    { method: 'GET', path: `/api/v1/methods/${registered}/history`, query: ['asOf'], asOf: true },
    { method: 'GET', path: '/api/v1/methods', query: ['status', 'specialty', 'asOf'], asOf: true },
    { method: 'GET', path: '/api/v1/stats/stages', query: ['by', 'asOf'], asOf: true },
    { method: 'GET', path: `/slv/v1/methods/${registered}/exchanges` },
    { method: 'GET', path: '/hdir/v1/flags', query: ['status', 'overdue'] },
    { method: 'GET', path: `/hdir/v1/flags/${registered}` },
    { method: 'POST', path: '/hdir/v1/implementation-status', body: status },
    { method: 'GET', path: '/hdir/v1/alerts' },
    { method: 'GET', path: '/hdir/v1/implementation-times' },
    { method: 'GET', path: '/hdir/v1/guidelines' },
    { method: 'GET', path: '/financing/v1/decisions?from=2025-01-01&to=2026-12-31', asOf: true },
    { method: 'GET', path: '/fest/v1/vilkar', query: ['since'] },
    { method: 'GET', path: '/fest/v1/vilkar/gjelder-for', query: ['atc'] },
    { method: 'PUT', path: '/fest/v1/webhook', body: hook },
    { method: 'GET', path: '/fest/v1/webhook' },
    { method: 'DELETE', path: '/fest/v1/webhook' },
    { method: 'POST', path: '/fest/v1/webhook/resend', body: '{"fromVersion":0}' },
    { method: 'POST', path: '/jca/v1/intake', body: JSON.stringify(jcaDocument()) },
    { method: 'POST', path: '/jca/v1/procedures/JCA-2025-0001/links', body: `{"methodId":"${registered}"}` },
    { method: 'GET', path: '/jca/v1/procedures' },
    { method: 'GET', path: '/jca/v1/procedures/JCA-2025-0001' },
    { method: 'GET', path: '/jca/v1/timeline', query: ['on', 'withinDays'] },
    { method: 'GET', path: '/jca/v1/rejected' },
    { method: 'GET', path: `/jca/v1/methods/${registered}/picos` },
    { method: 'POST', path: '/subscriptions/v1/subscriptions', body: subscription },
    { method: 'GET', path: '/subscriptions/v1/subscriptions' },
    { method: 'DELETE', path: '/subscriptions/v1/subscriptions/00000000-0000-4000-8000-000000000000' },
    { method: 'GET', path: '/ops/api/dead-letters', query: ['topic', 'pending'] },
    { method: 'GET', path: '/ops/api/dead-letters/x.dlq:0:0' },
    { method: 'POST', path: '/ops/api/dead-letters/x.dlq:0:0/redrive', body: '{}' },
    { method: 'POST', path: '/ops/api/dead-letters/x.dlq:0:0/discard', body: '{"note":"test"}' },
    { method: 'GET', path: `/ops/trace/${registered}` },
    { method: 'GET', path: '/ops/api/flow' },
  ];
}

const tokenCases: [TokenKind, number, RegExp][] = [
  ['none', 401, /MISSING_TOKEN/],
  ['garbage', 401, /TOKEN_INVALID/],
  ['wrongScope', 403, /INSUFFICIENT_SCOPE/],
  ['expired', 401, /TOKEN_EXPIRED/],
  ['noExp', 401, /exp/],
];

function authCases(all: Route[]): HttpCase[] {
  const cases: HttpCase[] = [];
  for (const route of all)
    for (const [token, status, names] of tokenCases)
      cases.push({
        door: 'http',
        klass: `token ${token}`,
        name: `${route.method} ${route.path}`,
        method: route.method,
        path: route.path,
        token,
        ...(route.body !== undefined ? { contentType: json, body: route.body } : {}),
        status: [status],
        names,
      });
  const extra: [TokenKind, RegExp][] = [
    ['basic', /MISSING_TOKEN/],
    ['foreignKey', /TOKEN_INVALID/],
    ['wrongAudience', /TOKEN_INVALID/],
  ];
  for (const [token, names] of extra)
    cases.push({
      door: 'http',
      klass: `token ${token}`,
      name: `POST ${EVENTS}`,
      method: 'POST',
      path: EVENTS,
      token,
      contentType: json,
      body: all[0]!.body!,
      status: [401],
      names,
    });
  return cases;
}

function queryCases(all: Route[]): HttpCase[] {
  const cases: HttpCase[] = [];
  for (const route of all.filter((r) => r.method === 'GET')) {
    cases.push({
      door: 'http',
      klass: 'unknown query parameter',
      name: `GET ${route.path}&sneaky=1`,
      method: 'GET',
      path: `${route.path}${route.path.includes('?') ? '&' : '?'}sneaky=1`,
      status: [400],
      names: /sneaky/,
    });
  }
  const badAsOf: [string, string][] = [
    ['a word', 'yesterday'],
    ['2024-02-30', '2024-02-30T10:00:00Z'],
    ['hour 25', '2024-05-01T25:00:00Z'],
    ['no zone', '2024-05-01T10:00:00'],
    ['leap second', '2016-12-31T23:59:60Z'],
  ];
  for (const route of all.filter((r) => r.asOf))
    for (const [what, value] of badAsOf)
      cases.push({
        door: 'http',
        klass: 'bad asOf',
        name: `GET ${route.path}?asOf=${what}`,
        method: 'GET',
        path: `${route.path}${route.path.includes('?') ? '&' : '?'}asOf=${encodeURIComponent(value)}`,
        status: [400],
        names: /asOf/,
      });
  const other: [string, string, RegExp][] = [
    ['/financing/v1/decisions?from=2024-13-01&to=2026-12-31', 'financing from month 13', /from/],
    ['/financing/v1/decisions?from=2024-01-01&to=tomorrow', 'financing to a word', /to/],
    ['/financing/v1/decisions', 'financing without from and to', /from/],
    ['/financing/v1/decisions?limit=-1', 'financing limit -1', /limit/],
    ['/financing/v1/decisions?limit=ten', 'financing limit a word', /limit/],
    ['/financing/v1/decisions?format=pdf', 'financing format pdf', /format/],
    ['/financing/v1/decisions?limit=1&limit=2', 'financing limit twice', /limit/],
    ['/fest/v1/vilkar?since=yesterday', 'fest since a word', /since/],
    ['/fest/v1/vilkar?since=-1', 'fest since -1', /since/],
    ['/fest/v1/vilkar?since=99999999999', 'fest since ahead', /since|ahead/i],
    ['/jca/v1/timeline?on=2023-02-30', 'jca timeline on 2023-02-30', /on/],
    ['/jca/v1/timeline?withinDays=-5', 'jca timeline withinDays -5', /withinDays/],
    ['/subscriptions/v1/unsubscribe', 'unsubscribe without token', /token/],
    ['/subscriptions/v1/unsubscribe?token=garbage', 'unsubscribe token garbage', /token/i],
    [`/subscriptions/v1/unsubscribe?token=${'a'.repeat(3000)}`, 'unsubscribe token 3 kB', /token/],
    ['/subscriptions/v1/unsubscribe?token=a&token=b', 'unsubscribe token twice', /token/],
    ['/hdir/v1/flags?overdue=maybe', 'hdir overdue maybe', /overdue/],
    ['/hdir/v1/flags?status=DONE', 'hdir status DONE', /status/],
    ['/api/v1/stats/stages?by=colour', 'stats by colour', /by/],
    ['/api/v1/methods?limit=100000000', 'methods limit huge', /limit/],
    ['/api/v1/methods?status=%00', 'methods status NUL', /status/],
    ['/ops/api/dead-letters?pending=perhaps', 'dead letters pending perhaps', /pending/],
  ];
  for (const [path, name, names] of other)
    cases.push({ door: 'http', klass: 'bad query value', name, method: 'GET', path, status: [400], names });
  const badPath: [string, string, RegExp, number[]][] = [
    ['/api/v1/methods/ID1', 'method id short', /id|ID1/i, [400, 404]],
    [`/api/v1/methods/ID${'9'.repeat(3000)}`, 'method id 3 kB', /id/i, [400, 404, 414]],
    ['/api/v1/methods/%00', 'method id NUL', /id/i, [400, 404]],
    ['/api/v1/methods/ID2031_999', 'method unknown', /ID2031_999/, [404]],
    [
      '/slv/v1/methods/..%2F..%2Fetc/exchanges',
      'slv exchanges path traversal',
      /methodId|method/i,
      [400, 404],
    ],
    ['/hdir/v1/flags/%E2%80%AE', 'hdir flags RTL override', /methodId|method/i, [400, 404]],
    ['/jca/v1/procedures/%00', 'jca procedure NUL', /procedure/i, [400, 404]],
    ['/jca/v1/methods/ID1/picos', 'jca picos method id short', /methodId/, [400]],
    ['/ops/trace/ID2031', 'trace bad id', /methodId|method/i, [400, 404]],
    ['/api/v1/methods/%E0%A4%A', 'method id with a broken %-escape', /MALFORMED_URL/, [400]],
    [
      `/hdir/v1/flags/${'%FF'.repeat(10)}`,
      'hdir flags id of invalid UTF-8 escapes',
      /MALFORMED_URL|methodId|method/i,
      [400, 404],
    ],
  ];
  for (const [path, name, names, status] of badPath)
    cases.push({ door: 'http', klass: 'bad path parameter', name, method: 'GET', path, status, names });
  return cases;
}

/** Bytes that are not UTF-8, inside an otherwise plausible JSON text. */
const invalidUtf8: [string, Buffer][] = [
  ['byte 0xFF', Buffer.from([0xff])],
  ['bare continuation 0x80', Buffer.from([0x80])],
  ['overlong slash', Buffer.from([0xc0, 0xaf])],
  ['encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
  ['truncated sequence', Buffer.from([0xe2, 0x82])],
];

function bodyDoorCases(all: Route[], maxBytes: number): HttpCase[] {
  const cases: HttpCase[] = [];
  const writers = all.filter((r) => r.body !== undefined);
  for (const route of writers) {
    const send = (
      klass: string,
      name: string,
      body: string | Buffer,
      contentType: string,
      status: number[],
      names: RegExp,
    ) =>
      cases.push({
        door: 'http',
        klass,
        name: `${route.method} ${route.path}: ${name}`,
        method: route.method,
        path: route.path,
        contentType,
        body,
        status,
        names,
      });
    for (const [what, bytes] of invalidUtf8) {
      const body = Buffer.concat([
        Buffer.from(route.body!.slice(0, -1)),
        Buffer.from(',"x":"'),
        bytes,
        Buffer.from('"}'),
      ]);
      send('invalid UTF-8', what, body, json, [400], /UTF-8|utf-8|MALFORMED_JSON|encoding/i);
    }
    const types = route.path.startsWith('/jca/v1/')
      ? ['text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']
      : ['text/plain', 'application/xml', 'application/x-www-form-urlencoded'];
    // A charset label other than UTF-8: the bytes would be read as something the sender did not mean.
    const labelled =
      route.path === '/fest/v1/webhook' ? route.body!.replace('vendor.example', '10.0.0.1') : route.body!;
    for (const charset of ['iso-8859-1', 'utf-16'])
      send(
        'wrong content type',
        `charset=${charset}`,
        labelled,
        `${json}; charset=${charset}`,
        [415],
        /charset/i,
      );
    for (const type of types)
      send(
        'wrong content type',
        type,
        route.body!,
        type,
        [415],
        /UNSUPPORTED_MEDIA_TYPE|media type|content-type/i,
      );
    const malformed: [string, string][] = [
      ['unclosed object', '{'],
      ['missing value', '{"a":}'],
      ['trailing comma', '{"a":1,}'],
      ['trailing garbage', `${route.body}x`],
      ['NaN', '{"a":NaN}'],
    ];
    for (const [what, body] of malformed)
      send('malformed JSON', what, body, json, [400], /MALFORMED_JSON|JSON/);
    send(
      'oversize body',
      `${maxBytes + 1000} bytes`,
      `{"a":"${'x'.repeat(maxBytes + 1000)}"}`,
      json,
      [413],
      /BODY_TOO_LARGE|large|bytes/i,
    );
  }
  return cases;
}

// -------------------------------------------------------------------------------------- partner bodies

function hdirStatusCases(registered: string): HttpCase[] {
  const good = { methodId: registered, guidelineId: 'HP-LUNGE', status: 'IN_PROGRESS', date: '2025-03-03' };
  const list: [string, object, RegExp, number[]][] = [
    ['unknown field', { ...good, sneaky: 1 }, /sneaky/, [400]],
    ['status not in the enum', { ...good, status: 'DONE' }, /status/, [400]],
    ['date 2023-02-30', { ...good, date: '2023-02-30' }, /date/, [400]],
    ['date year 9999', { ...good, date: '9999-12-31' }, /date/, [400, 422]],
    ['date an instant', { ...good, date: '2025-03-03T10:00:00Z' }, /date/, [400]],
    ['methodId malformed', { ...good, methodId: 'ID1' }, /methodId/, [400]],
    ['methodId unknown', { ...good, methodId: 'ID2031_998' }, /ID2031_998/, [404]],
    ['guidelineId empty', { ...good, guidelineId: '' }, /guidelineId/, [400]],
    ['guidelineId unknown', { ...good, guidelineId: 'NO-SUCH-GUIDELINE' }, /NO-SUCH-GUIDELINE/, [404]],
    ['note with U+0000', { ...good, note: 'ok\u0000' }, /note/, [400]],
    ['note over 2000', { ...good, note: 'x'.repeat(2001) }, /note/, [400]],
    [
      'missing status',
      { methodId: registered, guidelineId: 'HP-LUNGE', date: '2025-03-03' },
      /status/,
      [400],
    ],
    ['status a number', { ...good, status: 3 }, /status/, [400]],
  ];
  return list.map(([name, body, names, status]) => ({
    door: 'http',
    klass: 'hdir implementation status body',
    name,
    method: 'POST',
    path: '/hdir/v1/implementation-status',
    contentType: json,
    body: JSON.stringify(body),
    status,
    names,
  }));
}

function subscriptionCases(canaryUrl: string): HttpCase[] {
  const email = 'kari.nordmann@helse-vest.example';
  const body = (extra: object, topic: object = { kind: 'SPECIALTY', value: 'Onkologi' }) =>
    JSON.stringify({ topic, ...extra });
  const list: [string, string, RegExp][] = [
    ['unknown field', body({ email, sneaky: 1 }), /sneaky/],
    ['topic missing', JSON.stringify({ email }), /topic/],
    ['topic kind unknown', body({ email }, { kind: 'SUPPLIER', value: 'Acme' }), /kind/],
    ['method value not a method id', body({ email }, { kind: 'METHOD', value: 'ID1' }), /topic\.value/],
    ['ATC value not an ATC code', body({ email }, { kind: 'ATC_GROUP', value: 'L0X' }), /topic\.value/],
    ['specialty of markup', body({ email }, { kind: 'SPECIALTY', value: '<script>' }), /topic\.value/],
    ['email not an address', body({ email: 'kari at helse-vest' }), /email/],
    ['email with a header injected', body({ email: `${email}\r\nBcc: all@example.com` }), /email/],
    ['both email and webhook', body({ email, webhookUrl: 'https://hook.example/x' }), /email|webhookUrl/],
    ['neither email nor webhook', body({}), /email|webhookUrl/],
    ['digest every 0 minutes', body({ email, digestEveryMinutes: 0 }), /digestEveryMinutes/],
    ['digest every two weeks', body({ email, digestEveryMinutes: 20_160 }), /digestEveryMinutes/],
    ['webhook to the loopback canary', body({ webhookUrl: `${canaryUrl}/hook` }), /webhookUrl|URL|http/i],
    [
      'webhook to cloud metadata',
      body({ webhookUrl: 'https://169.254.169.254/latest' }),
      /webhookUrl|URL|address/i,
    ],
    ['webhook file:', body({ webhookUrl: 'file:///etc/passwd' }), /webhookUrl|URL|https/i],
  ];
  return list.map(([name, text, names]) => ({
    door: 'http',
    klass: 'subscription body',
    name,
    method: 'POST',
    path: '/subscriptions/v1/subscriptions',
    contentType: json,
    body: text,
    status: [400],
    names,
  }));
}

function festWebhookCases(canaryPort: number): HttpCase[] {
  const secret = 'vendor-secret-0123456789';
  const hook = (url: string, extra: object = {}) => JSON.stringify({ url, secret, ...extra });
  const list: [string, string, RegExp][] = [
    ['unknown field', hook('https://vendor.example/hook', { sneaky: 1 }), /sneaky/],
    ['url missing', JSON.stringify({ secret }), /url/],
    ['url not a URL', hook('not a url'), /url|URL/],
    ['url javascript:', hook('javascript:alert(1)'), /url|URL|https/],
    ['url file:', hook('file:///etc/passwd'), /url|URL|https/],
    ['fromVersion negative', hook('https://vendor.example/hook', { fromVersion: -1 }), /fromVersion/],
    ['secret a number', JSON.stringify({ url: 'https://vendor.example/hook', secret: 5 }), /secret/],
  ];
  const cases: HttpCase[] = list.map(([name, body, names]) => ({
    door: 'http',
    klass: 'fest webhook body',
    name,
    method: 'PUT',
    path: '/fest/v1/webhook',
    contentType: json,
    body,
    status: [400],
    names,
  }));
  cases.push({
    door: 'http',
    klass: 'fest webhook body',
    name: 'resend fromVersion ahead, no webhook',
    method: 'POST',
    path: '/fest/v1/webhook/resend',
    contentType: json,
    body: JSON.stringify({ fromVersion: 10 ** 9 }),
    status: [400, 404],
    names: /fromVersion|ahead|WEBHOOK_NOT_REGISTERED/,
  });
  const p = canaryPort;
  // Loopback, private and metadata addresses, each spelled the way a guard that only compares text misses.
  const hosts = [
    '127.0.0.1',
    '127.1',
    '0x7f.0.0.1',
    '0x7f000001',
    '2130706433',
    '0177.0.0.1',
    '017700000001',
    '127.000.000.001',
    'localhost',
    'LOCALHOST',
    '[::1]',
    '[0:0:0:0:0:0:0:1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::127.0.0.1]',
    '[64:ff9b::7f00:1]',
    '0.0.0.0',
    '0',
    '169.254.169.254',
    '[fe80::1]',
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '100.64.0.1',
    '[fd00::1]',
  ];
  for (const host of hosts)
    cases.push({
      door: 'http',
      klass: 'webhook URL to a private address',
      name: host,
      method: 'PUT',
      path: '/fest/v1/webhook',
      contentType: json,
      body: hook(`https://${host}:${p}/hook`),
      status: [400],
      names: /INVALID_WEBHOOK_URL/,
    });
  cases.push({
    door: 'http',
    klass: 'webhook URL to a private address',
    name: 'credentials in the URL',
    method: 'PUT',
    path: '/fest/v1/webhook',
    contentType: json,
    body: hook(`https://user:pw@127.0.0.1:${p}/hook`),
    status: [400],
    names: /INVALID_WEBHOOK_URL/,
  });
  cases.push({
    door: 'http',
    klass: 'webhook URL to a private address',
    name: 'plain http',
    method: 'PUT',
    path: '/fest/v1/webhook',
    contentType: json,
    body: hook(`http://127.0.0.1:${p}/hook`),
    status: [400],
    names: /INVALID_WEBHOOK_URL/,
  });
  return cases;
}

function jcaCases(canaryUrl: string, maxBytes: number): HttpCase[] {
  const intake = (
    name: string,
    body: string | Buffer,
    contentType: string,
    status: number[],
    names: RegExp,
  ): HttpCase => ({
    door: 'http',
    klass: 'JCA intake',
    name,
    method: 'POST',
    path: '/jca/v1/intake',
    contentType,
    body,
    status,
    names,
  });
  const xml = 'application/xml';
  const doc = jcaDocument();
  const xmlText = toXml(doc);
  const cases: HttpCase[] = [
    intake('XXE file', jcaHostile.xxeFile(), xml, [400], /XML_DTD_FORBIDDEN/),
    intake('XXE http', jcaHostile.xxeHttp(canaryUrl), xml, [400], /XML_DTD_FORBIDDEN/),
    intake(
      'XXE parameter entity',
      jcaHostile.xxeParameter(canaryUrl),
      'text/xml',
      [400],
      /XML_DTD_FORBIDDEN/,
    ),
    intake('billion laughs', jcaHostile.billionLaughs(), xml, [400], /XML_DTD_FORBIDDEN/),
    intake('quadratic blow-up', jcaHostile.quadraticBlowup(), xml, [400], /XML_DTD_FORBIDDEN/),
    intake('lower-case DOCTYPE', jcaHostile.sneakyDoctype(), xml, [400], /XML_DTD_FORBIDDEN/),
    intake(
      'undefined entity &foo;',
      xmlText.replace(/<indication>/, '<indication>&foo;'),
      xml,
      [400],
      /entity|foo/i,
    ),
    intake('malformed XML', jcaHostile.malformedXml(), xml, [400], /MALFORMED_XML/),
    intake('deep XML', jcaHostile.deepXml(), xml, [400], /MALFORMED_XML|deep/i),
    intake(
      'wrong namespace',
      toXml(doc, 'urn:eu:hta:jca:2'),
      xml,
      [400, 422],
      /namespace|UNSUPPORTED_SCHEMA_VERSION/i,
    ),
    intake('no namespace', toXml(doc, ''), xml, [400, 422], /namespace|UNSUPPORTED_SCHEMA_VERSION/i),
    intake(
      'over-long indication (XML)',
      toXml({ ...doc, indication: 'x'.repeat(5000) }),
      xml,
      [400],
      /indication/,
    ),
    intake(
      'over-long indication (JSON)',
      JSON.stringify({ ...doc, indication: 'x'.repeat(5000) }),
      json,
      [400],
      /indication/,
    ),
    intake(
      'invalid UTF-8 inside a valid document (JSON)',
      Buffer.concat([
        Buffer.from(JSON.stringify({ ...doc, indication: 'Lungekreft @@' }).split('@@')[0]!),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(JSON.stringify({ ...doc, indication: 'Lungekreft @@' }).split('@@')[1]!),
      ]),
      json,
      [400],
      /INVALID_UTF8/,
    ),
    intake(
      'control char in indication (JSON)',
      JSON.stringify({ ...doc, indication: 'a\u0001b' }),
      json,
      [400],
      /indication/,
    ),
    intake(
      'invalid UTF-8 in XML',
      Buffer.concat([
        Buffer.from(xmlText.replace(/<indication>[^<]*/, '<indication>')),
        Buffer.from([0xff, 0xfe]),
      ]),
      xml,
      [400],
      /UTF-8|MALFORMED_XML|encoding/i,
    ),
    intake(
      'encoding ISO-8859-1 declared',
      xmlText.replace(/^<\?xml[^>]*\?>/, '<?xml version="1.0" encoding="ISO-8859-1"?>'),
      xml,
      [400, 415],
      /encoding|ISO-8859-1/i,
    ),
    intake(
      'encoding UTF-16 declared',
      xmlText.replace(/^<\?xml[^>]*\?>/, '<?xml version="1.0" encoding="UTF-16"?>'),
      xml,
      [400, 415],
      /encoding|UTF-16/i,
    ),
    intake(
      'charset windows-1252 in content type',
      xmlText,
      'application/xml; charset=windows-1252',
      [400, 415],
      /charset|windows-1252|encoding|media type/i,
    ),
    intake('malformed JSON', jcaHostile.malformedJson(), json, [400], /MALFORMED_JSON/),
    intake('deep JSON', jcaHostile.deepJson(), json, [400], /INVALID_DOCUMENT|deep/i),
    intake('oversized JSON', jcaHostile.oversizedJson(maxBytes), json, [413], /BODY_TOO_LARGE/),
    intake(
      'unknown version',
      JSON.stringify(jcaHostile.unknownVersion()),
      json,
      [422],
      /UNSUPPORTED_SCHEMA_VERSION/,
    ),
    intake('prototype pollution', jcaHostile.protoJson(), json, [400], /__proto__|INVALID_DOCUMENT/),
    intake('unknown field', JSON.stringify({ ...doc, sneaky: 1 }), json, [400], /sneaky/),
    intake(
      'milestone not in the enum',
      JSON.stringify({ ...doc, milestone: 'APPROVED' }),
      json,
      [400],
      /milestone/,
    ),
    intake('empty body', '', json, [400], /empty|body|JSON/i),
  ];
  const link = (
    name: string,
    procedure: string,
    body: string,
    status: number[],
    names: RegExp,
  ): HttpCase => ({
    door: 'http',
    klass: 'JCA link body',
    name,
    method: 'POST',
    path: `/jca/v1/procedures/${procedure}/links`,
    contentType: json,
    body,
    status,
    names,
  });
  cases.push(
    link('malformed JSON', 'JCA-2025-0001', '{', [400], /MALFORMED_JSON/),
    link('methodId malformed', 'JCA-2025-0001', '{"methodId":"x"}', [400, 404], /methodId|UNKNOWN_METHOD/),
    link(
      'unknown procedure',
      'JCA-2099-9999',
      '{"methodId":"ID2031_997"}',
      [404],
      /JCA-2099-9999|procedure/i,
    ),
  );
  return cases;
}

function deadLetterEntryCases(): HttpCase[] {
  const ids: [string, number[], RegExp][] = [
    ['x', [400], /INVALID_ENTRY_ID|entry id/],
    ['foo.dlq:a:b', [400], /INVALID_ENTRY_ID|entry id/],
    ['foo.dlq:-1:0', [400], /INVALID_ENTRY_ID|entry id/],
    ['no-such-topic.dlq:0:0', [400, 404], /UNKNOWN_TOPIC: no-such-topic\.dlq|NO_SUCH_ENTRY/],
    [`${'a'.repeat(2000)}.dlq:0:0`, [400, 404, 414], /INVALID_ENTRY_ID|PATH_PARAMETER_TOO_LONG/],
    ['foo.dlq:0:99999999999999999999999', [400, 404], /INVALID_ENTRY_ID|UNKNOWN_TOPIC|NO_SUCH_ENTRY/],
    ['%2E%2E%2F%2E%2E', [400, 404], /INVALID_ENTRY_ID|entry/],
  ];
  const cases: HttpCase[] = [];
  for (const [id, status, names] of ids) {
    const path = `/ops/api/dead-letters/${id.startsWith('%') ? id : encodeURIComponent(id)}`;
    cases.push(
      {
        door: 'http',
        klass: 'dead-letter entry id',
        name: `GET ${id.slice(0, 40)}`,
        method: 'GET',
        path,
        status,
        names,
      },
      {
        door: 'http',
        klass: 'dead-letter entry id',
        name: `redrive ${id.slice(0, 40)}`,
        method: 'POST',
        path: `${path}/redrive`,
        contentType: json,
        body: '{}',
        status,
        names,
      },
      {
        door: 'http',
        klass: 'dead-letter entry id',
        name: `discard ${id.slice(0, 40)}`,
        method: 'POST',
        path: `${path}/discard`,
        contentType: json,
        body: '{"note":"hostile suite"}',
        status,
        names,
      },
    );
  }
  cases.push({
    door: 'http',
    klass: 'dead-letter entry id',
    name: 'discard without a note',
    method: 'POST',
    path: '/ops/api/dead-letters/foo.dlq:0:0/discard',
    contentType: json,
    body: '{}',
    status: [400],
    names: /note/,
  });
  return cases;
}

// ---------------------------------------------------------------------------------------------- raw Kafka

const frame = (schemaId: number, body: Buffer, magic = 0) => {
  const header = Buffer.alloc(5);
  header.writeUInt8(magic, 0);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
};
const randomBytes = (n: number, seed: number) => {
  const out = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
};

export function fullEvent(overrides: Record<string, unknown> = {}) {
  return {
    eventId: randomUUID(),
    methodId: freshMethodId(),
    type: 'METHOD_REGISTERED',
    occurredAt: Date.parse(at),
    source: 'case-system',
    actor: null,
    sourceSequence: null,
    registered: {
      details: {
        ...goodDetails(),
        level: 'NATIONAL',
        marketingAuthorisation: 'GRANTED',
        hPrescription: false,
        estimatedPatientsPerYear: 100,
      },
    },
    detailsChanged: null,
    statusChanged: null,
    assignment: null,
    assessmentStarted: null,
    assessmentPaused: null,
    assessmentResumed: null,
    assessmentDelivered: null,
    priceNegotiationStarted: null,
    priceNegotiationConcluded: null,
    decision: null,
    reassessmentStarted: null,
    phasedOut: null,
    exception: null,
    link: null,
    note: null,
    closed: null,
    ...overrides,
  };
}

function kafkaCases(): KafkaCase[] {
  const cases: KafkaCase[] = [];
  let n = 0;
  const add = (
    topic: KafkaCase['topic'],
    klass: string,
    name: string,
    value: KafkaCase['value'],
    names: RegExp,
  ) =>
    cases.push({
      door: 'kafka',
      klass,
      name,
      topic,
      key: `hostile-${topic.split('.')[0]}-${n++}-${randomUUID().slice(0, 6)}`,
      value,
      names,
    });
  const undecodable = /UNDECODABLE|magic|schema|decode|framing|bytes/i;
  for (const topic of ['nyemetoder.method-events.v1', 'slv.case-updates.v1'] as const) {
    const own = (ctx: KafkaContext) =>
      topic === 'slv.case-updates.v1' ? ctx.schemaIds.slvUpdates : ctx.schemaIds.events;
    const other = topic === 'slv.case-updates.v1' ? 'nyemetoder.method-events.v1' : 'slv.case-updates.v1';
    const goodOf = (t: KafkaCase['topic']) => (t === 'slv.case-updates.v1' ? slvUpdate() : fullEvent());
    for (const [i, size] of [1, 4, 64, 4096].entries())
      add(
        topic,
        'kafka random bytes',
        `${topic}: ${size} random bytes`,
        () => randomBytes(size, i + 1),
        undecodable,
      );
    add(topic, 'kafka random bytes', `${topic}: empty value`, () => Buffer.alloc(0), undecodable);
    add(
      topic,
      'kafka wrong magic byte',
      `${topic}: magic 1`,
      (c) => frame(own(c), randomBytes(40, 7), 1),
      /magic/i,
    );
    add(
      topic,
      'kafka wrong magic byte',
      `${topic}: magic 0xFF`,
      (c) => frame(own(c), randomBytes(40, 8), 0xff),
      /magic/i,
    );
    add(
      topic,
      'kafka wrong magic byte',
      `${topic}: JSON instead of Avro`,
      () => Buffer.from(JSON.stringify(goodOf(topic))),
      /magic/i,
    );
    add(
      topic,
      'kafka unknown schema id',
      `${topic}: an id no subject has`,
      (c) => frame(c.schemaIds.unknown, randomBytes(40, 9)),
      /schema/i,
    );
    add(
      topic,
      'kafka unknown schema id',
      `${topic}: schema id 0`,
      () => frame(0, randomBytes(40, 10)),
      /schema/i,
    );
    add(
      topic,
      'kafka another schema',
      `${topic}: a record of ${other}`,
      (c) => c.encodeRaw(other, goodOf(other)),
      /schema|contract/i,
    );
    add(
      topic,
      'kafka truncated record',
      `${topic}: own schema, body cut short`,
      (c) => c.encodeRaw(topic, goodOf(topic)).subarray(0, 20),
      undecodable,
    );
    add(
      topic,
      'kafka huge record',
      `${topic}: ~900 kB of random bytes`,
      (c) => frame(own(c), randomBytes(900_000, 11)),
      undecodable,
    );
  }
  const events = 'nyemetoder.method-events.v1' as const;
  const details = () => fullEvent().registered.details;
  const limits: [string, () => Record<string, unknown>, RegExp][] = [
    ['occurredAt year 9999', () => ({ occurredAt: Date.UTC(9999, 0, 1) }), /occurredAt/],
    ['occurredAt 1970', () => ({ occurredAt: 0 }), /occurredAt/],
    ['eventId not a UUID', () => ({ eventId: 'not-a-uuid' }), /eventId/],
    // Its syntax is the lifecycle's rule: the consumers that fold it refuse it as INVALID_METHOD_ID.
    ['methodId malformed', () => ({ methodId: '../etc' }), /methodId|method ID/],
    ['name with U+0000', () => ({ registered: { details: { ...details(), name: 'a\u0000b' } } }), /name/],
    ['name with U+001B', () => ({ registered: { details: { ...details(), name: 'a\u001bb' } } }), /name/],
    [
      'substances over maxItems',
      () => ({
        registered: { details: { ...details(), substances: Array.from({ length: 31 }, () => 'x') } },
      }),
      /substances/,
    ],
    // avsc refuses to read a long past 2^53 before any field check; the reason says which fields could be it.
    ['sourceSequence 2^60', () => ({ sourceSequence: 2n ** 60n }), /sourceSequence/],
    [
      'note of ~900 kB',
      () => ({
        type: 'NOTE_ATTACHED',
        registered: null,
        note: { noteId: 'n1', subject: 's', text: 'ø'.repeat(450_000) },
      }),
      /text|note/,
    ],
  ];
  for (const [name, overrides, names] of limits)
    add(
      events,
      'kafka value outside limits',
      `events: ${name} (avsc directly)`,
      (c) => c.encodeRaw(events, fullEvent(overrides())),
      names,
    );
  const illegal: [string, () => Record<string, unknown>][] = [
    [
      'decision before registration',
      () => ({ type: 'DECISION_MADE', registered: null, decision: decisionRecord() }),
    ],
    [
      'details changed before registration',
      () => ({ type: 'DETAILS_CHANGED', detailsChanged: fullEvent().registered, registered: null }),
    ],
    ['registered twice', () => ({ methodId: REGISTERED_METHOD })],
    [
      'decision without an assessment',
      () => ({
        methodId: REGISTERED_METHOD,
        type: 'DECISION_MADE',
        registered: null,
        decision: decisionRecord(),
      }),
    ],
    ['type UNKNOWN', () => ({ type: 'UNKNOWN', registered: null })],
  ];
  for (const [name, overrides] of illegal)
    add(
      events,
      'kafka illegal transition',
      `events: ${name}`,
      (c) => c.encodeRaw(events, fullEvent(overrides())),
      /ILLEGAL|REJECTED|DOMAIN|transition|registered|unknown|type/i,
    );
  const slvLimits: [string, Record<string, unknown>, RegExp][] = [
    ['changedAt year 9999', { changedAt: Date.UTC(9999, 0, 1) }, /changedAt/],
    ['text with U+0001', { text: 'a\u0001b' }, /text/],
    ['text over maxLength', { text: 'x'.repeat(20_001) }, /text/],
    ['methodId malformed', { methodId: 'nope' }, /methodId|not a method ID/],
  ];
  for (const [name, overrides, names] of slvLimits)
    add(
      'slv.case-updates.v1',
      'kafka value outside limits',
      `slv: ${name} (avsc directly)`,
      (c) => c.encodeRaw('slv.case-updates.v1', slvUpdate(overrides)),
      names,
    );
  return cases;
}

export function decisionRecord() {
  return {
    forum: 'BESLUTNINGSFORUM',
    outcome: 'INTRODUCED',
    decidedOn: 20_100,
    effectiveFrom: null,
    indication: null,
    conditions: [],
    withoutDocumentation: false,
    temporaryIntroduction: null,
  };
}

export function slvUpdate(overrides: Record<string, unknown> = {}) {
  return {
    changeId: `${randomUUID()}:1`,
    methodId: freshMethodId(),
    slvCaseId: randomUUID(),
    kind: 'TEXT_EDITED',
    changedAt: Date.parse(at),
    slvStatus: null,
    text: 'Ny tekst fra DMP',
    effectiveOn: null,
    reportUrl: null,
    originEventId: null,
    ...overrides,
  };
}

export interface Limits {
  maxBatch: number;
  maxBodyBytes: number;
}

/** Every hostile case, HTTP and Kafka, in the order they run. */
export function hostileCases(limits: Limits): HostileCase[] {
  const registered = REGISTERED_METHOD;
  const all = routes(registered);
  return [
    ...stringFieldCases(),
    ...dateFieldCases(),
    ...identityAndShapeCases(),
    ...bodyCases(limits.maxBatch, limits.maxBodyBytes),
    ...illegalTransitionCases(registered),
    ...authCases(all),
    ...queryCases(all),
    ...bodyDoorCases(all, limits.maxBodyBytes),
    ...hdirStatusCases(registered),
    ...festWebhookCases(CANARY_PORT),
    ...subscriptionCases(CANARY_URL),
    ...jcaCases(CANARY_URL, limits.maxBodyBytes),
    ...deadLetterEntryCases(),
    ...kafkaCases(),
  ];
}

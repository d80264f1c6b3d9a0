/**
 * Nothing one message can do stops the flow, and nothing an operator does to it happens twice: a dead letter
 * is settled once across concurrent requests and hub instances, confidential fields stay out of the ops views
 * unless the token may see them, and one poison record refused by several consumers is shown as one record
 * whose entries each name their consumer and are redriven to that consumer alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { financingAdapter } from '../../adapters/financing/adapter.ts';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { REDACTED } from '../../core/bus/confidential.ts';
import { REDRIVE_FOR_HEADER } from '../../core/bus/deadLetter.ts';
import { headerText } from '../../core/bus/headers.ts';
import { ContractRegistry } from '../../core/bus/registry.ts';
import { readTopicSnapshot } from '../../core/bus/topicSnapshot.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import {
  type DeadLetterDetail,
  type DeadLetterSummary,
  DeadLetterTools,
  type RefusedRecord,
} from '../../core/ops/deadLetters.ts';
import type { TraceEntry } from '../../core/ops/trace.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';
import { eventually, produceMethodEvents, testBus, testKafka } from '../support/kafka.ts';

const AUDIT = 'ops.dead-letter-audit.v1';
const SECRET = 'Leverandøren gir 42 prosent rabatt i 2026';

let h: TestHub;
let confidentialToken: string;
beforeAll(async () => {
  h = await startTestHub(
    ['api', 'projection', 'financing'],
    {},
    { adapters: [financingAdapter], topics: [AUDIT, 'financing.drug-decisions.v1'] },
  );
  confidentialToken = await h.hub.devToken(['metodehub:ops', 'nyemetoder:confidential:read']);
}, 120_000);
afterAll(async () => h?.close());

async function entriesOf(methodId: string, query = '', token?: string): Promise<DeadLetterSummary[]> {
  const r = await h.call(`/ops/api/dead-letters${query}`, token ? { token } : {});
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as { entries: DeadLetterSummary[] }).entries.filter((e) => e.key === methodId);
}

async function waitForEntries(methodId: string, count: number): Promise<DeadLetterSummary[]> {
  let entries: DeadLetterSummary[] = [];
  await eventually(
    async () => {
      entries = await entriesOf(methodId);
      return entries.length === count;
    },
    30_000,
    `${count} dead letter(s) of ${methodId}`,
  );
  return entries;
}

/** A status change for a method the hub never heard of: the projection refuses it, financing does not care. */
const refused = (methodId: string): MethodEvent =>
  methodEvent('STATUS_CHANGED', methodId, {
    from: 'PROPOSAL_RECEIVED',
    to: 'HORIZON_SCANNING',
    reason: 'Metodevarsel utarbeides',
  });

const copiesOf = async (entryId: string) =>
  readTopicSnapshot(testKafka(), h.events, {
    keep: (r) => headerText(r.headers, 'redriven_from') === entryId,
  });
const auditOf = async (entryId: string) =>
  readTopicSnapshot(testKafka(), h.topics[AUDIT]!, { keep: (r) => r.key === entryId });

describe('a dead letter is settled once', () => {
  it('8 concurrent redrives and 8 concurrent discards: one 200, 15 x 409 naming the settlement, one copy, one audit record', async () => {
    const methodId = 'ID2025_931';
    await produceMethodEvents(h.events, [refused(methodId)]);
    const [entry] = await waitForEntries(methodId, 1);
    const url = `/ops/api/dead-letters/${encodeURIComponent(entry!.entryId)}`;

    const answers = await Promise.all([
      ...Array.from({ length: 8 }, () =>
        h.call(`${url}/redrive`, { method: 'POST', json: { note: 'rettet' } }),
      ),
      ...Array.from({ length: 8 }, () =>
        h.call(`${url}/discard`, { method: 'POST', json: { note: 'ikke ønsket' } }),
      ),
    ]);
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.filter((s) => s === 200),
      JSON.stringify(statuses),
    ).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    const winner = answers[statuses.indexOf(200)]!;
    const winnerBody = (await winner.json()) as { action?: string; outcome?: string };
    const action = winnerBody.outcome === 'redriven' ? 'REDRIVEN' : 'DISCARDED';
    for (const loser of answers.filter((a) => a.status === 409)) {
      const body = (await loser.json()) as {
        code: string;
        detail: string;
        settled: { action: string; at: string };
      };
      expect(body.code).toBe('ALREADY_SETTLED');
      expect(body.detail).toContain(action.toLowerCase());
      expect(body.settled.action).toBe(action);
      expect(body.settled.at).toBeTruthy();
    }

    expect(await copiesOf(entry!.entryId)).toHaveLength(action === 'REDRIVEN' ? 1 : 0);
    expect(await auditOf(entry!.entryId)).toHaveLength(1);

    // A later attempt is refused the same way.
    const later = await h.call(`${url}/redrive`, { method: 'POST', json: {} });
    expect(later.status).toBe(409);
    expect(((await later.json()) as { code: string }).code).toBe('ALREADY_SETTLED');
  });

  it('two hub instances settling the same entry at once: Kafka decides, one wins', async () => {
    const methodId = 'ID2025_932';
    await produceMethodEvents(h.events, [refused(methodId)]);
    const [entry] = await waitForEntries(methodId, 1);
    const url = `/ops/api/dead-letters/${encodeURIComponent(entry!.entryId)}`;
    // A second instance: its own Kafka client, producer and in-process state, on the same topics.
    const kafka = testKafka();
    const { producer } = testBus(kafka);
    const registry = new ContractRegistry(
      process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    );
    registry.alias(h.topics[AUDIT]!, AUDIT);
    registry.alias(h.events, 'nyemetoder.method-events.v1');
    const other = new DeadLetterTools({ kafka, registry, producer, topic: (d) => h.topics[d] ?? d });
    try {
      const outcomes = await Promise.allSettled([
        ...Array.from({ length: 4 }, () =>
          h.call(`${url}/redrive`, { method: 'POST', json: {} }).then((r) => {
            if (r.status !== 200) throw new Error(String(r.status));
          }),
        ),
        ...Array.from({ length: 4 }, () => other.redrive(entry!.entryId, 'other-hub')),
        ...Array.from({ length: 4 }, () => other.discard(entry!.entryId, 'other-hub', 'ikke ønsket')),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      expect(
        won,
        JSON.stringify(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))),
      ).toHaveLength(1);
      for (const lost of outcomes.filter((o) => o.status === 'rejected'))
        expect(String((lost as PromiseRejectedResult).reason)).toMatch(/409|ALREADY_SETTLED/);
      const audit = await auditOf(entry!.entryId);
      expect(audit).toHaveLength(1);
      const copies = await copiesOf(entry!.entryId);
      expect(copies.length).toBeLessThanOrEqual(1);
    } finally {
      await producer.disconnect();
    }
  }, 90_000);
});

describe('confidential fields in the ops views', () => {
  const methodId = 'ID2025_933';

  it('show, list and trace redact them for an ops token and show them with the confidential scope', async () => {
    const details = medicineDetails({ supplierConfidentialNote: SECRET });
    const first = methodEvent('METHOD_REGISTERED', methodId, { details: medicineDetails() });
    // Registered twice: the projection refuses the second, which carries the supplier's confidential note.
    const second = methodEvent('METHOD_REGISTERED', methodId, { details });
    await produceMethodEvents(h.events, [first, second]);
    const [entry] = await waitForEntries(methodId, 1);
    const url = `/ops/api/dead-letters/${encodeURIComponent(entry!.entryId)}`;

    const shown = await h.call(url);
    const text = await shown.text();
    expect(text).not.toContain(SECRET);
    const detail = JSON.parse(text) as DeadLetterDetail;
    expect(detail.decoded).toMatchObject({ registered: { details: { supplierConfidentialNote: REDACTED } } });

    const listed = await h.call('/ops/api/dead-letters');
    expect(await listed.text()).not.toContain(SECRET);
    const trace = await h.call(`/ops/trace/${methodId}`);
    const traceText = await trace.text();
    expect(traceText).not.toContain(SECRET);
    const entries = (JSON.parse(traceText) as { entries: TraceEntry[] }).entries;
    expect(JSON.stringify(entries)).toContain(REDACTED);

    const revealed = (await (await h.call(url, { token: confidentialToken })).json()) as DeadLetterDetail;
    expect(revealed.decoded).toMatchObject({ registered: { details: { supplierConfidentialNote: SECRET } } });
    expect(await (await h.call(`/ops/trace/${methodId}`, { token: confidentialToken })).text()).toContain(
      SECRET,
    );
  });

  it('withholds the raw bytes of an undecodable message on a topic with confidential fields', async () => {
    const poison = Buffer.from(`no avro here: ${SECRET}`);
    const { producer } = testBus(testKafka());
    await producer.sendRaw(h.events, [{ key: 'ID2025_934', value: poison, headers: {} }]);
    await producer.disconnect();
    const entries = await waitForEntries('ID2025_934', 2);
    const url = `/ops/api/dead-letters/${encodeURIComponent(entries[0]!.entryId)}`;
    const detail = (await (await h.call(url)).json()) as DeadLetterDetail;
    expect(detail.decoded).toBeNull();
    expect(detail.preview).toBeNull();
    expect(detail.previewWithheld).toMatch(/^CONFIDENTIAL_SCOPE_NEEDED: /);
    expect(JSON.stringify(detail)).not.toContain(Buffer.from(SECRET.slice(0, 12)).toString('hex'));
    const revealed = (await (await h.call(url, { token: confidentialToken })).json()) as DeadLetterDetail;
    expect(revealed.preview).toBe(poison.subarray(0, 64).toString('hex'));
  });
});

describe('one poison record, several consumers', () => {
  it('names the consumer of each entry, groups them by record, filters by consumer and redrives to one', async () => {
    const methodId = 'ID2025_935';
    const { producer } = testBus(testKafka());
    await producer.sendRaw(h.events, [{ key: methodId, value: Buffer.from('not a contract'), headers: {} }]);
    await producer.disconnect();
    const entries = await waitForEntries(methodId, 2);
    expect(entries.map((e) => e.consumer).sort()).toEqual(['financing', 'method-state-projection']);
    expect(new Set(entries.map((e) => e.sourceRecord)).size).toBe(1);
    for (const e of entries)
      expect([...e.refusedBy].sort()).toEqual(['financing', 'method-state-projection']);

    const r = await h.call('/ops/api/dead-letters?consumer=financing');
    expect(r.status).toBe(200);
    const body = (await r.json()) as { entries: DeadLetterSummary[]; records: RefusedRecord[] };
    const mine = body.entries.filter((e) => e.key === methodId);
    expect(mine.map((e) => e.consumer)).toEqual(['financing']);
    expect(mine[0]!.refusedBy).toHaveLength(2);
    const all = (await (await h.call('/ops/api/dead-letters')).json()) as { records: RefusedRecord[] };
    const record = all.records.find((x) => x.key === methodId);
    expect(record?.entries.map((e) => e.consumer).sort()).toEqual(['financing', 'method-state-projection']);

    const financing = entries.find((e) => e.consumer === 'financing')!;
    const detail = (await (
      await h.call(`/ops/api/dead-letters/${encodeURIComponent(financing.entryId)}`)
    ).json()) as DeadLetterDetail;
    expect(detail.consumer).toBe('financing');

    const redrive = await h.call(`/ops/api/dead-letters/${encodeURIComponent(financing.entryId)}/redrive`, {
      method: 'POST',
      json: {},
    });
    expect(redrive.status).toBe(200);
    expect(await redrive.json()).toMatchObject({ outcome: 'redriven', consumer: 'financing' });
    const [copy] = await copiesOf(financing.entryId);
    expect(headerText(copy?.headers, REDRIVE_FOR_HEADER)).toBe('financing');
    // The projection skips a copy meant for financing: no second projection dead letter of this record.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = await entriesOf(methodId);
    expect(after.filter((e) => e.consumer === 'method-state-projection')).toHaveLength(1);
  });
});

/**
 * The operators' dead-letter tools: list what waits on every `<topic>.dlq`, inspect one entry decoded with
 * its reason, redrive it to the consumer that refused it once the cause is fixed, or discard it. Every redrive
 * and discard is an audit record on `ops.dead-letter-audit.v1` (who, when, why), and each entry is settled
 * once: the first redrive or discard wins, every other attempt, concurrent or later, on any hub, is refused.
 */
import type { IHeaders, Kafka } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { dlqTopicOf, topics as declaredTopics, Topics } from '../../contracts/topics.ts';
import type { DeadLetterAction } from '../../contracts/generated/types.ts';
import { confidentialValuesOf, REDACTED, redactConfidential, scrubbed } from '../bus/confidential.ts';
import {
  DLQ_HEADERS,
  type DeadLetterInfo,
  REDRIVE_FOR_HEADER,
  REDRIVEN_FROM_HEADER,
  readDeadLetterInfo,
} from '../bus/deadLetter.ts';
import { headerText, newHeaders, toKafkaHeaders } from '../bus/headers.ts';
import type { ContractProducer } from '../bus/producer.ts';
import type { ContractRegistry } from '../bus/registry.ts';
import { type RawRecord, readTopicSnapshot } from '../bus/topicSnapshot.ts';
import { contractFor } from '../contracts/catalogue.ts';

export const AUDIT_TOPIC = Topics.deadLetterAudit;

export interface Settlement {
  action: string;
  actor: string;
  at: string;
  note: string | null;
  /** `<partition>:<offset>` of the redriven copy on the source topic. */
  redrivenOffset: string | null;
}

export interface DeadLetterSummary extends DeadLetterInfo {
  /** `<dlq topic>:<partition>:<offset>`: how to name this entry to inspect, redrive or discard it. */
  entryId: string;
  deadLetterTopic: string;
  /** The consumer (handler) that refused the message; a redrive goes to it alone. */
  consumer: string;
  /** `<source topic>:<partition>:<offset>` of the refused message: the same for every consumer that refused it. */
  sourceRecord: string;
  /** Every consumer with a dead letter of the same source record, this one included. */
  refusedBy: string[];
  key: string | null;
  /** The CloudEvents id of the original message, when it had one. */
  eventId: string | null;
  bytes: number;
  /** What an operator did with it, if anything. */
  settled: Settlement | null;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  headers: Record<string, string>;
  /** The original message decoded with its topic's contract, when it can be; confidential fields redacted unless the caller may see them. */
  decoded: unknown | null;
  /** Why it could not be decoded, when it could not. */
  undecodable: string | null;
  /** The first bytes, as hex, for bytes that decode to nothing. */
  preview: string | null;
  /** Why the preview is left out, when it is. */
  previewWithheld: string | null;
}

/** One poison record and every consumer that refused it. */
export interface RefusedRecord {
  sourceRecord: string;
  sourceTopic: string;
  key: string | null;
  eventId: string | null;
  entries: { consumer: string; entryId: string; settled: Settlement | null }[];
}

export interface ViewOptions {
  /** The caller's token holds the confidential scope: show confidential fields as they are. */
  revealConfidential?: boolean;
}

export class DeadLetterError extends Error {
  override name = 'DeadLetterError';
  constructor(
    readonly code:
      | 'NO_SUCH_ENTRY'
      | 'INVALID_ENTRY_ID'
      | 'ALREADY_SETTLED'
      | 'UNKNOWN_TOPIC'
      | 'SETTLEMENT_FAILED',
    message: string,
    /** For ALREADY_SETTLED: how, by whom and when. */
    readonly settled?: Settlement,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface DeadLetterToolsOptions {
  kafka: Kafka;
  registry: ContractRegistry;
  producer: ContractProducer;
  /** Physical name of a declared topic (tests rename them). */
  topic?: (declared: string) => string;
  /** How long a hub fenced by another settling the same entry waits to see that settlement. */
  settlementWaitMs?: number;
}

export interface RedriveResult {
  entryId: string;
  outcome: 'redriven';
  /** The consumer the copy is for; other consumers of the source topic skip it. */
  consumer: string;
  /** `<partition>:<offset>` of the copy on the source topic. */
  redrivenOffset: string | null;
}

const ENTRY_ID = /^(.+\.dlq):(\d+):(\d+)$/;

export function parseEntryId(entryId: string): { topic: string; partition: number; offset: string } {
  const match = ENTRY_ID.exec(entryId);
  if (!match) {
    throw new DeadLetterError(
      'INVALID_ENTRY_ID',
      `'${entryId}' is not an entry id; it reads <topic>.dlq:<partition>:<offset>, as the list shows`,
    );
  }
  return { topic: match[1]!, partition: Number(match[2]), offset: match[3]! };
}

const entryIdOf = (r: RawRecord) => `${r.topic}:${r.partition}:${r.offset}`;
const sourceRecordOf = (info: DeadLetterInfo) =>
  `${info.sourceTopic}:${info.sourcePartition}:${info.sourceOffset}`;
const consumerOf = (info: DeadLetterInfo) => info.handler || 'unknown';
const settlementOf = (a: DeadLetterAction): Settlement => ({
  action: a.action,
  actor: a.actor,
  at: a.at,
  note: a.note,
  redrivenOffset: a.redrivenOffset,
});

function alreadySettled(entryId: string, a: DeadLetterAction): DeadLetterError {
  return new DeadLetterError(
    'ALREADY_SETTLED',
    `${entryId} was ${a.action.toLowerCase()} by ${a.actor} at ${a.at}${a.redrivenOffset ? ` (copy at ${a.redrivenOffset})` : ''}; a dead letter is settled once`,
    settlementOf(a),
  );
}

function headerMap(headers: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headerText(headers, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DeadLetterTools {
  private readonly topic: (declared: string) => string;
  private readonly declaredOf: Map<string, string>;
  /** Settlements of this process, in order per entry: a second one waits for the first, then is refused. */
  private readonly settling = new Map<string, Promise<unknown>>();
  /** Settlements this process has seen: final, so they need no second look at Kafka. */
  private readonly settledHere = new Map<string, DeadLetterAction>();

  constructor(private readonly options: DeadLetterToolsOptions) {
    this.topic = options.topic ?? ((declared) => declared);
    this.declaredOf = new Map(declaredTopics.map((t) => [this.topic(t.name), t.name]));
  }

  /** The dead-letter topics of every declared topic, by physical name. */
  deadLetterTopics(): string[] {
    return declaredTopics.filter((t) => t.name !== AUDIT_TOPIC).map((t) => dlqTopicOf(this.topic(t.name)));
  }

  /** What operators did, by entry id: the first settlement of an entry is the one that counts. */
  async audit(): Promise<Map<string, DeadLetterAction>> {
    return this.settlementsIn(await readTopicSnapshot(this.options.kafka, this.topic(AUDIT_TOPIC)));
  }

  private async settlementsIn(records: RawRecord[]): Promise<Map<string, DeadLetterAction>> {
    const actions = new Map<string, DeadLetterAction>();
    for (const r of records) {
      const { value } = await this.options.registry.decode<DeadLetterAction>(
        this.topic(AUDIT_TOPIC),
        r.value,
      );
      if (!actions.has(value.entryId)) actions.set(value.entryId, value);
    }
    return actions;
  }

  /**
   * Every dead letter, oldest first per topic; `pending` leaves out those already redriven or discarded,
   * `consumer` keeps those one consumer refused. `refusedBy` counts every consumer whatever the filter.
   */
  async list(
    filter: { topic?: string; pending?: boolean; consumer?: string } = {},
    view: ViewOptions = {},
  ): Promise<DeadLetterSummary[]> {
    const wanted = filter.topic ? [this.dlqOf(filter.topic)] : this.deadLetterTopics();
    const audit = await this.audit();
    const all: DeadLetterSummary[] = [];
    for (const dlq of wanted) {
      const records = await readTopicSnapshot(this.options.kafka, dlq);
      const refusedBy = new Map<string, string[]>();
      for (const r of records) {
        const info = readDeadLetterInfo(r.headers);
        const list = refusedBy.get(sourceRecordOf(info)) ?? [];
        if (!list.includes(consumerOf(info))) list.push(consumerOf(info));
        refusedBy.set(sourceRecordOf(info), list);
      }
      for (const r of records) {
        const summary = this.summaryOf(r, audit.get(entryIdOf(r)), refusedBy);
        if (filter.pending && summary.settled) continue;
        if (filter.consumer && summary.consumer !== filter.consumer) continue;
        all.push(view.revealConfidential ? summary : scrubbed(summary, await this.secretsOf(r)));
      }
    }
    return all;
  }

  /** The same entries, one per poison record, with every consumer that refused it. */
  static byRecord(entries: DeadLetterSummary[]): RefusedRecord[] {
    const records = new Map<string, RefusedRecord>();
    for (const e of entries) {
      const record = records.get(e.sourceRecord) ?? {
        sourceRecord: e.sourceRecord,
        sourceTopic: e.sourceTopic,
        key: e.key,
        eventId: e.eventId,
        entries: [],
      };
      record.entries.push({ consumer: e.consumer, entryId: e.entryId, settled: e.settled });
      records.set(e.sourceRecord, record);
    }
    return [...records.values()];
  }

  /** One entry, decoded with its source topic's contract where possible. */
  async inspect(entryId: string, view: ViewOptions = {}): Promise<DeadLetterDetail> {
    const record = await this.find(entryId);
    const audit = await this.audit();
    const info = readDeadLetterInfo(record.headers);
    const siblings = await readTopicSnapshot(this.options.kafka, record.topic, {
      keep: (r) => sourceRecordOf(readDeadLetterInfo(r.headers)) === sourceRecordOf(info),
    });
    const refusedBy = new Map([
      [sourceRecordOf(info), [...new Set(siblings.map((r) => consumerOf(readDeadLetterInfo(r.headers))))]],
    ]);
    const summary = this.summaryOf(record, audit.get(entryId), refusedBy);
    const declared = this.declaredOf.get(summary.sourceTopic);
    let decoded: unknown | null = null;
    let undecodable: string | null = null;
    try {
      decoded = (await this.options.registry.decode(summary.sourceTopic, record.value)).value;
    } catch (error) {
      undecodable = (error as Error).message;
    }
    const mayHoldConfidential = !declared || contractFor(declared).confidentialPaths.length > 0;
    const detail: DeadLetterDetail = {
      ...summary,
      headers: headerMap(record.headers),
      decoded,
      undecodable,
      preview: null,
      previewWithheld: null,
    };
    if (decoded === null && record.value) {
      // Undecoded bytes cannot be told apart field by field, so they are only shown to whom may see all.
      if (view.revealConfidential || !mayHoldConfidential)
        detail.preview = record.value.subarray(0, 64).toString('hex');
      else
        detail.previewWithheld = `CONFIDENTIAL_SCOPE_NEEDED: the bytes of ${summary.sourceTopic} may carry confidential fields (${REDACTED}); a token with the confidential scope shows them`;
    }
    if (view.revealConfidential) return detail;
    if (decoded !== null && declared) detail.decoded = redactConfidential(declared, decoded);
    return scrubbed(detail, await this.secretsOf(record));
  }

  /**
   * Puts the original bytes and headers back on the source topic (without the dead-letter headers, with
   * `redriven_from` and `dlq_redrive_for` naming the consumer that refused it), and records the redrive.
   */
  async redrive(entryId: string, actor: string, note?: string): Promise<RedriveResult> {
    const action = await this.settle(entryId, 'REDRIVEN', actor, note ?? null);
    return {
      entryId,
      outcome: 'redriven',
      consumer: action.consumer,
      redrivenOffset: action.entry.redrivenOffset,
    };
  }

  /** Marks an entry as not wanted, with who and why; its bytes stay on the dead-letter topic for the record. */
  async discard(entryId: string, actor: string, note: string): Promise<DeadLetterAction> {
    return (await this.settle(entryId, 'DISCARDED', actor, note)).entry;
  }

  /** One settlement at a time per entry in this process; the Kafka transaction decides across processes. */
  private settle(
    entryId: string,
    action: 'REDRIVEN' | 'DISCARDED',
    actor: string,
    note: string | null,
  ): Promise<{ entry: DeadLetterAction; consumer: string }> {
    const before = this.settling.get(entryId) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(() => this.settleOnce(entryId, action, actor, note));
    this.settling.set(entryId, run);
    void run
      .catch(() => undefined)
      .finally(() => {
        if (this.settling.get(entryId) === run) this.settling.delete(entryId);
      });
    return run;
  }

  /**
   * Settles an entry once across every hub. Why a transactional id per entry rather than a claim record:
   * initialising the transaction fences every other producer of the same entry (another hub's attempt then
   * fails to commit), the resent copy and the audit record commit together or not at all (a crash between
   * them can neither lose the record nor resend twice), and a refused attempt leaves no record behind, so
   * the audit trail holds exactly one record per settled entry. Before committing, the audit partition is
   * read up to our own record: a settlement committed before our fence is there, and then we abort.
   */
  private async settleOnce(
    entryId: string,
    action: 'REDRIVEN' | 'DISCARDED',
    actor: string,
    note: string | null,
  ): Promise<{ entry: DeadLetterAction; consumer: string }> {
    const known = this.settledHere.get(entryId);
    if (known) throw alreadySettled(entryId, known);
    const record = await this.find(entryId);
    const info = readDeadLetterInfo(record.headers);
    const auditTopic = this.topic(AUDIT_TOPIC);
    const producer = this.options.kafka.producer({
      transactionalId: `metodehub.dead-letter-settlement.${entryId}`,
      idempotent: true,
      maxInFlightRequests: 1,
      // Short, so a hub that dies mid-settlement holds the audit partition's readers back briefly.
      transactionTimeout: 15_000,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const transaction = await producer.transaction();
      try {
        let redrivenOffset: string | null = null;
        if (action === 'REDRIVEN') {
          const [copy] = await transaction.send({
            topic: info.sourceTopic,
            acks: -1,
            messages: [{ key: record.key, value: record.value, headers: this.redriveHeaders(record, info) }],
          });
          redrivenOffset = copy ? `${copy.partition}:${copy.baseOffset ?? copy.offset ?? '?'}` : null;
        }
        const entry = this.actionOf(record, info, action, actor, note, redrivenOffset);
        const [written] = await transaction.send({
          topic: auditTopic,
          acks: -1,
          messages: [
            {
              key: entry.entryId,
              value: await this.options.registry.encode(auditTopic, entry),
              headers: toKafkaHeaders(
                newHeaders({
                  source: '/metodehub/ops',
                  type: `no.nyemetoder.ops.DEAD_LETTER_${action}`,
                  subject: entry.entryId,
                }),
              ),
            },
          ],
        });
        if (!written) throw new Error(`no answer from the broker for ${auditTopic}`);
        const earlier = await this.settlementsIn(
          await readTopicSnapshot(this.options.kafka, auditTopic, {
            until: new Map([[written.partition, BigInt(written.baseOffset ?? written.offset ?? '0')]]),
            keep: (r) => r.key === entryId,
          }),
        );
        const first = earlier.get(entryId);
        if (first) {
          await transaction.abort();
          this.settledHere.set(entryId, first);
          throw alreadySettled(entryId, first);
        }
        await transaction.commit();
        this.settledHere.set(entryId, entry);
        return { entry, consumer: consumerOf(info) };
      } catch (error) {
        if (transaction.isActive()) await transaction.abort().catch(() => undefined);
        if (error instanceof DeadLetterError) throw error;
        // Most likely fenced by another hub settling the same entry: its settlement tells the caller why.
        const other = await this.awaitSettlement(entryId);
        if (other) throw alreadySettled(entryId, other);
        throw new DeadLetterError(
          'SETTLEMENT_FAILED',
          `${entryId} was not settled, nothing was sent (${(error as Error).message}); try again`,
        );
      }
    } finally {
      await producer.disconnect();
    }
  }

  private async awaitSettlement(entryId: string): Promise<DeadLetterAction | undefined> {
    const deadline = Date.now() + (this.options.settlementWaitMs ?? 20_000);
    for (;;) {
      const found = (
        await this.settlementsIn(
          await readTopicSnapshot(this.options.kafka, this.topic(AUDIT_TOPIC), {
            keep: (r) => r.key === entryId,
          }),
        )
      ).get(entryId);
      if (found || Date.now() > deadline) {
        if (found) this.settledHere.set(entryId, found);
        return found;
      }
      await sleep(250);
    }
  }

  private redriveHeaders(record: RawRecord, info: DeadLetterInfo): Record<string, string | Buffer> {
    const dlqHeaders = new Set<string>(Object.values(DLQ_HEADERS));
    const headers: Record<string, string | Buffer> = {};
    for (const [name, value] of Object.entries(record.headers)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (!dlqHeaders.has(name) && first !== undefined) headers[name] = first;
    }
    headers[REDRIVEN_FROM_HEADER] = entryIdOf(record);
    // Dead letters written before consumers were named go back to every consumer.
    if (info.handler) headers[REDRIVE_FOR_HEADER] = info.handler;
    else delete headers[REDRIVE_FOR_HEADER];
    return headers;
  }

  private actionOf(
    record: RawRecord,
    info: DeadLetterInfo,
    action: 'REDRIVEN' | 'DISCARDED',
    actor: string,
    note: string | null,
    redrivenOffset: string | null,
  ): DeadLetterAction {
    return {
      entryId: entryIdOf(record),
      deadLetterTopic: record.topic,
      partition: record.partition,
      offset: record.offset,
      action,
      actor,
      note,
      at: new Date().toISOString(),
      sourceTopic: info.sourceTopic,
      redrivenOffset,
      errorClass: info.errorClass,
      reason: info.reason,
    };
  }

  /** The confidential values the original message carries, to scrub from reasons and headers. */
  private async secretsOf(record: RawRecord): Promise<string[]> {
    const info = readDeadLetterInfo(record.headers);
    const declared = this.declaredOf.get(info.sourceTopic);
    if (!declared || contractFor(declared).confidentialPaths.length === 0) return [];
    try {
      const { value } = await this.options.registry.decode(info.sourceTopic, record.value);
      return confidentialValuesOf(declared, value);
    } catch {
      return [];
    }
  }

  private dlqOf(topic: string): string {
    const dlq = topic.endsWith('.dlq') ? topic : dlqTopicOf(topic);
    if (!this.deadLetterTopics().includes(dlq)) {
      throw new DeadLetterError(
        'UNKNOWN_TOPIC',
        `${topic} has no dead-letter topic; choose from ${this.deadLetterTopics().join(', ')}`,
      );
    }
    return dlq;
  }

  private async find(entryId: string): Promise<RawRecord> {
    const { topic, partition, offset } = parseEntryId(entryId);
    this.dlqOf(topic);
    const [record] = await readTopicSnapshot(this.options.kafka, topic, {
      keep: (r) => r.partition === partition && r.offset === offset,
    });
    if (!record) throw new DeadLetterError('NO_SUCH_ENTRY', `${entryId} is not on ${topic}`);
    return record;
  }

  private summaryOf(
    record: RawRecord,
    action: DeadLetterAction | undefined,
    refusedBy: Map<string, string[]>,
  ): DeadLetterSummary {
    const info = readDeadLetterInfo(record.headers);
    return {
      ...info,
      entryId: entryIdOf(record),
      deadLetterTopic: record.topic,
      consumer: consumerOf(info),
      sourceRecord: sourceRecordOf(info),
      refusedBy: refusedBy.get(sourceRecordOf(info)) ?? [consumerOf(info)],
      key: record.key,
      eventId: headerText(record.headers, 'ce_id') ?? null,
      bytes: record.value?.length ?? 0,
      settled: action ? settlementOf(action) : null,
    };
  }
}

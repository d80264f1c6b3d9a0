/**
 * The operators' dead-letter tools: list what waits on every `<topic>.dlq`, inspect one entry decoded with
 * its reason, redrive it to its source topic once the cause is fixed, or discard it. Every redrive and discard
 * is an audit record on `ops.dead-letter-audit.v1` (who, when, why), and that record is what makes a redrive
 * idempotent: an entry redriven or discarded once is not redriven again.
 */
import type { IHeaders, Kafka } from 'kafkajs';
import { dlqTopicOf, topics as declaredTopics } from '../../contracts/topics.ts';
import type { DeadLetterAction } from '../../contracts/generated/types.ts';
import { DLQ_HEADERS, readDeadLetterInfo, type DeadLetterInfo } from '../bus/deadLetter.ts';
import { headerText, newHeaders } from '../bus/headers.ts';
import type { ContractProducer } from '../bus/producer.ts';
import type { ContractRegistry } from '../bus/registry.ts';
import { type RawRecord, readTopicSnapshot } from '../bus/topicSnapshot.ts';

export const AUDIT_TOPIC = 'ops.dead-letter-audit.v1';

export interface DeadLetterSummary extends DeadLetterInfo {
  /** `<dlq topic>:<partition>:<offset>`: how to name this entry to inspect, redrive or discard it. */
  entryId: string;
  deadLetterTopic: string;
  key: string | null;
  /** The CloudEvents id of the original message, when it had one. */
  eventId: string | null;
  bytes: number;
  /** What an operator did with it, if anything. */
  settled: { action: string; actor: string; at: string; note: string | null } | null;
}

export interface DeadLetterDetail extends DeadLetterSummary {
  headers: Record<string, string>;
  /** The original message decoded with its topic's contract, when it can be. */
  decoded: unknown | null;
  /** Why it could not be decoded, when it could not. */
  undecodable: string | null;
  /** The first bytes, as hex, for bytes that decode to nothing. */
  preview: string | null;
}

export class DeadLetterError extends Error {
  override name = 'DeadLetterError';
  constructor(
    readonly code: 'NO_SUCH_ENTRY' | 'INVALID_ENTRY_ID' | 'ALREADY_SETTLED' | 'UNKNOWN_TOPIC',
    message: string,
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
}

export interface RedriveResult {
  entryId: string;
  outcome: 'redriven' | 'already-settled';
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

function headerMap(headers: IHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const value = headerText(headers, name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export class DeadLetterTools {
  private readonly topic: (declared: string) => string;

  constructor(private readonly options: DeadLetterToolsOptions) {
    this.topic = options.topic ?? ((declared) => declared);
  }

  /** The dead-letter topics of every declared topic, by physical name. */
  deadLetterTopics(): string[] {
    return declaredTopics.filter((t) => t.name !== AUDIT_TOPIC).map((t) => dlqTopicOf(this.topic(t.name)));
  }

  /** Everything operators did, by entry id (the latest action wins). */
  async audit(): Promise<Map<string, DeadLetterAction>> {
    const records = await readTopicSnapshot(this.options.kafka, this.topic(AUDIT_TOPIC));
    const actions = new Map<string, DeadLetterAction>();
    for (const r of records) {
      const { value } = await this.options.registry.decode<DeadLetterAction>(
        this.topic(AUDIT_TOPIC),
        r.value,
      );
      actions.set(value.entryId, value);
    }
    return actions;
  }

  /** Every dead letter, oldest first per topic; `pending` leaves out those already redriven or discarded. */
  async list(filter: { topic?: string; pending?: boolean } = {}): Promise<DeadLetterSummary[]> {
    const wanted = filter.topic ? [this.dlqOf(filter.topic)] : this.deadLetterTopics();
    const audit = await this.audit();
    const all: DeadLetterSummary[] = [];
    for (const dlq of wanted) {
      for (const r of await readTopicSnapshot(this.options.kafka, dlq)) {
        const summary = this.summaryOf(r, audit.get(entryIdOf(r)));
        if (!filter.pending || !summary.settled) all.push(summary);
      }
    }
    return all;
  }

  /** One entry, decoded with its source topic's contract where possible. */
  async inspect(entryId: string): Promise<DeadLetterDetail> {
    const record = await this.find(entryId);
    const audit = await this.audit();
    const summary = this.summaryOf(record, audit.get(entryId));
    let decoded: unknown | null = null;
    let undecodable: string | null = null;
    try {
      decoded = (await this.options.registry.decode(summary.sourceTopic, record.value)).value;
    } catch (error) {
      undecodable = (error as Error).message;
    }
    return {
      ...summary,
      headers: headerMap(record.headers),
      decoded,
      undecodable,
      preview: decoded === null && record.value ? record.value.subarray(0, 64).toString('hex') : null,
    };
  }

  /**
   * Puts the original bytes and headers back on the source topic (without the dead-letter headers, with
   * `redriven_from`), then records the redrive. An entry already redriven or discarded is left alone.
   */
  async redrive(entryId: string, actor: string, note?: string): Promise<RedriveResult> {
    const record = await this.find(entryId);
    const previous = (await this.audit()).get(entryId);
    if (previous) return { entryId, outcome: 'already-settled', redrivenOffset: previous.redrivenOffset };
    const info = readDeadLetterInfo(record.headers);
    const dlqHeaders = new Set<string>(Object.values(DLQ_HEADERS));
    const headers: Record<string, string | Buffer> = {};
    for (const [name, value] of Object.entries(record.headers)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (!dlqHeaders.has(name) && first !== undefined) headers[name] = first;
    }
    headers.redriven_from = entryId;
    const [meta] = await this.options.producer.sendRaw(info.sourceTopic, [
      { key: record.key, value: record.value, headers },
    ]);
    const redrivenOffset = meta ? `${meta.partition}:${meta.baseOffset ?? meta.offset ?? '?'}` : null;
    await this.record(record, info, 'REDRIVEN', actor, note ?? null, redrivenOffset);
    return { entryId, outcome: 'redriven', redrivenOffset };
  }

  /** Marks an entry as not wanted, with who and why; its bytes stay on the dead-letter topic for the record. */
  async discard(entryId: string, actor: string, note: string): Promise<DeadLetterAction> {
    const record = await this.find(entryId);
    const previous = (await this.audit()).get(entryId);
    if (previous) {
      throw new DeadLetterError(
        'ALREADY_SETTLED',
        `${entryId} was ${previous.action.toLowerCase()} by ${previous.actor} at ${previous.at}`,
      );
    }
    return this.record(record, readDeadLetterInfo(record.headers), 'DISCARDED', actor, note, null);
  }

  private async record(
    record: RawRecord,
    info: DeadLetterInfo,
    action: 'REDRIVEN' | 'DISCARDED',
    actor: string,
    note: string | null,
    redrivenOffset: string | null,
  ): Promise<DeadLetterAction> {
    const entry: DeadLetterAction = {
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
    const headers = newHeaders({
      source: '/metodehub/ops',
      type: `no.nyemetoder.ops.DEAD_LETTER_${action}`,
      subject: entry.entryId,
    });
    await this.options.producer.send(AUDIT_TOPIC, [{ key: entry.entryId, value: entry, headers }], {
      to: this.topic(AUDIT_TOPIC),
    });
    return entry;
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

  private summaryOf(record: RawRecord, action: DeadLetterAction | undefined): DeadLetterSummary {
    return {
      ...readDeadLetterInfo(record.headers),
      entryId: entryIdOf(record),
      deadLetterTopic: record.topic,
      key: record.key,
      eventId: headerText(record.headers, 'ce_id') ?? null,
      bytes: record.value?.length ?? 0,
      settled: action
        ? { action: action.action, actor: action.actor, at: action.at, note: action.note }
        : null,
    };
  }
}

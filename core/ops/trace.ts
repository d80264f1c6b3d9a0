/**
 * The per-method trace: every message about one method on every topic (dead letters and the audit trail
 * included), in time order, each with the latency from the case event that caused it: the method event with
 * the same correlation id, or else the latest method event before it.
 */
import type { Kafka } from 'kafkajs';
import { dlqTopicOf, topics as declaredTopics, Topics } from '../../contracts/topics.ts';
import { confidentialValuesOf, redactConfidential, scrubbed } from '../bus/confidential.ts';
import { readDeadLetterInfo } from '../bus/deadLetter.ts';
import { headerText } from '../bus/headers.ts';
import type { ContractRegistry } from '../bus/registry.ts';
import { type RawRecord, readTopicSnapshot } from '../bus/topicSnapshot.ts';

const EVENTS = Topics.methodEvents;

export interface TraceEntry {
  /** When the broker took it (UTC). */
  at: string;
  /** The declared topic (or `<declared>.dlq`). */
  topic: string;
  partition: number;
  offset: string;
  /** The CloudEvents type, or the event type of a method event. */
  type: string;
  source: string | null;
  eventId: string | null;
  correlationId: string | null;
  /** Milliseconds from the causing method event to this message; null for method events themselves. */
  latencyMs: number | null;
  /** The method event this latency is measured from. */
  causedBy: string | null;
  /** For dead letters: why. */
  deadLetter: { errorClass: string; reason: string } | null;
  /** The message, decoded, confidential fields redacted unless asked; null when it could not be decoded. */
  value: unknown | null;
}

export interface TraceOptions {
  kafka: Kafka;
  registry: ContractRegistry;
  /** Physical name of a declared topic. */
  topic?: (declared: string) => string;
  /** The caller holds the confidential scope: confidential fields are shown as they are. */
  revealConfidential?: boolean;
}

/** Whether a decoded value is about `methodId`: by its methodId field or its list of linked methods. */
function mentions(value: unknown, methodId: string): boolean {
  if (!value || typeof value !== 'object') return false;
  const v = value as { methodId?: unknown; linkedMethodIds?: unknown; methodIds?: unknown };
  if (v.methodId === methodId) return true;
  for (const list of [v.linkedMethodIds, v.methodIds])
    if (Array.isArray(list) && list.includes(methodId)) return true;
  return false;
}

export async function traceMethod(methodId: string, options: TraceOptions): Promise<TraceEntry[]> {
  const physical = options.topic ?? ((declared: string) => declared);
  const entries: TraceEntry[] = [];
  // Confidential values seen in this method's messages: scrubbed from every text of the trace (reasons too).
  const secrets = new Set<string>();
  // Dead letters of this method, by entry id, so the audit records of what operators did with them join the trace.
  const deadLetterIds = new Set<string>();
  const auditTopics = declaredTopics.filter((t) => t.key.startsWith('entryId'));
  for (const declared of [...declaredTopics.filter((t) => !auditTopics.includes(t)), ...auditTopics]) {
    for (const [name, isDlq] of [
      [declared.name, false],
      [dlqTopicOf(declared.name), true],
    ] as const) {
      const topic = isDlq ? dlqTopicOf(physical(declared.name)) : physical(declared.name);
      const keyedByMethod = declared.key.startsWith('methodId');
      const isAudit = auditTopics.includes(declared);
      const records = await readTopicSnapshot(options.kafka, topic, {
        // Topics keyed by method are filtered on the key; the others are decoded and looked into below.
        keep: (r) => !keyedByMethod || r.key === methodId,
      });
      for (const record of records) {
        const entry = await entryOf(record, name, declared.name, isDlq, options.registry, physical);
        if (!entry) continue;
        const raw = entry.value;
        const ours = isAudit
          ? deadLetterIds.has(String((entry.value as { entryId?: unknown } | null)?.entryId))
          : keyedByMethod || mentions(entry.value, methodId);
        if (!ours) continue;
        if (raw !== null && !options.revealConfidential) {
          for (const secret of confidentialValuesOf(declared.name, raw)) secrets.add(secret);
          entry.value = redactConfidential(declared.name, raw);
        }
        entries.push(entry);
        if (isDlq) deadLetterIds.add(`${record.topic}:${record.partition}:${record.offset}`);
      }
    }
  }
  entries.sort((a, b) => a.at.localeCompare(b.at) || a.topic.localeCompare(b.topic));
  return withLatencies(options.revealConfidential ? entries : scrubbed(entries, [...secrets]));
}

async function entryOf(
  record: RawRecord,
  name: string,
  declared: string,
  isDlq: boolean,
  registry: ContractRegistry,
  physical: (declared: string) => string,
): Promise<TraceEntry | null> {
  let value: unknown | null = null;
  try {
    value = (await registry.decode(physical(declared), record.value)).value;
  } catch {
    value = null;
  }
  const info = isDlq ? readDeadLetterInfo(record.headers) : null;
  const eventType = declared === EVENTS && value ? (value as { type?: string }).type : undefined;
  return {
    at: new Date(Number(record.timestamp)).toISOString(),
    topic: name,
    partition: record.partition,
    offset: record.offset,
    type: eventType ?? headerText(record.headers, 'ce_type') ?? 'unknown',
    source: headerText(record.headers, 'ce_source') ?? null,
    eventId: headerText(record.headers, 'ce_id') ?? null,
    correlationId: headerText(record.headers, 'correlation_id') ?? null,
    latencyMs: null,
    causedBy: null,
    deadLetter: info ? { errorClass: info.errorClass, reason: info.reason } : null,
    value,
  };
}

function withLatencies(entries: TraceEntry[]): TraceEntry[] {
  const events = entries.filter((e) => e.topic === EVENTS);
  const byCorrelation = new Map(events.filter((e) => e.correlationId).map((e) => [e.correlationId!, e]));
  for (const entry of entries) {
    if (entry.topic === EVENTS) continue;
    const cause =
      (entry.correlationId ? byCorrelation.get(entry.correlationId) : undefined) ??
      events.filter((e) => e.at <= entry.at).at(-1);
    if (!cause) continue;
    entry.causedBy = cause.eventId;
    entry.latencyMs = Date.parse(entry.at) - Date.parse(cause.at);
  }
  return entries;
}

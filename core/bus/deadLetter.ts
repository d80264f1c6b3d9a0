/**
 * Dead letters: the original key, bytes and headers, plus why and where from, on `<topic>.dlq`.
 * The same layout Kafka Connect uses, so common tooling can read it.
 */
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { dlqTopicOf } from '../../contracts/topics.ts';
import { createTopicsWithLeaders } from './createTopics.ts';
import { headerText } from './headers.ts';

export interface DeadLetterContext {
  sourceTopic: string;
  partition: number;
  offset: string;
  errorClass: string;
  reason: string;
  handler: string;
}

export const DLQ_HEADERS = {
  errorClass: 'dlq_error_class',
  reason: 'dlq_reason',
  sourceTopic: 'dlq_source_topic',
  sourcePartition: 'dlq_source_partition',
  sourceOffset: 'dlq_source_offset',
  time: 'dlq_time',
  handler: 'dlq_handler',
} as const;

/**
 * On a redriven copy: the one consumer (its handler name, as in `dlq_handler`) that refused the original.
 * Every other consumer of the source topic handled the original already and skips the copy.
 */
export const REDRIVE_FOR_HEADER = 'dlq_redrive_for';
/** On a redriven copy: the dead-letter entry it was redriven from. */
export const REDRIVEN_FROM_HEADER = 'redriven_from';

/** Whether the consumer named `handler` should handle this message: false for a copy redriven to another one. */
export function isForConsumer(headers: IHeaders | undefined, handler: string): boolean {
  const target = headerText(headers, REDRIVE_FOR_HEADER);
  return target === undefined || target === '' || target === handler;
}

export function deadLetterOf(message: KafkaMessage, context: DeadLetterContext) {
  const headers: Record<string, string | Buffer> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first;
  }
  Object.assign(headers, {
    [DLQ_HEADERS.errorClass]: context.errorClass,
    [DLQ_HEADERS.reason]: context.reason,
    [DLQ_HEADERS.sourceTopic]: context.sourceTopic,
    [DLQ_HEADERS.sourcePartition]: String(context.partition),
    [DLQ_HEADERS.sourceOffset]: context.offset,
    [DLQ_HEADERS.time]: new Date().toISOString(),
    [DLQ_HEADERS.handler]: context.handler,
  });
  return { key: message.key, value: message.value, headers };
}

export interface DeadLetterInfo {
  errorClass: string;
  reason: string;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  time: string;
  handler: string;
}

export function readDeadLetterInfo(headers: IHeaders | undefined): DeadLetterInfo {
  return {
    errorClass: headerText(headers, DLQ_HEADERS.errorClass) ?? 'UNKNOWN',
    reason: headerText(headers, DLQ_HEADERS.reason) ?? '',
    sourceTopic: headerText(headers, DLQ_HEADERS.sourceTopic) ?? '',
    sourcePartition: Number(headerText(headers, DLQ_HEADERS.sourcePartition) ?? -1),
    sourceOffset: headerText(headers, DLQ_HEADERS.sourceOffset) ?? '',
    time: headerText(headers, DLQ_HEADERS.time) ?? '',
    handler: headerText(headers, DLQ_HEADERS.handler) ?? '',
  };
}

/** Creates the dead-letter topic of each source topic that lacks one (topics:apply makes the declared ones). */
export async function ensureDeadLetterTopics(kafka: Kafka, sourceTopics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = sourceTopics.map(dlqTopicOf).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await createTopicsWithLeaders(
        admin,
        missing.map((topic) => ({ topic, numPartitions: 1 })),
      );
    }
  } finally {
    await admin.disconnect();
  }
}

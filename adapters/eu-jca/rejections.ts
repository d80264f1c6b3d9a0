/**
 * Rejected documents are kept for inspection, never dropped: the original bytes go to
 * `eu.jca-notifications.v1.dlq` with the reason in the dead-letter headers (the same layout as every other
 * dead letter), and the latest ones are listed at GET /jca/v1/rejected. A body too large to read is
 * recorded without its bytes.
 */
import { randomUUID } from 'node:crypto';
import { DLQ_HEADERS } from '../../core/bus/deadLetter.ts';
import type { ContractProducer } from '../../core/bus/producer.ts';
import type { ProblemItem } from '../../core/http/problem.ts';
import type { Logger } from '../../core/log/logger.ts';

export interface RejectedDocument {
  rejectionId: string;
  receivedAt: string;
  status: number;
  code: string;
  detail: string;
  errors: ProblemItem[];
  contentType: string | null;
  bytes: number;
  /** Who posted it (the token's subject). */
  sender: string | null;
  procedureId: string | null;
  /** The first 2 000 characters, for a quick look; the whole body is on the dead-letter topic. */
  excerpt: string | null;
  /** Whether the body is on the dead-letter topic (false when it was too large to read or Kafka failed). */
  kept: boolean;
}

export interface Rejection {
  status: number;
  code: string;
  detail: string;
  errors?: ProblemItem[];
  contentType?: string | null;
  body: string | null;
  bytes?: number;
  sender?: string | null;
}

const PROCEDURE_ID = /"procedureId"\s*:\s*"([^"]{1,64})"|<(?:\w+:)?procedureId>([^<]{1,64})</;
const EXCERPT = 2000;

export class RejectedDocuments {
  private readonly recent: RejectedDocument[] = [];

  constructor(
    private readonly producer: ContractProducer,
    private readonly dlqTopic: string,
    private readonly keep: number,
    private readonly log: Logger,
  ) {}

  /** Keeps a rejected document: on the dead-letter topic, and in the recent list. */
  async keepRejected(rejection: Rejection): Promise<RejectedDocument> {
    const match = rejection.body ? PROCEDURE_ID.exec(rejection.body) : null;
    const entry: RejectedDocument = {
      rejectionId: randomUUID(),
      receivedAt: new Date().toISOString(),
      status: rejection.status,
      code: rejection.code,
      detail: rejection.detail,
      errors: rejection.errors ?? [],
      contentType: rejection.contentType ?? null,
      bytes: rejection.bytes ?? (rejection.body ? Buffer.byteLength(rejection.body) : 0),
      sender: rejection.sender ?? null,
      procedureId: match?.[1] ?? match?.[2] ?? null,
      excerpt: rejection.body ? rejection.body.slice(0, EXCERPT) : null,
      kept: false,
    };
    try {
      await this.producer.sendRaw(this.dlqTopic, [
        {
          key: entry.procedureId,
          value: rejection.body === null ? null : Buffer.from(rejection.body, 'utf8'),
          headers: {
            'content-type': entry.contentType ?? 'application/octet-stream',
            rejection_id: entry.rejectionId,
            [DLQ_HEADERS.errorClass]: 'REJECTED_AT_INTAKE',
            [DLQ_HEADERS.reason]: `${entry.status} ${entry.code}: ${entry.detail}`.slice(0, 4000),
            [DLQ_HEADERS.sourceTopic]: 'POST /jca/v1/intake',
            [DLQ_HEADERS.sourcePartition]: '-1',
            [DLQ_HEADERS.sourceOffset]: '-1',
            [DLQ_HEADERS.time]: entry.receivedAt,
            [DLQ_HEADERS.handler]: 'eu-jca-intake',
          },
        },
      ]);
      entry.kept = rejection.body !== null;
    } catch (error) {
      this.log.error(
        { err: (error as Error).message, rejectionId: entry.rejectionId },
        'could not keep a rejected JCA document on the dead-letter topic',
      );
    }
    this.recent.unshift(entry);
    if (this.recent.length > this.keep) this.recent.length = this.keep;
    return entry;
  }

  list(): RejectedDocument[] {
    return [...this.recent];
  }
}

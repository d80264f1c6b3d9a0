/**
 * Nye metoder to SLV: consumes method events in its own consumer group and writes what needs work at SLV
 * to its case platform. The offset is committed only after SLV accepted the write, and the runner retries a
 * failed write in place, so while SLV is down its events wait in Kafka (the backlog) and drain in order per
 * method (one method, one partition) when it returns.
 */
import type { Kafka } from 'kafkajs';
import type { MethodEvent } from '../../contracts/generated/types.ts';
import { PermanentError, TransientError } from '../../core/bus/errors.ts';
import type { ContractProducer } from '../../core/bus/producer.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import { type BusPolicy, ConsumerRunner, type Delivery } from '../../core/bus/runner.ts';
import type { MethodStore } from '../../core/lifecycle/methodStore.ts';
import { type SlvCase, type SlvClient, SlvRejected } from './client.ts';
import type { ExchangeLog } from './exchanges.ts';
import {
  eventIdOfChange,
  type IntendedWrite,
  intendedWrite,
  mergeOntoCurrent,
  SLV_SOURCE,
  type SlvWork,
} from './mapping.ts';

/** What the outbound side needs of the inbound side's known cases (SlvChangePoller). */
export interface KnownCases {
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  observe(row: SlvCase): Promise<void>;
  recordOwnWrite(row: SlvCase, eventId: string): Promise<void>;
  intendWrite(intended: IntendedWrite): Promise<void>;
  writing<T>(write: () => Promise<T>): Promise<T>;
}

/** Re-read, merge and write again at most this many times when SLV keeps answering 412. */
const MAX_CONFLICTS = 20;

export interface OutboundOptions {
  eventsTopic: string;
  groupId: string;
  /** The bus's policy; its transient budget is how long one write is retried (SLV down, 401 after renewal). */
  bus: BusPolicy;
  /** DMP's own retry waits (SLV_RETRY_*), in place of the bus's. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export class SlvOutbound {
  readonly runner: ConsumerRunner<MethodEvent>;
  /** Writes refused by SLV with 412 and resolved by re-read and merge. */
  conflictsResolved = 0;

  constructor(
    kafka: Kafka,
    registry: ContractRegistry,
    producer: ContractProducer,
    private readonly client: SlvClient,
    private readonly store: MethodStore,
    private readonly exchanges: ExchangeLog,
    private readonly cases: KnownCases,
    options: OutboundOptions,
  ) {
    this.runner = new ConsumerRunner<MethodEvent>(kafka, registry, producer, {
      name: 'slv-outbound',
      groupId: options.groupId,
      topics: [options.eventsTopic],
      bus: options.bus,
      retryBaseMs: options.retryBaseMs,
      retryMaxMs: options.retryMaxMs,
      handle: (delivery) => this.handle(delivery),
    });
  }

  start(): Promise<void> {
    return this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private async handle({ value: event, log }: Delivery<MethodEvent>): Promise<void> {
    if (event.source === SLV_SOURCE) return; // it came from SLV: never sent back
    // The work is worked out when the adapter's own read of the log folds the event.
    if (!(await this.store.whenSettled([event.eventId], 30_000))) {
      throw new TransientError(`the SLV adapter's read model has not yet folded event ${event.eventId}`);
    }
    if (this.store.settlementOf(event.eventId)?.outcome !== 'applied') return; // refused by the state machine
    const work = this.exchanges.workFor(event.eventId);
    if (!work) return;
    try {
      const outcome = work.kind === 'case' ? await this.writeCase(work) : await this.attachNote(work);
      this.exchanges.markDelivered(event.eventId, outcome);
      log.info({ methodId: event.methodId, type: event.type, outcome }, 'written to DMP (formerly SLV)');
    } catch (error) {
      const permanent =
        error instanceof SlvRejected
          ? new PermanentError('PARTNER_REJECTED', error.message)
          : error instanceof PermanentError
            ? error
            : undefined;
      if (!permanent) throw error;
      this.exchanges.markDeadLettered(event.eventId, permanent.message);
      throw permanent;
    }
  }

  /**
   * Upsert by alternate key, conditional on the version read; on 412 re-read, merge and try again. Every
   * read first hands an SLV edit not yet seen to the inbound side (emitted before our write hides it), and
   * the version our write produced is recorded as ours, so its echo is known by version, not by a marker.
   */
  private writeCase(work: Extract<SlvWork, { kind: 'case' }>): Promise<string> {
    return this.cases.exclusive(async () => {
      for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
        const current = await this.client.caseOf(work.methodId);
        if (current?.nm_sourceeventid === work.eventId) {
          // Our write landed before (its answer lost, or a crash before it was recorded); what SLV changed since is its edit.
          await this.cases.recordOwnWrite(current, work.eventId);
          return 'already written';
        }
        if (current) await this.cases.observe(current);
        if (!current && !work.createIfMissing) return 'no case at SLV; nothing to update';
        const changes = mergeOntoCurrent(work.changes, current);
        await this.cases.intendWrite(intendedWrite(work.methodId, work.eventId, current, changes));
        const written = await this.cases.writing(() =>
          this.client.upsertCase(work.methodId, changes, current?.['@odata.etag']),
        );
        if (written) {
          await this.cases.recordOwnWrite(written, work.eventId);
          if (conflicts > 0) this.conflictsResolved++;
          return conflicts > 0 ? `written after ${conflicts} conflict(s)` : current ? 'updated' : 'created';
        }
      }
      throw new TransientError(
        `SLV answered 412 ${MAX_CONFLICTS} times in a row for ${work.methodId}; trying again later`,
      );
    });
  }

  private async attachNote(work: Extract<SlvWork, { kind: 'note' }>): Promise<string> {
    const slvCase = await this.client.caseOf(work.methodId);
    if (!slvCase) {
      throw new PermanentError(
        'PARTNER_REJECTED',
        `NO_SLV_CASE: SLV has no case for ${work.methodId}, so note ${work.eventId} cannot be attached; ask SLV whether the case was deleted, then redrive`,
      );
    }
    const marker = work.subject.slice(0, work.subject.indexOf(']') + 1);
    const notes = await this.client.notesOf(slvCase.nm_methodcaseid);
    if (notes.some((n) => n.subject?.startsWith(marker))) return 'note already attached';
    const attached = await this.client.addNote(
      slvCase.nm_methodcaseid,
      eventIdOfChange(`note:${work.eventId}`),
      work.subject,
      work.text,
    );
    return attached ? 'note attached' : 'note already attached';
  }
}

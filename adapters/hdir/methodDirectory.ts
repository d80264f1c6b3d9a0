/**
 * What the hub knows of every method: the compacted `nyemetoder.method-state.v1`, followed from the start.
 * The adapter uses it to tell an unknown method from a known one and for the documentation basis (the
 * assessment, the public and the confidential price note). It holds confidential fields: they are only
 * shown to callers with the confidential scope.
 */
import type { Kafka } from 'kafkajs';
import type { MethodEvent, MethodState } from '../../contracts/generated/types.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { describeErrors } from '../../core/lifecycle/errors.ts';
import { verdictOn } from '../../core/lifecycle/ledger.ts';

export type EventFate = { fate: 'applied' } | { fate: 'refused'; reason: string } | { fate: 'pending' };

export class MethodDirectory {
  private readonly states = new Map<string, MethodState>();
  private readonly follower: TopicFollower<MethodState>;

  constructor(kafka: Kafka, registry: ContractRegistry, stateTopic: string) {
    this.follower = new TopicFollower<MethodState>(kafka, registry, {
      name: 'hdir-method-directory',
      topic: stateTopic,
      onMessage: (state) => this.states.set(state.methodId, state),
    });
  }

  async start(timeoutMs = 120_000): Promise<void> {
    await this.follower.start();
    if (!(await this.follower.waitUntilCaughtUp(timeoutMs)))
      throw new Error(`could not read the method-state topic to its end in ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  get(methodId: string): MethodState | undefined {
    return this.states.get(methodId);
  }

  /**
   * Whether the method-state projection took this event: applied (the state has its id), refused (the
   * state machine would not take it on the state as it stands: the projection dead-lettered it), or still
   * pending after `timeoutMs` (the projection is behind, or not running).
   */
  async fateOf(event: MethodEvent, timeoutMs: number): Promise<EventFate> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const state = this.states.get(event.methodId);
      if (state?.recentEventIds.includes(event.eventId)) return { fate: 'applied' };
      const verdict = verdictOn(state, event);
      if (verdict.outcome === 'rejected') return { fate: 'refused', reason: describeErrors(verdict.errors) };
      if (Date.now() > until) return { fate: 'pending' };
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  has(methodId: string): boolean {
    return this.states.has(methodId);
  }

  get size(): number {
    return this.states.size;
  }
}

/**
 * What the hub knows of every method: the compacted `nyemetoder.method-state.v1`, followed from the start.
 * The adapter uses it to tell an unknown method from a known one and for the documentation basis (the
 * assessment, the public and the confidential price note). It holds confidential fields: they are only
 * shown to callers with the confidential scope.
 */
import type { Kafka } from 'kafkajs';
import type { MethodState } from '../../contracts/generated/types.ts';
import type { ContractRegistry } from '../../core/bus/registry.ts';
import { TopicFollower } from '../../core/bus/topicFollower.ts';
import { TransientError } from '../../core/bus/errors.ts';

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
      throw new TransientError(`could not read the method-state topic to its end in ${timeoutMs} ms`);
  }

  stop(): Promise<void> {
    return this.follower.stop();
  }

  get(methodId: string): MethodState | undefined {
    return this.states.get(methodId);
  }

  has(methodId: string): boolean {
    return this.states.has(methodId);
  }

  get size(): number {
    return this.states.size;
  }
}

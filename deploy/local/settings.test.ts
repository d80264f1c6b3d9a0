/** The local stack reads its STACK_* settings through their declaration, and names a bad one. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, StackError, stackOptionsFromEnv } from './stack.ts';

describe('the local stack settings', () => {
  it('take STACK_* from the environment', () => {
    const o = stackOptionsFromEnv({
      STACK_DIR: '/tmp/metodehub-stack-test',
      STACK_KAFKA_PORT: '19092',
      STACK_CONTROLLER_PORT: '19093',
      STACK_REGISTRY_PORT: '18081',
      STACK_START_TIMEOUT: '7',
    });
    expect(o).toMatchObject({
      dir: '/tmp/metodehub-stack-test',
      kafkaPort: 19092,
      controllerPort: 19093,
      registryPort: 18081,
      startTimeoutSeconds: 7,
    });
  });

  it("default to the repository's .stack and the usual ports", () => {
    expect(stackOptionsFromEnv({})).toMatchObject({
      dir: join(repoRoot, '.stack'),
      kafkaPort: 9092,
      controllerPort: 9093,
      registryPort: 8081,
      startTimeoutSeconds: 180,
    });
  });

  it('refuse a bad value, naming the setting', () => {
    expect(() => stackOptionsFromEnv({ STACK_KAFKA_PORT: '0' })).toThrow(StackError);
    expect(() => stackOptionsFromEnv({ STACK_KAFKA_PORT: '0' })).toThrow(
      /STACK_KAFKA_PORT=0 must be a TCP port/,
    );
    expect(() => stackOptionsFromEnv({ STACK_START_TIMEOUT: 'soon' })).toThrow(/STACK_START_TIMEOUT=soon/);
  });
});

/**
 * A hub process must outlive a transient rejection nobody handled (issue 16: CI's hub died of one while its
 * broker was down) and still end on any other. Run in a child process of its own, as the hub runs.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

function child(rejection: string): { status: number | null; stdout: string } {
  const script = `
    import { guardRejections } from './core/hub/processGuard.ts';
    import { loggerFor } from './core/log/logger.ts';
    guardRejections(loggerFor('hub'));
    ${rejection}
    setTimeout(() => { console.log('STILL_RUNNING'); process.exit(0); }, 300);
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'info', LOG_FILE: '' },
    timeout: 30_000,
  });
  return { status: run.status, stdout: run.stdout };
}

it("carries on after an unhandled rejection whose cause is Kafka away, and logs it with kafkajs's words", () => {
  const { status, stdout } = child(`
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18490'), { name: 'KafkaJSConnectionError', retriable: true });
    const error = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:18490'), { name: 'KafkaJSNonRetriableError', cause });
    Promise.reject(error);
  `);
  expect(status).toBe(0);
  expect(stdout).toContain('UNHANDLED_TRANSIENT_REJECTION');
  expect(stdout).toContain('ECONNREFUSED');
  expect(stdout).toContain('STILL_RUNNING');
});

it('ends the process with 1 on any other unhandled rejection: a defect is not carried on from', () => {
  const { status, stdout } = child(
    `Promise.reject(new TypeError("Cannot read properties of undefined (reading 'version')"));`,
  );
  expect(status).toBe(1);
  expect(stdout).toContain('UNHANDLED_REJECTION');
  expect(stdout).not.toContain('STILL_RUNNING');
});

/**
 * The `metodehub` CLI as a user runs it: the real binary in a child process, against a hub on the real stack.
 * The simulator replays a small demo history; method, history and stats read it back.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoHistory } from '../../core/demo/history.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { decisionOf, medicineDetails } from '../../core/demo/fixtures.ts';
import { startTestHub, type TestHub } from '../support/hub.ts';

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, '../../bin/metodehub.mjs');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('metodehub CLI', () => {
  let t: TestHub;
  let target: string[];
  const events = demoHistory({ methods: 12, seed: 7 });
  const firstId = events[0]!.methodId;

  beforeAll(async () => {
    t = await startTestHub();
    target = ['--hub', t.url, '--token', t.token];
  });
  afterAll(async () => t?.close());

  it('has help on every subcommand', async () => {
    for (const sub of [
      'run',
      'method',
      'history',
      'stats',
      'simulate',
      'trace',
      'dlq',
      'token',
      'config',
      'metrics',
      'exceptions',
      'follow-up',
      'kafka-acls',
    ]) {
      const { code, stdout } = await cli([sub, '--help']);
      expect(code, sub).toBe(0);
      expect(stdout, sub).toMatch(new RegExp(`Usage: metodehub ${sub}`));
    }
    // One process per subcommand: on a loaded machine each start takes seconds.
  }, 180_000);

  it('simulate replays the demo history, and a second replay finds every event already there', async () => {
    const first = await cli([
      'simulate',
      ...target,
      '--methods',
      '12',
      '--seed',
      '7',
      '--rate',
      '0',
      '--json',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const once = JSON.parse(first.stdout) as { sent: number; applied: number; duplicate: number };
    expect(once.sent).toBe(events.length);
    expect(once.applied + once.duplicate).toBe(events.length);
    expect(once.duplicate).toBe(0);

    const again = await cli([
      'simulate',
      ...target,
      '--methods',
      '12',
      '--seed',
      '7',
      '--rate',
      '0',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      sent: events.length,
      applied: 0,
      duplicate: events.length,
    });
  });

  it('method shows the state now and as it stood at --as-of', async () => {
    const now = await cli(['method', firstId, ...target]);
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toContain(firstId);
    expect(now.stdout).toMatch(/status\s+[A-Z_]+ since/);

    const registeredAt = events[0]!.occurredAt;
    const then = await cli(['method', firstId, ...target, '--as-of', registeredAt, '--json']);
    expect(then.code, then.stderr).toBe(0);
    const answer = JSON.parse(then.stdout) as { asOf: string; state: { status: string; version: number } };
    expect(answer.state.status).toBe('PROPOSAL_RECEIVED');
    expect(answer.state.version).toBe(1);
  });

  it('history lists every event of the method with its status changes', async () => {
    const { code, stdout, stderr } = await cli(['history', firstId, ...target]);
    expect(code, stderr).toBe(0);
    const count = events.filter((e) => e.methodId === firstId).length;
    expect(stdout).toContain(`${firstId}: ${count} events`);
    expect(stdout).toContain('-> PROPOSAL_RECEIVED');
  });

  it('stats prints days per stage, the longest waiting and counts per stage', async () => {
    const { code, stdout, stderr } = await cli(['stats', ...target, '--by', 'methodType']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('Stage statistics for 12 methods');
    expect(stdout).toContain('Methods per stage');
    expect(stdout).toMatch(/methodType: MEDICINE/);
  });

  it('exceptions prints who holds which exception per region, and history the decision rounds', async () => {
    const id = 'ID2025_901';
    const at = (n: number) => new Date(Date.UTC(2025, 0, 6, 10) + n * 86_400_000).toISOString();
    const holder = { rhf: 'HELSE_VEST', trust: 'Helse Stavanger HF' } as const;
    const posted = await t.call('/api/v1/case-events', {
      method: 'POST',
      json: [
        methodEvent('METHOD_REGISTERED', id, { details: medicineDetails() }, { occurredAt: at(0) }),
        ...['AWAITING_ORDERING', 'ASSESSMENT_ORDERED', 'ASSESSMENT_IN_PROGRESS'].map((to, i) =>
          methodEvent('STATUS_CHANGED', id, { from: null, to, reason: null } as never, {
            occurredAt: at(i + 1),
          }),
        ),
        methodEvent(
          'EXCEPTION_GRANTED',
          id,
          {
            exceptionId: 'EPU-9',
            kind: 'INDIVIDUAL_PATIENT',
            scope: null,
            holder,
            effectiveOn: at(5).slice(0, 10),
          },
          { occurredAt: at(5) },
        ),
        methodEvent(
          'DECISION_MADE',
          id,
          decisionOf('NOT_INTRODUCED', at(9).slice(0, 10), {
            forum: 'MEDICAL_DIRECTORS',
            withoutDocumentation: true,
            withoutDocumentationReason: 'Leverandøren har meldt at dokumentasjonen ikke finnes.',
          }),
          { occurredAt: at(9) },
        ),
      ],
    });
    expect(posted.status, await posted.clone().text()).toBe(200);
    const exceptions = await cli(['exceptions', id, ...target]);
    expect(exceptions.code, exceptions.stderr).toBe(0);
    expect(exceptions.stdout).toContain('Helse Vest RHF: 1 valid of 1');
    expect(exceptions.stdout).toContain('Helse Stavanger HF');
    const history = await cli(['history', id, ...target]);
    expect(history.stdout).toMatch(/1\s+\S+\s+MEDICAL_DIRECTORS\s+NOT_INTRODUCED\s+ASSESSMENT_IN_PROGRESS/);
    expect(history.stdout).toContain('Leverandøren har meldt');
  });

  it('trace lists the method events and states of a method with latencies', async () => {
    const { code, stdout, stderr } = await cli(['trace', firstId, ...target]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(new RegExp(`^${firstId}: \\d+ messages`));
    expect(stdout).toContain('nyemetoder.method-state.v1');
    expect(stdout).toContain('METHOD_REGISTERED');
  });

  it('dlq list answers, empty on fresh topics', async () => {
    const { code, stdout, stderr } = await cli(['dlq', 'list', ...target, '--pending']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('0 dead letter(s)');
  });

  it('says clearly what is wrong: an unknown method, a bad ID, no such adapter, a bad option', async () => {
    const unknown = await cli(['method', 'ID2099_999', ...target]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/ID2099_999/);

    const invalid = await cli(['method', 'nope', ...target]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/ID\d{4}_\d{3}|nope/);

    const adapters = await cli(['run', '--adapters', 'api,telepathy']);
    expect(adapters.code).toBe(1);
    expect(adapters.stderr).toContain('unknown adapter(s): telepathy');

    const rate = await cli(['simulate', ...target, '--rate', '-3']);
    expect(rate.code).not.toBe(0);
    expect(rate.stderr).toContain('--rate must be a whole number');
  });
});

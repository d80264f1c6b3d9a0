/**
 * A real SMTP server on loopback for tests: Python's aiosmtpd 1.4.6, installed on first use into a venv under
 * `.stack/py` (git-ignored), run by deploy/emulators/smtp_sink.py on a port from 20600-20699. Each message it
 * accepts is a JSON file in a temporary folder; `messages()` reads what arrived.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const AIOSMTPD = 'aiosmtpd==1.4.6';
const venv = resolve(import.meta.dirname, '../../.stack/py');
const python = join(venv, 'bin', 'python');

export interface ReceivedMail {
  mailFrom: string;
  rcptTos: string[];
  subject: string;
  headers: Record<string, string>;
  text: string;
}

export interface SmtpSink {
  port: number;
  /** Where each accepted message is written, one JSON file each. */
  folder: string;
  messages(): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Creates the venv and installs aiosmtpd when it is missing: once per machine. */
export async function ensureAiosmtpd(): Promise<string> {
  const installed =
    existsSync(python) &&
    (await run(python, ['-c', 'import aiosmtpd']).then(
      () => true,
      () => false,
    ));
  if (installed) return python;
  await mkdir(resolve(venv, '..'), { recursive: true });
  await run('python3', ['-m', 'venv', venv]);
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', AIOSMTPD], {
    timeout: 300_000,
  });
  return python;
}

export async function startSmtpSink(range: [number, number] = [20600, 20699]): Promise<SmtpSink> {
  const interpreter = await ensureAiosmtpd();
  const folder = await mkdtemp(join(tmpdir(), 'smtp-sink-'));
  const child: ChildProcess = spawn(
    interpreter,
    [resolve(import.meta.dirname, 'smtp_sink.py'), folder, String(range[0]), String(range[1])],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((ready, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`SMTP sink did not start in 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /READY (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        ready(Number(match[1]));
      } else if (out.includes('NO_PORT')) fail(new Error(out.trim()));
    });
    child.on('exit', (code) => fail(new Error(`SMTP sink exited with ${code}: ${out}`)));
  });
  return {
    port,
    folder,
    async messages() {
      const files = (await readdir(folder)).filter((f) => f.endsWith('.json')).sort();
      return Promise.all(
        files.map(async (f) => JSON.parse(await readFile(join(folder, f), 'utf8')) as ReceivedMail),
      );
    },
    async close() {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** The hub as its own process (`metodehub run`), so a fault test can SIGKILL it or time its SIGTERM. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../core/config/spec.ts';
import { DevIssuer } from '../../core/http/devIssuer.ts';
import { repoRoot } from '../../deploy/local/stack.ts';

export interface HubProcess {
  url: string;
  token: string;
  /** A token from the hub's dev issuer with these scopes, for `subject` (a FEST vendor, say). */
  mint: (scopes: string[], subject: string) => Promise<string>;
  /** Starts the hub (again); resolves when its API answers /healthz. */
  start: () => Promise<void>;
  kill: () => Promise<void>;
  /** Sends SIGTERM (or the signal given: SIGINT is Ctrl-C) and resolves with the ms until the process was gone. */
  terminate: (signal?: NodeJS.Signals) => Promise<number>;
  readonly running: boolean;
  /**
   * The last lines (200 at most) the hub process printed since its last start, whatever FAULTS_HUB_LOG_LEVEL says,
   * but kafkajs's connection errors: repeated every few seconds while a broker is away, they pushed out the rest.
   */
  recentLog: () => string[];
}

const KEPT_LINES = 200;
const CONNECTION_NOISE = /"namespace":"(Connection|BrokerPool)"/;

/** A port the system picks (listen on 0), kept for every restart of the hub so clients find it again. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

export async function hubProcess(options: {
  dir: string;
  /** Default: one the system picks. */
  port?: number;
  kafkaBrokers: string;
  schemaRegistryUrl: string;
  components?: string;
  env?: Record<string, string>;
}): Promise<HubProcess> {
  const keyFile = join(options.dir, 'dev-issuer.json');
  const issuer = await DevIssuer.fromFile(keyFile);
  const config = loadConfig({ AUTH_DEV_ISSUER: 'true' });
  const token = await issuer.mint({
    scopes: [config.AUTH_READ_SCOPE, config.AUTH_WRITE_SCOPE, config.AUTH_OPS_SCOPE],
    audience: config.AUTH_AUDIENCE,
    issuer: config.AUTH_ISSUER,
    expiresIn: '2h',
  });
  let child: ChildProcess | undefined;
  let recent: string[] = [];
  const asked = new WeakSet<ChildProcess>();
  const keep = (chunk: Buffer) => {
    recent.push(
      ...chunk
        .toString()
        .split('\n')
        .filter((line) => line.length > 0 && !CONNECTION_NOISE.test(line)),
    );
    if (recent.length > KEPT_LINES) recent = recent.slice(-KEPT_LINES);
  };
  let exited: Promise<void> = Promise.resolve();
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const self: HubProcess = {
    url,
    token,
    mint: (scopes, subject) =>
      issuer.mint({
        scopes,
        subject,
        audience: config.AUTH_AUDIENCE,
        issuer: config.AUTH_ISSUER,
        expiresIn: '2h',
      }),
    get running() {
      return child !== undefined;
    },
    recentLog: () => [...recent],
    start: async () => {
      const proc = spawn(
        process.execPath,
        ['bin/metodehub.mjs', 'run', '--adapters', options.components ?? 'api,projection'],
        {
          cwd: repoRoot,
          env: {
            ...process.env,
            KAFKA_BROKERS: options.kafkaBrokers,
            SCHEMA_REGISTRY_URL: options.schemaRegistryUrl,
            HUB_HOST: '127.0.0.1',
            HUB_PORT: String(port),
            AUTH_DEV_ISSUER: 'true',
            DEV_ISSUER_KEY_FILE: keyFile,
            // Warnings are kept (recentLog) for a failing test to show; printed only with a level asked for.
            LOG_LEVEL: process.env.FAULTS_HUB_LOG_LEVEL ?? 'warn',
            ...options.env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child = proc;
      recent = [];
      exited = new Promise((done) =>
        proc.once('exit', (code, signal) => {
          // A hub that dies when the test did not ask is what a run that stalls would otherwise never say.
          if (child === proc && !asked.has(proc))
            process.stderr.write(
              `[faults] the hub on ${url} exited unasked (code ${code}, signal ${signal}); its last lines:\n${recent.slice(-40).join('\n')}\n`,
            );
          if (child === proc) child = undefined;
          done();
        }),
      );
      let output = '';
      await new Promise<void>((ready, fail) => {
        const early = (code: number | null) => {
          clearTimeout(timer);
          fail(new Error(`the hub exited (${code}) while starting:\n${output}`));
        };
        const timer = setTimeout(() => {
          proc.off('exit', early);
          fail(new Error(`the hub did not listen within 90 s:\n${output}`));
        }, 90_000);
        proc.once('exit', early);
        proc.stdout?.on('data', (chunk: Buffer) => {
          keep(chunk);
          if (output.length < 100_000) output += chunk.toString();
          // The hub logs to stdout: with a log level asked for, the test shows them too.
          if (process.env.FAULTS_HUB_LOG_LEVEL) process.stderr.write(chunk);
        });
        // Listening is what a client sees; the process may still be joining groups behind it.
        const poll = async () => {
          while (child === proc) {
            const up = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).catch(
              () => null,
            );
            if (up?.ok) {
              clearTimeout(timer);
              proc.off('exit', early);
              ready();
              return;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        void poll();
        proc.stderr?.on('data', (chunk: Buffer) => {
          keep(chunk);
          if (output.length < 100_000) output += chunk.toString();
          if (process.env.FAULTS_HUB_LOG_LEVEL) process.stderr.write(chunk);
        });
      });
    },
    kill: async () => {
      if (child) asked.add(child);
      child?.kill('SIGKILL');
      await exited;
      child = undefined;
    },
    terminate: async (signal = 'SIGTERM') => {
      const t0 = Date.now();
      if (child) asked.add(child);
      child?.kill(signal);
      await exited;
      child = undefined;
      return Date.now() - t0;
    },
  };
  return self;
}

/**
 * The native local stack: Apache Kafka (KRaft, single node) and Apicurio Registry, fetched from Maven Central
 * with the machine's `mvn` and run with its `java`. No Docker needed.
 *
 *   tsx deploy/local/stack.ts up | down | status | reset
 *
 * Everything it downloads, writes and logs lives under `.stack/` at the repository root (git-ignored).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConfigOf, loadSettings } from '../../core/config/spec.ts';
import { stackSettings } from './settings.ts';

export const KAFKA_VERSION = '3.9.1';
/** 3.0.x is the newest Apicurio line that runs on Java 17; 3.1 and later need Java 21. */
export const APICURIO_VERSION = '3.0.9';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');

export interface StackOptions {
  /** Root of downloads, data and logs. */
  dir: string;
  host: string;
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
  /** Seconds to wait for both services to answer. */
  startTimeoutSeconds: number;
  /** Where progress lines go; the CLI prints them, tests may silence them. */
  say: (line: string) => void;
  /** More `server.properties` lines for the broker (the fault tests' own broker restarts faster with fewer partitions). */
  kafkaSettings?: string[];
  /**
   * A secured broker: clients on SASL_SSL (SCRAM-SHA-512, TLS with a required client certificate), ACLs enforced by
   * Kafka's StandardAuthorizer, certificates and users made by the stack itself (see `securityOf`).
   */
  secure?: SecureOptions;
  /** Which parts to run; both by default (the secured-broker test runs Kafka alone). */
  components?: Component[];
}

export interface SecureOptions {
  /** SCRAM users besides `admin` (the super user): their names; passwords are made once and kept under the stack's dir. */
  users: string[];
}

/** What a client of the secured broker needs: the settings to give the hub, and each user's password. */
export interface StackSecurity {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** SCRAM-SHA-512 passwords by user, `admin` included. */
  passwords: Record<string, string>;
}

export function stackOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StackOptions {
  let settings: ConfigOf<typeof stackSettings>;
  try {
    settings = loadSettings(stackSettings, env);
  } catch (error) {
    throw new StackError((error as Error).message);
  }
  return {
    dir: settings.STACK_DIR ? resolve(settings.STACK_DIR) : join(repoRoot, '.stack'),
    host: '127.0.0.1',
    kafkaPort: settings.STACK_KAFKA_PORT,
    controllerPort: settings.STACK_CONTROLLER_PORT,
    registryPort: settings.STACK_REGISTRY_PORT,
    startTimeoutSeconds: settings.STACK_START_TIMEOUT,
    say: (line) => process.stdout.write(`${line}\n`),
  };
}

/** A failure a person can act on: the message says what went wrong and what to do. */
export class StackError extends Error {
  override name = 'StackError';
}

interface Paths {
  m2: string;
  kafkaLibs: string;
  apicurioHome: string;
  kafkaData: string;
  run: string;
  logs: string;
}

function pathsOf(o: StackOptions): Paths {
  return {
    m2: join(o.dir, 'cache', 'm2'),
    kafkaLibs: join(o.dir, 'cache', `kafka-${KAFKA_VERSION}`, 'libs'),
    apicurioHome: join(o.dir, 'cache', `apicurio-registry-${APICURIO_VERSION}`),
    kafkaData: join(o.dir, 'data', 'kafka'),
    run: join(o.dir, 'run'),
    logs: join(o.dir, 'logs'),
  };
}

const tlsDir = (o: StackOptions) => join(o.dir, 'data', 'tls');

function openssl(args: string[], what: string): void {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.status !== 0)
    throw new StackError(
      `Making ${what} with openssl failed (is openssl installed?): ${(run.stderr ?? '').slice(-400)}`,
    );
}

/**
 * The secured broker's certificates (a CA of its own, the broker's with 127.0.0.1 and localhost, one client's) and
 * its users' passwords, made once under `.stack/data/tls` and kept with the broker's data.
 */
export function securityOf(o: StackOptions): StackSecurity {
  const dir = tlsDir(o);
  mkdirSync(dir, { recursive: true });
  const file = (name: string) => join(dir, name);
  if (!existsSync(file('ca.pem'))) {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        file('ca.key'),
        '-out',
        file('ca.pem'),
        '-days',
        '825',
        '-subj',
        '/CN=metodehub local CA',
      ],
      'the local CA',
    );
  }
  for (const [name, cn] of [
    ['broker', 'metodehub-broker'],
    ['client', 'metodehub-client'],
  ] as const) {
    if (existsSync(file(`${name}.pem`))) continue;
    openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.csr`),
        '-subj',
        `/CN=${cn}`,
      ],
      `the ${name} key`,
    );
    writeFileSync(file(`${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    openssl(
      [
        'x509',
        '-req',
        '-in',
        file(`${name}.csr`),
        '-CA',
        file('ca.pem'),
        '-CAkey',
        file('ca.key'),
        '-CAcreateserial',
        '-out',
        file(`${name}.crt`),
        '-days',
        '825',
        '-extfile',
        file(`${name}.ext`),
      ],
      `the ${name} certificate`,
    );
    // Kafka's PEM key store takes the key and its certificate in one file.
    writeFileSync(
      file(`${name}.pem`),
      readFileSync(file(`${name}.key`), 'utf8') + readFileSync(file(`${name}.crt`), 'utf8'),
    );
  }
  const usersFile = file('users.json');
  const known: Record<string, string> = existsSync(usersFile)
    ? JSON.parse(readFileSync(usersFile, 'utf8'))
    : {};
  for (const user of ['admin', ...(o.secure?.users ?? [])])
    known[user] ??= randomBytes(18).toString('base64url');
  writeFileSync(usersFile, JSON.stringify(known, null, 2));
  return {
    caFile: file('ca.pem'),
    certFile: file('client.crt'),
    keyFile: file('client.key'),
    passwords: known,
  };
}

/** The hub's settings for the secured broker as one principal. */
export function securedClientSettings(security: StackSecurity, user: string): Record<string, string> {
  const password = security.passwords[user];
  if (password === undefined)
    throw new StackError(`The secured stack has no user ${user}; add it to its users.`);
  return {
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SSL_CA_FILE: security.caFile,
    KAFKA_SSL_CERT_FILE: security.certFile,
    KAFKA_SSL_KEY_FILE: security.keyFile,
    KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    KAFKA_SASL_USERNAME: user,
    KAFKA_SASL_PASSWORD: password,
  };
}

type Component = 'kafka' | 'registry';

export interface ComponentStatus {
  component: Component;
  running: boolean;
  pid: number | null;
  address: string;
  answers: boolean;
  log: string;
}

export interface StackEndpoints {
  kafkaBrokers: string;
  schemaRegistryUrl: string;
}

export function endpointsOf(o: StackOptions): StackEndpoints {
  return {
    kafkaBrokers: `${o.host}:${o.kafkaPort}`,
    schemaRegistryUrl: `http://${o.host}:${o.registryPort}/apis/ccompat/v7`,
  };
}

// ---------------------------------------------------------------- prerequisites

function requireTool(command: string, args: string[], what: string, hint: string): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new StackError(`${what} was not found (\`${command} ${args.join(' ')}\` failed). ${hint}`);
  }
  return `${result.stdout}${result.stderr}`;
}

function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function checkJava(): void {
  const out = requireTool(
    javaCommand(),
    ['-version'],
    'Java',
    'Install a JDK 17 or newer (Debian: `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME.',
  );
  const major = Number(/version "(\d+)/.exec(out)?.[1] ?? 0);
  if (major < 17) {
    throw new StackError(
      `Java ${major} was found, but Kafka ${KAFKA_VERSION} and Apicurio need Java 17 or newer.`,
    );
  }
}

function checkMaven(): void {
  requireTool(
    'mvn',
    ['-v'],
    'Maven',
    'Install Apache Maven 3.8 or newer (Debian: `apt-get install maven`); it fetches Kafka and Apicurio.',
  );
}

// ---------------------------------------------------------------- downloads

function mvn(o: StackOptions, p: Paths, args: string[], what: string): void {
  const result = spawnSync('mvn', ['-q', '-B', `-Dmaven.repo.local=${p.m2}`, ...args], {
    cwd: here,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    const tail = `${result.stdout}${result.stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new StackError(
      `Downloading ${what} from Maven Central failed. Check that Maven Central is reachable ` +
        `(proxy settings in ~/.m2/settings.xml), then run the command again.\n${tail}`,
    );
  }
  o.say(`  fetched ${what}`);
}

export function ensureDownloads(o: StackOptions): void {
  const p = pathsOf(o);
  const kafkaMarker = join(p.kafkaLibs, '.complete');
  const apicurioMarker = join(p.apicurioHome, '.complete');
  if (existsSync(kafkaMarker) && existsSync(apicurioMarker)) return;
  checkMaven();
  if (!existsSync(kafkaMarker)) {
    o.say(`Fetching Apache Kafka ${KAFKA_VERSION} and its runtime dependencies (about 46 MB, once)...`);
    rmSync(p.kafkaLibs, { recursive: true, force: true });
    mvn(
      o,
      p,
      [
        `-Dkafka.version=${KAFKA_VERSION}`,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${p.kafkaLibs}`,
      ],
      `Apache Kafka ${KAFKA_VERSION}`,
    );
    writeFileSync(kafkaMarker, new Date().toISOString());
  }
  if (!existsSync(apicurioMarker)) {
    o.say(`Fetching Apicurio Registry ${APICURIO_VERSION} (about 150 MB, once)...`);
    rmSync(p.apicurioHome, { recursive: true, force: true });
    mkdirSync(p.apicurioHome, { recursive: true });
    mvn(
      o,
      p,
      [
        'dependency:copy',
        `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
        `-DoutputDirectory=${p.apicurioHome}`,
      ],
      `Apicurio Registry ${APICURIO_VERSION}`,
    );
    const archive = join(p.apicurioHome, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    const untar = spawnSync('tar', ['-xzf', archive, '-C', p.apicurioHome], { encoding: 'utf8' });
    if (untar.status !== 0) {
      throw new StackError(
        `Unpacking ${archive} failed: ${untar.stderr}. Run \`npm run stack:reset\` and try again.`,
      );
    }
    rmSync(archive);
    writeFileSync(apicurioMarker, new Date().toISOString());
  }
}

// ---------------------------------------------------------------- processes

function pidFile(o: StackOptions, c: Component): string {
  return join(pathsOf(o).run, `${c}.pid`);
}

function readPid(o: StackOptions, c: Component): number | null {
  const file = pidFile(o, c);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function portAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function registryAnswers(o: StackOptions): Promise<boolean> {
  try {
    const res = await fetch(`${endpointsOf(o).schemaRegistryUrl}/subjects`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok && Array.isArray(await res.json());
  } catch {
    return false;
  }
}

async function kafkaAnswers(o: StackOptions): Promise<boolean> {
  if (!(await portAnswers(o.host, o.kafkaPort))) return false;
  const { Kafka, logLevel } = await import('kafkajs');
  const security = o.secure ? securityOf(o) : undefined;
  const admin = new Kafka({
    brokers: [endpointsOf(o).kafkaBrokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    ...(security
      ? {
          ssl: {
            ca: readFileSync(security.caFile, 'utf8'),
            cert: readFileSync(security.certFile, 'utf8'),
            key: readFileSync(security.keyFile, 'utf8'),
          },
          sasl: {
            mechanism: 'scram-sha-512' as const,
            username: 'admin',
            password: security.passwords.admin!,
          },
        }
      : {}),
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function startDetached(o: StackOptions, c: Component, command: string, args: string[], cwd: string): number {
  const p = pathsOf(o);
  mkdirSync(p.logs, { recursive: true });
  mkdirSync(p.run, { recursive: true });
  // A plain fd outlives this process, unlike a stream, so the detached service keeps logging.
  const fd = openSync(join(p.logs, `${c}.log`), 'a');
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', fd, fd] });
  if (child.pid === undefined) throw new StackError(`Could not start ${c} (${command}).`);
  child.unref();
  writeFileSync(pidFile(o, c), String(child.pid));
  return child.pid;
}

function plainListeners(o: StackOptions): string[] {
  return [
    `listeners=PLAINTEXT://${o.host}:${o.kafkaPort},CONTROLLER://${o.host}:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${o.host}:${o.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
  ];
}

/** Clients and brokers on SASL_SSL, the controller on TLS with the broker's certificate; ACLs on, deny by default. */
function securedListeners(o: StackOptions): string[] {
  const security = securityOf(o);
  const dir = tlsDir(o);
  return [
    `listeners=SASL_SSL://${o.host}:${o.kafkaPort},CONTROLLER://${o.host}:${o.controllerPort}`,
    `advertised.listeners=SASL_SSL://${o.host}:${o.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SSL',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${security.passwords.admin}";`,
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${join(dir, 'broker.pem')}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${security.caFile}`,
    'ssl.client.auth=required',
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    // admin for operators and topics:apply; the broker's own certificate for broker-to-controller requests.
    'super.users=User:admin;User:CN=metodehub-broker',
  ];
}

function writeKafkaConfig(o: StackOptions): string {
  const p = pathsOf(o);
  mkdirSync(p.run, { recursive: true });
  const file = join(p.run, 'server.properties');
  writeFileSync(
    file,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${o.host}:${o.controllerPort}`,
      ...(o.secure ? securedListeners(o) : plainListeners(o)),
      `log.dirs=${p.kafkaData}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      // Topics are created by `npm run topics:apply` with their declared settings; tests create their own.
      'auto.create.topics.enable=true',
      ...(o.kafkaSettings ?? []),
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(p.run, 'log4j.properties'),
    [
      'log4j.rootLogger=INFO, stdout',
      'log4j.logger.kafka.request.logger=WARN',
      'log4j.logger.org.apache.kafka.controller=WARN',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      '',
    ].join('\n'),
  );
  return file;
}

/** The secured broker's SCRAM users, written into its metadata when its storage is formatted. */
function scramUsers(o: StackOptions): string[] {
  if (!o.secure) return [];
  const { passwords } = securityOf(o);
  return Object.entries(passwords).flatMap(([name, password]) => [
    '--add-scram',
    `SCRAM-SHA-512=[name=${name},password=${password}]`,
  ]);
}

function formatKafkaStorage(o: StackOptions, config: string): void {
  const p = pathsOf(o);
  if (existsSync(join(p.kafkaData, 'meta.properties'))) return;
  const cp = `${p.kafkaLibs}/*`;
  const log4j = `-Dlog4j.configuration=file:${join(p.run, 'log4j.properties')}`;
  const id = spawnSync(javaCommand(), ['-cp', cp, log4j, 'kafka.tools.StorageTool', 'random-uuid'], {
    encoding: 'utf8',
  });
  const clusterId = id.stdout.trim().split('\n').pop() ?? '';
  const format = spawnSync(
    javaCommand(),
    ['-cp', cp, log4j, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', config, ...scramUsers(o)],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) {
    throw new StackError(`Formatting Kafka storage in ${p.kafkaData} failed: ${format.stderr.slice(-500)}`);
  }
}

async function assertPortFree(o: StackOptions, port: number, c: Component, setting: string): Promise<void> {
  if (await portAnswers(o.host, port)) {
    throw new StackError(
      `Port ${o.host}:${port}, wanted by ${c}, is already taken by a process this stack did not start. ` +
        `Stop that process (\`ss -ltnp 'sport = :${port}'\` shows it) or choose another port with ${setting}.`,
    );
  }
}

async function waitFor(
  o: StackOptions,
  c: Component,
  pid: number,
  answers: () => Promise<boolean>,
  deadline: number,
): Promise<void> {
  const log = join(pathsOf(o).logs, `${c}.log`);
  while (Date.now() < deadline) {
    if (await answers()) return;
    if (!isAlive(pid)) {
      throw new StackError(`${c} exited while starting. The last lines of ${log}:\n${tail(log, 20)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new StackError(
    `${c} did not answer within ${o.startTimeoutSeconds} s (raise STACK_START_TIMEOUT on a slow machine). ` +
      `The last lines of ${log}:\n${tail(log, 20)}`,
  );
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log yet)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

// ---------------------------------------------------------------- commands

/** Starts what is not running, waits until both answer. Idempotent. Returns whether it started anything. */
export async function stackUp(o: StackOptions): Promise<{ started: Component[]; endpoints: StackEndpoints }> {
  const started: Component[] = [];
  const p = pathsOf(o);
  const deadline = () => Date.now() + o.startTimeoutSeconds * 1000;
  const wanted = o.components ?? ['kafka', 'registry'];
  let kafkaPid = readPid(o, 'kafka');
  let registryPid = wanted.includes('registry') ? readPid(o, 'registry') : -1;
  if (kafkaPid === null || registryPid === null) {
    checkJava();
    ensureDownloads(o);
  }
  if (kafkaPid === null) {
    await assertPortFree(o, o.kafkaPort, 'kafka', 'STACK_KAFKA_PORT');
    await assertPortFree(o, o.controllerPort, 'kafka', 'STACK_CONTROLLER_PORT');
    const config = writeKafkaConfig(o);
    formatKafkaStorage(o, config);
    o.say(`Starting Kafka ${KAFKA_VERSION} (KRaft) on ${o.host}:${o.kafkaPort}...`);
    kafkaPid = startDetached(
      o,
      'kafka',
      javaCommand(),
      [
        '-Xms256m',
        '-Xmx768m',
        '-cp',
        `${p.kafkaLibs}/*`,
        `-Dlog4j.configuration=file:${join(p.run, 'log4j.properties')}`,
        'kafka.Kafka',
        config,
      ],
      p.run,
    );
    started.push('kafka');
  }
  if (registryPid === null) {
    await assertPortFree(o, o.registryPort, 'registry', 'STACK_REGISTRY_PORT');
    o.say(`Starting Apicurio Registry ${APICURIO_VERSION} on ${o.host}:${o.registryPort}...`);
    registryPid = startDetached(
      o,
      'registry',
      javaCommand(),
      [
        '-Xms128m',
        '-Xmx512m',
        `-Dquarkus.http.host=${o.host}`,
        `-Dquarkus.http.port=${o.registryPort}`,
        // Kafka keeps its data across restarts, so the registry must too, or old messages point at lost ids.
        `-Dapicurio.datasource.url=jdbc:h2:file:${join(o.dir, 'data', 'registry', 'registry')}`,
        // Reopening the file after a SIGKILL, with 20 pooled connections on a loaded machine, outlasts the 5 s default.
        '-Dquarkus.datasource.h2.jdbc.acquisition-timeout=60S',
        '-Dquarkus.log.level=WARN',
        '-jar',
        join(p.apicurioHome, `apicurio-registry-app-${APICURIO_VERSION}-runner.jar`),
      ],
      p.apicurioHome,
    );
    started.push('registry');
  }
  const until = deadline();
  await waitFor(o, 'kafka', kafkaPid, () => kafkaAnswers(o), until);
  if (wanted.includes('registry')) await waitFor(o, 'registry', registryPid, () => registryAnswers(o), until);
  return { started, endpoints: endpointsOf(o) };
}

/** Stops only the processes this stack started (by their pid files), then waits until they are gone. */
export async function stackDown(o: StackOptions): Promise<Component[]> {
  const stopped: Component[] = [];
  // The registry first: it may hold connections to Kafka.
  for (const c of ['registry', 'kafka'] as const) {
    const pid = readPid(o, c);
    if (pid !== null) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 30_000;
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      stopped.push(c);
    }
    rmSync(pidFile(o, c), { force: true });
  }
  return stopped;
}

export async function stackStatus(o: StackOptions): Promise<ComponentStatus[]> {
  const p = pathsOf(o);
  const e = endpointsOf(o);
  const kafkaPid = readPid(o, 'kafka');
  const registryPid = readPid(o, 'registry');
  return [
    {
      component: 'kafka',
      running: kafkaPid !== null,
      pid: kafkaPid,
      address: e.kafkaBrokers,
      answers: await kafkaAnswers(o),
      log: join(p.logs, 'kafka.log'),
    },
    {
      component: 'registry',
      running: registryPid !== null,
      pid: registryPid,
      address: e.schemaRegistryUrl,
      answers: await registryAnswers(o),
      log: join(p.logs, 'registry.log'),
    },
  ];
}

// ---------------------------------------------------------------- CLI

const usage = `Usage: tsx deploy/local/stack.ts <command>

The native local stack (no Docker): Apache Kafka ${KAFKA_VERSION} in KRaft mode and Apicurio Registry ${APICURIO_VERSION},
fetched once from Maven Central into .stack/cache and run with the machine's Java.

Commands:
  up        fetch what is missing, start what is not running, wait until both answer (idempotent)
  down      stop what this stack started
  status    say what runs where
  reset     stop, then delete the stack's data and logs (downloads are kept)

Environment:
${Object.entries(stackSettings)
  .map(
    ([name, s]) =>
      `  ${name.padEnd(22)} ${s.description} (default: ${s.default === '' ? '.stack' : s.default})`,
  )
  .join('\n')}
  JAVA_HOME              The JDK to use, 17 or newer (default: java on PATH)
`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0];
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return command === undefined ? 2 : 0;
  }
  const o = stackOptionsFromEnv();
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      const { started, endpoints } = await stackUp(o);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      o.say(
        started.length === 0
          ? 'The stack was already running.'
          : `Started ${started.join(' and ')} in ${secs} s.`,
      );
      o.say(`  KAFKA_BROKERS=${endpoints.kafkaBrokers}`);
      o.say(`  SCHEMA_REGISTRY_URL=${endpoints.schemaRegistryUrl}`);
      return 0;
    }
    case 'down': {
      const stopped = await stackDown(o);
      o.say(
        stopped.length === 0 ? 'Nothing of this stack was running.' : `Stopped ${stopped.join(' and ')}.`,
      );
      return 0;
    }
    case 'status': {
      const rows = await stackStatus(o);
      for (const r of rows) {
        const state = r.running
          ? r.answers
            ? 'running'
            : 'started, not answering'
          : r.answers
            ? 'answering (not started by this stack)'
            : 'stopped';
        o.say(
          `${r.component.padEnd(9)} ${state.padEnd(24)} ${r.pid === null ? '-' : `pid ${r.pid}`}`.trimEnd(),
        );
        o.say(`          ${r.address}   log: ${r.log}`);
      }
      return rows.every((r) => r.answers) ? 0 : 1;
    }
    case 'reset': {
      await stackDown(o);
      rmSync(join(o.dir, 'data'), { recursive: true, force: true });
      rmSync(join(o.dir, 'logs'), { recursive: true, force: true });
      o.say(`Stopped the stack and deleted its data and logs under ${o.dir} (downloads kept).`);
      return 0;
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${usage}`);
      return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof StackError ? error.message : String((error as Error)?.stack ?? error)}\n`,
      );
      process.exit(1);
    },
  );
}

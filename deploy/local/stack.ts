/**
 * The native local stack: Apache Kafka (KRaft, one node or a cluster of combined broker+controller nodes) and
 * Apicurio Registry, fetched from Maven Central with the machine's `mvn` and run with its `java`. No Docker needed.
 *
 *   tsx deploy/local/stack.ts up [--brokers N] [--secure] | down | status | reset
 *
 * Everything it downloads, writes and logs lives under `.stack/` at the repository root (git-ignored).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ConfigOf, loadSettings } from '../../core/config/spec.ts';
import { MAX_BROKERS, stackSettings } from './settings.ts';

export const KAFKA_VERSION = '3.9.1';
/** 3.0.x is the newest Apicurio line that runs on Java 17; 3.1 and later need Java 21. */
export const APICURIO_VERSION = '3.0.9';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');

export interface StackOptions {
  /** Root of downloads, data and logs. */
  dir: string;
  host: string;
  /** The first node's ports; node i (0-based) of a cluster listens on kafkaPort + 2i and controllerPort + 2i. */
  kafkaPort: number;
  controllerPort: number;
  registryPort: number;
  /**
   * Kafka nodes, each broker and KRaft controller in one process (1 by default). From 3 on, internal and new topics
   * are replicated 3 times with min.insync.replicas 2 and `topicProfileOf` is production.
   */
  brokers?: number;
  /** Seconds to wait for both services to answer. */
  startTimeoutSeconds: number;
  /** Where progress lines go; the CLI prints them, tests may silence them. */
  say: (line: string) => void;
  /** More `server.properties` lines for the broker (the fault tests' own broker restarts faster with fewer partitions). */
  kafkaSettings?: string[];
  /** More JVM options for each Kafka node (the fault tests' cluster starts sooner with less compiling on two cores). */
  kafkaJvmOptions?: string[];
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

/** The SCRAM user `--secure` makes for the hub, besides `admin`. */
export const SECURE_HUB_USER = 'metodehub';

export function stackOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StackOptions {
  let settings: ConfigOf<typeof stackSettings>;
  try {
    settings = loadSettings(stackSettings, env);
  } catch (error) {
    throw new StackError((error as Error).message);
  }
  const secure = settings.STACK_SECURE;
  return {
    dir: settings.STACK_DIR ? resolve(settings.STACK_DIR) : join(repoRoot, '.stack'),
    host: '127.0.0.1',
    kafkaPort: settings.STACK_KAFKA_PORT,
    controllerPort: settings.STACK_CONTROLLER_PORT,
    registryPort: settings.STACK_REGISTRY_PORT,
    brokers: settings.STACK_BROKERS,
    startTimeoutSeconds: settings.STACK_START_TIMEOUT,
    say: (line) => process.stdout.write(`${line}\n`),
    ...(secure ? { secure: { users: [SECURE_HUB_USER] } } : {}),
  };
}

function brokersFrom(setting: string, raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BROKERS)
    throw new StackError(
      `${setting}=${raw} is not a broker count; give a whole number from 1 to ${MAX_BROKERS} (3 for a replicated cluster).`,
    );
  return n;
}

/** The replication profile (KAFKA_TOPIC_PROFILE) topics on this stack are created with: production from 3 brokers. */
export function topicProfileOf(o: StackOptions): 'local' | 'production' {
  return (o.brokers ?? 1) >= 3 ? 'production' : 'local';
}

/** A failure a person can act on: the message says what went wrong and what to do. */
export class StackError extends Error {
  override name = 'StackError';
}

interface Paths {
  m2: string;
  kafkaLibs: string;
  apicurioHome: string;
  run: string;
  logs: string;
}

function pathsOf(o: StackOptions): Paths {
  return {
    m2: join(o.dir, 'cache', 'm2'),
    kafkaLibs: join(o.dir, 'cache', `kafka-${KAFKA_VERSION}`, 'libs'),
    apicurioHome: join(o.dir, 'cache', `apicurio-registry-${APICURIO_VERSION}`),
    run: join(o.dir, 'run'),
    logs: join(o.dir, 'logs'),
  };
}

/** One Kafka process: broker and KRaft controller together. */
export interface KafkaNode {
  /** KRaft node id, from 1. */
  id: number;
  /** Its pid file's and log's name: `kafka` for the single node, `kafka-<id>` in a cluster. */
  name: string;
  kafkaPort: number;
  controllerPort: number;
  dataDir: string;
  config: string;
}

export function kafkaNodesOf(o: StackOptions): KafkaNode[] {
  const p = pathsOf(o);
  const count = o.brokers ?? 1;
  if (count === 1)
    return [
      {
        id: 1,
        name: 'kafka',
        kafkaPort: o.kafkaPort,
        controllerPort: o.controllerPort,
        dataDir: join(o.dir, 'data', 'kafka'),
        config: join(p.run, 'server.properties'),
      },
    ];
  // A cluster's data apart from the single node's: its metadata names other voters.
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    name: `kafka-${i + 1}`,
    kafkaPort: o.kafkaPort + 2 * i,
    controllerPort: o.controllerPort + 2 * i,
    dataDir: join(o.dir, 'data', `kafka-cluster-${count}`, `node-${i + 1}`),
    config: join(p.run, `server-${i + 1}.properties`),
  }));
}

function checkPorts(o: StackOptions, nodes: KafkaNode[]): void {
  const taken = new Map<number, string>();
  const claim = (port: number, what: string) => {
    if (port > 65535)
      throw new StackError(
        `${what} would listen on port ${port}; choose a lower STACK_KAFKA_PORT or STACK_CONTROLLER_PORT.`,
      );
    const other = taken.get(port);
    if (other)
      throw new StackError(
        `${what} and ${other} would both listen on port ${port}: a cluster's node i uses STACK_KAFKA_PORT + 2i and ` +
          'STACK_CONTROLLER_PORT + 2i, so give the two ports an odd distance (the defaults 9092 and 9093 do).',
      );
    taken.set(port, what);
  };
  for (const n of nodes) {
    claim(n.kafkaPort, `${n.name}'s broker`);
    claim(n.controllerPort, `${n.name}'s controller`);
  }
  if ((o.components ?? ['kafka', 'registry']).includes('registry')) claim(o.registryPort, 'the registry');
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
  /** `registry`, or a Kafka node's name (`kafka`, `kafka-2`, ...). */
  component: string;
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
    kafkaBrokers: kafkaNodesOf(o)
      .map((n) => `${o.host}:${n.kafkaPort}`)
      .join(','),
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

function pidFile(o: StackOptions, c: string): string {
  return join(pathsOf(o).run, `${c}.pid`);
}

function readPid(o: StackOptions, c: string): number | null {
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

const registryAnswers = (o: StackOptions): Promise<boolean> =>
  registryAnswersAt(endpointsOf(o).schemaRegistryUrl);

/** The registry at this URL (its Confluent API) lists its subjects within 2 s. */
export async function registryAnswersAt(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/subjects`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok && Array.isArray(await res.json());
  } catch {
    return false;
  }
}

/** The node takes requests and the cluster it sees has every node of the stack as a broker. */
async function kafkaAnswers(o: StackOptions, node: KafkaNode): Promise<boolean> {
  if (!(await portAnswers(o.host, node.kafkaPort))) return false;
  const { Kafka, logLevel } = await import('kafkajs');
  const security = o.secure ? securityOf(o) : undefined;
  const admin = new Kafka({
    brokers: [`${o.host}:${node.kafkaPort}`],
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
    return (await admin.describeCluster()).brokers.length >= kafkaNodesOf(o).length;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function startDetached(o: StackOptions, c: string, command: string, args: string[], cwd: string): number {
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

function plainListeners(o: StackOptions, node: KafkaNode): string[] {
  return [
    `listeners=PLAINTEXT://${o.host}:${node.kafkaPort},CONTROLLER://${o.host}:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${o.host}:${node.kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
  ];
}

/** Clients and brokers on SASL_SSL, the controller on TLS with the broker's certificate; ACLs on, deny by default. */
function securedListeners(o: StackOptions, node: KafkaNode): string[] {
  const security = securityOf(o);
  const dir = tlsDir(o);
  return [
    `listeners=SASL_SSL://${o.host}:${node.kafkaPort},CONTROLLER://${o.host}:${node.controllerPort}`,
    `advertised.listeners=SASL_SSL://${o.host}:${node.kafkaPort}`,
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

/** Copies of internal and new topics, and how many must have a write: 3 and 2 from three nodes, as in production. */
function replicationSettings(o: StackOptions): string[] {
  const factor = Math.min(3, o.brokers ?? 1);
  const isr = Math.max(1, factor - 1);
  return [
    `offsets.topic.replication.factor=${factor}`,
    `transaction.state.log.replication.factor=${factor}`,
    `transaction.state.log.min.isr=${isr}`,
    `default.replication.factor=${factor}`,
    `min.insync.replicas=${isr}`,
  ];
}

function writeKafkaConfig(o: StackOptions, node: KafkaNode): string {
  const p = pathsOf(o);
  mkdirSync(p.run, { recursive: true });
  const voters = kafkaNodesOf(o)
    .map((n) => `${n.id}@${o.host}:${n.controllerPort}`)
    .join(',');
  writeFileSync(
    node.config,
    [
      'process.roles=broker,controller',
      `node.id=${node.id}`,
      `controller.quorum.voters=${voters}`,
      ...(o.secure ? securedListeners(o, node) : plainListeners(o, node)),
      `log.dirs=${node.dataDir}`,
      'num.partitions=1',
      ...replicationSettings(o),
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
  return node.config;
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

/** Kafka's cluster id is a random UUID in URL-safe base64; a cluster's is kept beside its nodes' data so a node formatted later joins. */
function clusterIdOf(o: StackOptions, node: KafkaNode): string {
  if ((o.brokers ?? 1) === 1) return randomClusterId();
  const file = join(dirname(node.dataDir), 'cluster.id');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomClusterId());
  }
  return readFileSync(file, 'utf8').trim();
}

function randomClusterId(): string {
  // As Kafka's Uuid.randomUuid: one starting with '-' would read as an option on StorageTool's command line.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the storage of the nodes that have none, side by side: each is a JVM start. */
async function formatKafkaStorage(o: StackOptions, nodes: KafkaNode[]): Promise<void> {
  const p = pathsOf(o);
  const java = ['-cp', `${p.kafkaLibs}/*`, `-Dlog4j.configuration=file:${join(p.run, 'log4j.properties')}`];
  const fresh = nodes.filter((n) => !existsSync(join(n.dataDir, 'meta.properties')));
  await Promise.all(
    fresh.map(async (node) => {
      const args = ['kafka.tools.StorageTool', 'format', '-t', clusterIdOf(o, node), '-c', node.config];
      const format = spawn(javaCommand(), [...java, ...args, ...scramUsers(o)], { stdio: 'pipe' });
      let stderr = '';
      format.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((done) => format.once('close', done));
      if (code !== 0)
        throw new StackError(`Formatting Kafka storage in ${node.dataDir} failed: ${stderr.slice(-500)}`);
    }),
  );
}

async function assertPortFree(o: StackOptions, port: number, c: string, setting: string): Promise<void> {
  if (await portAnswers(o.host, port)) {
    throw new StackError(
      `Port ${o.host}:${port}, wanted by ${c}, is already taken by a process this stack did not start. ` +
        `Stop that process (\`ss -ltnp 'sport = :${port}'\` shows it) or choose another port with ${setting}.`,
    );
  }
}

async function waitFor(
  o: StackOptions,
  c: string,
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

/** What `up` started, so `status` and `down` find a cluster or a secured broker without being told again. */
interface Layout {
  brokers: number;
  secure: boolean;
}

const layoutFile = (o: StackOptions) => join(pathsOf(o).run, 'layout.json');

/** The Kafka nodes whose pid files name a live process, whatever layout started them. */
function runningKafkaNodes(o: StackOptions): string[] {
  const run = pathsOf(o).run;
  if (!existsSync(run)) return [];
  return readdirSync(run)
    .map((f) => /^(kafka(?:-\d+)?)\.pid$/.exec(f)?.[1])
    .filter((name): name is string => name !== undefined && readPid(o, name) !== null);
}

function assertSameLayout(o: StackOptions, nodes: KafkaNode[]): void {
  const running = runningKafkaNodes(o);
  if (running.length === 0) return;
  const wanted: Layout = { brokers: nodes.length, secure: o.secure !== undefined };
  const file = layoutFile(o);
  const was: Layout = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Layout)
    : { brokers: 1, secure: false };
  const names = new Set(nodes.map((n) => n.name));
  if (running.every((r) => names.has(r)) && was.brokers === wanted.brokers && was.secure === wanted.secure)
    return;
  const describe = (l: Layout) => `${l.brokers} broker(s)${l.secure ? ', secured' : ''}`;
  throw new StackError(
    `This stack's Kafka is running with ${describe(was)} (${running.join(', ')}), not the ${describe(wanted)} asked for. ` +
      'Stop it first with `npm run stack:down`, then start it again with the layout you want.',
  );
}

export interface UpOptions {
  /** Start only these nodes (by id) if they are not running, not the registry; the fault tests restart one broker so. */
  nodes?: number[];
}

/** Starts what is not running, waits until every part answers. Idempotent. Returns what it started. */
export async function stackUp(
  o: StackOptions,
  up: UpOptions = {},
): Promise<{ started: string[]; endpoints: StackEndpoints }> {
  const started: string[] = [];
  const p = pathsOf(o);
  const deadline = () => Date.now() + o.startTimeoutSeconds * 1000;
  const wanted = up.nodes ? ['kafka'] : (o.components ?? ['kafka', 'registry']);
  const nodes = kafkaNodesOf(o);
  checkPorts(o, nodes);
  assertSameLayout(o, nodes);
  const chosen = up.nodes ? nodes.filter((n) => up.nodes!.includes(n.id)) : nodes;
  const down = chosen.filter((n) => readPid(o, n.name) === null);
  let registryPid = wanted.includes('registry') ? readPid(o, 'registry') : -1;
  if (down.length > 0 || registryPid === null) {
    checkJava();
    ensureDownloads(o);
  }
  const pids = new Map(chosen.map((n) => [n.name, readPid(o, n.name) ?? -1]));
  for (const node of down) {
    const which = nodes.length === 1 ? '' : ` (node ${node.id}: port + ${2 * (node.id - 1)})`;
    await assertPortFree(o, node.kafkaPort, node.name, `STACK_KAFKA_PORT${which}`);
    await assertPortFree(o, node.controllerPort, node.name, `STACK_CONTROLLER_PORT${which}`);
    writeKafkaConfig(o, node);
  }
  await formatKafkaStorage(o, down);
  for (const node of down) {
    o.say(
      `Starting Kafka ${KAFKA_VERSION} (KRaft${nodes.length > 1 ? `, node ${node.id} of ${nodes.length}` : ''}) on ${o.host}:${node.kafkaPort}...`,
    );
    const pid = startDetached(
      o,
      node.name,
      javaCommand(),
      [
        '-Xms256m',
        // Three nodes share the machine: each gets less.
        nodes.length > 1 ? '-Xmx512m' : '-Xmx768m',
        ...(o.kafkaJvmOptions ?? []),
        '-cp',
        `${p.kafkaLibs}/*`,
        `-Dlog4j.configuration=file:${join(p.run, 'log4j.properties')}`,
        'kafka.Kafka',
        node.config,
      ],
      p.run,
    );
    pids.set(node.name, pid);
    started.push(node.name);
  }
  if (down.length > 0 && !up.nodes)
    writeFileSync(layoutFile(o), JSON.stringify({ brokers: nodes.length, secure: o.secure !== undefined }));
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
  // A node of a cluster answers only once the quorum is up, so all are started before any is waited for.
  for (const node of chosen)
    await waitFor(o, node.name, pids.get(node.name)!, () => kafkaAnswers(o, node), until);
  if (wanted.includes('registry')) await waitFor(o, 'registry', registryPid, () => registryAnswers(o), until);
  return { started, endpoints: endpointsOf(o) };
}

/** Stops only the processes this stack started (by their pid files, any layout), then waits until they are gone. */
export async function stackDown(o: StackOptions): Promise<string[]> {
  const stopped: string[] = [];
  // The registry first: it may hold connections to Kafka.
  const names = ['registry', ...new Set([...runningKafkaNodes(o), ...kafkaNodesOf(o).map((n) => n.name)])];
  const stopping = names.flatMap((c) => {
    const pid = readPid(o, c);
    rmSync(pidFile(o, c), { force: true });
    if (pid === null) return [];
    process.kill(pid, 'SIGTERM');
    stopped.push(c);
    return [pid];
  });
  // A cluster's nodes stop together: one alone waits for a quorum the others took down with them.
  const deadline = Date.now() + 30_000;
  while (stopping.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  for (const pid of stopping.filter(isAlive)) process.kill(pid, 'SIGKILL');
  rmSync(layoutFile(o), { force: true });
  return stopped;
}

/** Options as the last `up` left them (its broker count and security), for `status` and `down`. */
export function withRunningLayout(o: StackOptions): StackOptions {
  const file = layoutFile(o);
  if (!existsSync(file) || runningKafkaNodes(o).length === 0) return o;
  const layout = JSON.parse(readFileSync(file, 'utf8')) as Layout;
  return {
    ...o,
    brokers: layout.brokers,
    ...(layout.secure ? { secure: o.secure ?? { users: [SECURE_HUB_USER] } } : {}),
  };
}

export async function stackStatus(o: StackOptions): Promise<ComponentStatus[]> {
  const p = pathsOf(o);
  const e = endpointsOf(o);
  const registryPid = readPid(o, 'registry');
  const rows: ComponentStatus[] = [];
  for (const node of kafkaNodesOf(o)) {
    rows.push({
      component: node.name,
      running: readPid(o, node.name) !== null,
      pid: readPid(o, node.name),
      address: `${o.host}:${node.kafkaPort}`,
      answers: await kafkaAnswers(o, node),
      log: join(p.logs, `${node.name}.log`),
    });
  }
  rows.push({
    component: 'registry',
    running: registryPid !== null,
    pid: registryPid,
    address: e.schemaRegistryUrl,
    answers: await registryAnswers(o),
    log: join(p.logs, 'registry.log'),
  });
  return rows;
}

// ---------------------------------------------------------------- CLI

const usage = `Usage: tsx deploy/local/stack.ts <command> [--brokers N] [--secure]

The native local stack (no Docker): Apache Kafka ${KAFKA_VERSION} in KRaft mode and Apicurio Registry ${APICURIO_VERSION},
fetched once from Maven Central into .stack/cache and run with the machine's Java.

Commands:
  up        fetch what is missing, start what is not running, wait until all answer (idempotent)
  down      stop what this stack started (any layout)
  status    say what runs where (the layout the last up started)
  reset     stop, then delete the stack's data and logs (downloads are kept)

Options of up (or their settings):
  --brokers N   STACK_BROKERS  Kafka nodes, each broker and KRaft controller in one process (default: 1).
                               Node i (0-based) listens on STACK_KAFKA_PORT + 2i and STACK_CONTROLLER_PORT + 2i:
                               9092, 9094, 9096 with controllers on 9093, 9095, 9097. From 3 on, internal and new
                               topics keep 3 copies with min.insync.replicas 2; create the hub's topics with
                               KAFKA_TOPIC_PROFILE=production (npm start does so itself).
  --secure      STACK_SECURE   SASL_SSL (SCRAM-SHA-512, TLS with a client certificate) and ACLs, deny by default;
                               makes its CA, certificates and the users admin and ${SECURE_HUB_USER} under .stack/data/tls.

Environment:
${Object.entries(stackSettings)
  .map(
    ([name, s]) =>
      `  ${name.padEnd(22)} ${s.description} (default: ${s.default === '' ? '.stack' : s.default})`,
  )
  .join('\n')}
  JAVA_HOME              The JDK to use, 17 or newer (default: java on PATH)
`;

function parseCommandLine(argv: string[]): {
  command?: string;
  brokers?: string;
  secure: boolean;
  help: boolean;
} {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        brokers: { type: 'string' },
        secure: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (positionals.length > 1)
      throw new StackError(`One command at a time, not "${positionals.join(' ')}".`);
    return {
      ...(positionals[0] !== undefined ? { command: positionals[0] } : {}),
      ...(values.brokers !== undefined ? { brokers: values.brokers } : {}),
      secure: values.secure === true,
      help: values.help === true,
    };
  } catch (error) {
    throw new StackError(`${(error as Error).message}\n\n${usage}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const line = parseCommandLine(argv);
  const command = line.command;
  if (line.help || command === undefined || command === 'help') {
    process.stdout.write(usage);
    return command === undefined && !line.help ? 2 : 0;
  }
  const fromEnv = stackOptionsFromEnv();
  const asked: StackOptions = {
    ...fromEnv,
    ...(line.brokers !== undefined ? { brokers: brokersFrom('--brokers', line.brokers) } : {}),
    ...(line.secure ? { secure: { users: [SECURE_HUB_USER] } } : {}),
  };
  // Without options, status and down follow what is running.
  const o = line.brokers === undefined && !line.secure && command !== 'up' ? withRunningLayout(asked) : asked;
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      const { started, endpoints } = await stackUp(o);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      o.say(
        started.length === 0
          ? 'The stack was already running.'
          : `Started ${started.join(', ')} in ${secs} s.`,
      );
      o.say(`  KAFKA_BROKERS=${endpoints.kafkaBrokers}`);
      o.say(`  SCHEMA_REGISTRY_URL=${endpoints.schemaRegistryUrl}`);
      if (topicProfileOf(o) !== 'local') o.say(`  KAFKA_TOPIC_PROFILE=${topicProfileOf(o)}`);
      if (o.secure) {
        const security = securityOf(o);
        const { KAFKA_SASL_PASSWORD: _, ...settings } = securedClientSettings(security, SECURE_HUB_USER);
        for (const [name, value] of Object.entries(settings)) o.say(`  ${name}=${value}`);
        o.say(
          `  KAFKA_SASL_PASSWORD: the "${SECURE_HUB_USER}" entry of ${join(tlsDir(o), 'users.json')} (admin is the super user)`,
        );
      }
      return 0;
    }
    case 'down': {
      const stopped = await stackDown(o);
      o.say(stopped.length === 0 ? 'Nothing of this stack was running.' : `Stopped ${stopped.join(', ')}.`);
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

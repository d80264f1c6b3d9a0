/**
 * The hub's view of the schema registry: registers every contract under `<topic>-value` with
 * FULL_TRANSITIVE compatibility, encodes with the registered id, and decodes any Confluent-framed message
 * into the topic's contract, telling apart bytes that are broken from a registry that is away.
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { type Contract, contractFor, contracts, subjectOf } from '../contracts/catalogue.ts';
import { logicalTypes } from '../contracts/logicalTypes.ts';
import { describeViolations, LONG_LIMIT, refusalIn, violationsOf } from '../contracts/validity.ts';
import { ContractViolation, PermanentError, TransientError } from './errors.ts';

const MAGIC_BYTE = 0;

/** Where a consumed message sits in its topic. */
export interface MessageAt {
  partition: number;
  offset: string;
}

/**
 * How many decoded messages a process keeps for its other consumers of the same message. About five groups of one hub
 * read the event log and four its state; at the end of the log (the live flow) they read each message within
 * milliseconds of each other, and each decoded and checked it again.
 */
const DECODED_KEPT = 4_096;

/**
 * A message this close to its partition's end is offered to be shared. Readers catching up on a long log drift apart
 * (1% of a 200,000-event rebuild was shared), and there keeping and freezing every value made the rebuild slower.
 */
const SHARED_NEAR_END = 1_000n;

/** Where a consumed message sits, if near enough its partition's end that another reader may read it too. */
export function placeToShare(
  batch: { partition: number; highWatermark: string },
  offset: string,
): MessageAt | undefined {
  return BigInt(batch.highWatermark) - BigInt(offset) <= SHARED_NEAR_END
    ? { partition: batch.partition, offset }
    : undefined;
}

interface Decoded {
  bytes: Buffer;
  schemaId: number;
  value: unknown;
}

/** Registry credentials: basic auth, or a bearer token. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  token?: string;
}

const authorizationOf = (auth: RegistryAuth): string | undefined =>
  auth.token
    ? `Bearer ${auth.token}`
    : auth.username
      ? `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`
      : undefined;

/** The registry credentials the settings give. */
export const registryAuthOf = (config: {
  SCHEMA_REGISTRY_USERNAME: string;
  SCHEMA_REGISTRY_PASSWORD: string;
  SCHEMA_REGISTRY_TOKEN: string;
}): RegistryAuth => ({
  ...(config.SCHEMA_REGISTRY_USERNAME
    ? { username: config.SCHEMA_REGISTRY_USERNAME, password: config.SCHEMA_REGISTRY_PASSWORD }
    : {}),
  ...(config.SCHEMA_REGISTRY_TOKEN ? { token: config.SCHEMA_REGISTRY_TOKEN } : {}),
});

export class ContractRegistry {
  readonly client: SchemaRegistry;
  private readonly ids = new Map<string, Promise<number>>();
  private readonly resolvers = new Map<string, avro.Resolver | ContractViolation>();
  /** Decoded messages by topic, partition and offset, oldest first; shared only with a reader of the same bytes. */
  private readonly decoded = new Map<string, Decoded>();
  /** Decodes answered from `decoded` and decodes done (bench:e2e and bench:rebuild print them). */
  readonly decodes = { shared: 0, done: 0 };
  /** Physical topic -> the declared topic whose contract it carries (tests and prefixed deployments). */
  private readonly aliases = new Map<string, string>();

  /** The `Authorization` header value the registry is sent, if any (for the hub's own readiness probe too). */
  readonly authorization: string | undefined;

  constructor(
    readonly url: string,
    auth: RegistryAuth = {},
  ) {
    this.authorization = authorizationOf(auth);
    const bearer = auth.token;
    this.client = new SchemaRegistry(
      {
        host: url,
        retry: { retries: 2 },
        ...(auth.username ? { auth: { username: auth.username, password: auth.password ?? '' } } : {}),
        // Bearer tokens: the client has basic auth only, so the header is added by a request middleware.
        ...(bearer
          ? {
              middlewares: [
                () => ({
                  prepareRequest: (next: () => Promise<{ enhance: (o: object) => unknown }>) =>
                    next().then((request) =>
                      request.enhance({ headers: { authorization: `Bearer ${bearer}` } }),
                    ),
                }),
              ] as never,
            }
          : {}),
      },
      { [SchemaType.AVRO]: { logicalTypes } as never },
    );
  }

  /** Lets `physicalTopic` carry the contract declared for `declaredTopic`; its subject is `<physicalTopic>-value`. */
  alias(physicalTopic: string, declaredTopic: string): this {
    contractFor(declaredTopic);
    this.aliases.set(physicalTopic, declaredTopic);
    return this;
  }

  contractOf(topic: string): Contract {
    return contractFor(this.aliases.get(topic) ?? topic);
  }

  /** Registers the contract of each topic (all by default); idempotent: an unchanged schema keeps its id. */
  async registerAll(topicNames: string[] = [...contracts().keys()]): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (const topic of topicNames) ids.set(topic, await this.register(topic));
    return ids;
  }

  /**
   * One registration per topic at a time: Apicurio, unlike Confluent, refuses a second concurrent
   * `PUT /config/{subject}` for a new subject ("A rule named 'COMPATIBILITY' already exists").
   */
  register(topic: string): Promise<number> {
    const pending = this.client
      .register(
        { type: SchemaType.AVRO, schema: JSON.stringify(this.contractOf(topic).schema) },
        { subject: subjectOf(topic), compatibility: COMPATIBILITY.FULL_TRANSITIVE },
      )
      .then(({ id }) => id);
    this.ids.set(topic, pending);
    pending.catch(() => this.ids.delete(topic));
    return pending;
  }

  idFor(topic: string): Promise<number> {
    return (this.ids.get(topic) ?? this.register(topic)).catch((error: unknown) => {
      const status = (error as { status?: number }).status;
      // 409/422: the registry refuses the contract itself, which no retry mends.
      if (status === 409 || status === 422) throw error;
      throw registryAway(error);
    });
  }

  /**
   * Why `value` cannot go to `topic` (its contract's shape or limits), or null: for writers that must leave
   * out the one record they cannot send and go on with the rest.
   */
  refusalOf(topic: string, value: unknown): ContractViolation | null {
    const refusal = refusalIn(this.contractOf(topic), value);
    return refusal ? new ContractViolation(topic, refusal.paths, refusal.detail) : null;
  }

  /** Validates against the contract, then frames: magic byte 0, 4-byte schema id, Avro body. */
  async encode(topic: string, value: unknown): Promise<Buffer> {
    const refusal = this.refusalOf(topic, value);
    if (refusal) throw refusal;
    const contract = this.contractOf(topic);
    const id = await this.idFor(topic);
    const body = contract.type.toBuffer(value);
    const header = Buffer.alloc(5);
    header.writeUInt8(MAGIC_BYTE, 0);
    header.writeInt32BE(id, 1);
    return Buffer.concat([header, body]);
  }

  /**
   * Decodes into the topic's contract. Throws PermanentError (UNDECODABLE, UNKNOWN_SCHEMA,
   * CONTRACT_VIOLATION) for what no retry can mend; any other error means the registry was not reachable.
   *
   * Given where the message sits (`at`, see `placeToShare`), the value is shared with every other reader of the same bytes
   * at the same place in this process, so it is frozen: a reader that wants to change it makes its own copy.
   */
  async decode<T>(
    topic: string,
    bytes: Buffer | null,
    at?: MessageAt,
  ): Promise<{ schemaId: number; value: T }> {
    const key = at && bytes ? `${topic}\u0000${at.partition}\u0000${at.offset}` : undefined;
    if (key !== undefined) {
      const kept = this.decoded.get(key);
      // The same bytes: a topic deleted and made again (tests) reuses offsets, never the bytes as well.
      if (kept && bytes!.equals(kept.bytes)) {
        this.decodes.shared++;
        return { schemaId: kept.schemaId, value: kept.value as T };
      }
    }
    const decoded = await this.decodeAnew<T>(topic, bytes);
    this.decodes.done++;
    if (key !== undefined) {
      deepFreeze(decoded.value);
      // A copy: the message's bytes are a slice of the whole fetch response, which they would keep alive.
      this.decoded.set(key, { bytes: Buffer.from(bytes!), schemaId: decoded.schemaId, value: decoded.value });
      if (this.decoded.size > DECODED_KEPT) this.decoded.delete(this.decoded.keys().next().value!);
    }
    return decoded;
  }

  private async decodeAnew<T>(topic: string, bytes: Buffer | null): Promise<{ schemaId: number; value: T }> {
    if (!bytes || bytes.length < 5 || bytes.readUInt8(0) !== MAGIC_BYTE) {
      throw new PermanentError(
        'UNDECODABLE',
        bytes === null
          ? 'the message has no value'
          : `not Confluent-framed Avro: ${bytes.length < 5 ? `only ${bytes.length} bytes` : `magic byte ${bytes.readUInt8(0)}, expected 0`}`,
      );
    }
    const schemaId = bytes.readInt32BE(1);
    const contract = this.contractOf(topic);
    const resolver = await this.resolverFor(topic, contract, schemaId);
    let value: T;
    try {
      value = contract.type.fromBuffer(bytes.subarray(5), resolver) as T;
    } catch (error) {
      const message = (error as Error).message;
      // avsc reads no long past its safe range, before any field is known: say which fields could be it.
      const hint = /precision loss/.test(message)
        ? ` (a long field, such as sourceSequence, is beyond ±${LONG_LIMIT})`
        : '';
      throw new PermanentError(
        'UNDECODABLE',
        `the Avro body does not decode with schema ${schemaId}: ${message}${hint}`,
      );
    }
    // A writer that skipped our producer (straight to Kafka) is held to the same definition of valid.
    const violations = violationsOf(contract.schema, value);
    if (violations.length > 0)
      throw new ContractViolation(
        topic,
        [...new Set(violations.map((v) => v.path))],
        describeViolations(violations),
      );
    return { schemaId, value };
  }

  private async resolverFor(topic: string, contract: Contract, schemaId: number): Promise<avro.Resolver> {
    const key = `${topic}#${schemaId}`;
    let cached = this.resolvers.get(key);
    if (!cached) {
      let writer: avro.Type;
      try {
        writer = (await this.client.getSchema(schemaId)) as unknown as avro.Type;
      } catch (error) {
        if (isNotFound(error))
          throw new PermanentError('UNKNOWN_SCHEMA', `schema id ${schemaId} is not in the registry`);
        throw registryAway(error);
      }
      try {
        cached = contract.type.createResolver(writer);
      } catch (error) {
        cached = new ContractViolation(
          topic,
          [],
          `written with schema ${schemaId} (${(writer as { name?: string }).name ?? 'unnamed'}), which the contract cannot read: ${(error as Error).message}`,
        );
      }
      this.resolvers.set(key, cached);
    }
    if (cached instanceof ContractViolation) throw cached;
    return cached;
  }
}

/** Freezes a decoded value and everything in it (records, arrays and maps of plain values). */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value) || Object.isFrozen(value))
    return;
  Object.freeze(value);
  for (const inner of Array.isArray(value) ? value : Object.values(value)) deepFreeze(inner);
}

/** The registry did not answer (its client reports a refused connection as "status 400"): try again later. */
function registryAway(error: unknown): TransientError {
  return new TransientError(`the schema registry did not answer: ${(error as Error).message}`);
}

function isNotFound(error: unknown): boolean {
  const e = error as { status?: number; message?: string };
  return e?.status === 404 || /\b404\b|40403|not found/i.test(e?.message ?? '');
}

/**
 * The backbone's first proof: an Avro schema registered in the real registry, a Confluent-framed message
 * (magic byte 0, 4-byte schema id, Avro body) produced with kafkajs to the real broker, consumed back and
 * decoded through the registry.
 */
import { randomUUID } from 'node:crypto';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const schema = {
  type: 'record',
  name: 'BackbonePing',
  namespace: 'no.nyemetoder.test',
  fields: [
    { name: 'methodId', type: 'string' },
    { name: 'note', type: 'string' },
  ],
};

describe('Kafka and schema registry round trip', () => {
  const kafka = new Kafka({ brokers: [inject('kafkaBrokers')], logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: inject('schemaRegistryUrl') });
  const topic = `test.backbone.${randomUUID()}`;
  const subject = `${topic}-value`;
  const admin = kafka.admin();

  beforeAll(async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('registers a schema with FULL_TRANSITIVE compatibility and finds it by subject', async () => {
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject, compatibility: COMPATIBILITY.FULL_TRANSITIVE },
    );
    expect(id).toBeGreaterThan(0);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    const config = await fetch(`${inject('schemaRegistryUrl')}/config/${encodeURIComponent(subject)}`);
    expect(await config.json()).toMatchObject({ compatibilityLevel: 'FULL_TRANSITIVE' });
  });

  it('produces a Confluent-framed message and decodes it back through the registry', async () => {
    const id = await registry.getLatestSchemaId(subject);
    const payload = { methodId: 'ID2024_001', note: 'Blåbærsyltetøy og ærfugl' };
    const value = await registry.encode(id, payload);
    expect(value[0]).toBe(0);
    expect(value.readInt32BE(1)).toBe(id);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: payload.methodId, value }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: unknown }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve({ key: String(message.key), value: await registry.decode(message.value as Buffer) });
        },
      });
    });
    await consumer.disconnect();
    expect(received).toEqual({ key: 'ID2024_001', value: payload });
  });

  it('refuses a schema change that breaks FULL_TRANSITIVE compatibility', async () => {
    const breaking = { ...schema, fields: [...schema.fields, { name: 'required', type: 'int' }] };
    await expect(
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(breaking) }, { subject }),
    ).rejects.toThrow(/409|incompatible|compatib/i);
  });
});

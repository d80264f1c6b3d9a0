/**
 * A Confluent-compatible client that knows only the broker address and the registry URL (no metodehub code,
 * no local schema) reads a value of every declared contract, as the hub wrote it.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { TopicValues } from '../../contracts/generated/types.ts';
import { topics } from '../../contracts/topics.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import type { TopicName } from '../../core/bus/producer.ts';
import { methodEvent } from '../../core/lifecycle/eventBuilder.ts';
import { applyEvent } from '../../core/lifecycle/applyEvent.ts';
import { medicineDetails } from '../../core/demo/fixtures.ts';
import { createTopics, deleteTopics, readTopic, testBus, testKafka, uniqueName } from '../support/kafka.ts';

const now = '2026-11-22T10:00:00.000Z';
const registration = methodEvent(
  'METHOD_REGISTERED',
  'ID2024_010',
  { details: medicineDetails() },
  { occurredAt: now },
);
const state = applyEvent(undefined, registration);

const samples: { [T in TopicName]: TopicValues[T] } = {
  'nyemetoder.method-events.v1': registration,
  'nyemetoder.method-state.v1': state.ok ? state.value : (undefined as never),
  'slv.case-updates.v1': {
    changeId: 'c1',
    methodId: 'ID2024_010',
    slvCaseId: '3f2b6a1e-0000-4000-8000-000000000001',
    kind: 'CLOCK_STOPPED',
    changedAt: now,
    slvStatus: 'Klokken stoppet',
    text: null,
    absoluteDeadline: null,
    effectiveOn: '2026-11-21',
    reportUrl: null,
    originEventId: null,
  },
  'fest.vilkar.v1': {
    vilkarId: 'NM-ID2024_010',
    methodId: 'ID2024_010',
    catalogueVersion: 1,
    withdrawn: false,
    statusCode: 'UNDER_VURDERING',
    statusText: 'Under vurdering',
    text: 'Skal ikke startes hos nye pasienter før beslutning i Beslutningsforum',
    validFrom: '2024-01-15',
    validTo: null,
    substances: ['pembrolizumab'],
    atcCodes: ['L01FF02'],
    indication: null,
    link: null,
    changedAt: now,
    entryId: 'ID_8900C2B1-2E56-4E61-B241-233A7EEC22F5',
    earlierEntries: [],
    vilkarNr: 1,
  },
  'hdir.guideline-flags.v1': {
    flagId: 'ID2024_010/HP-LUNGE',
    methodId: 'ID2024_010',
    guidelineId: 'HP-LUNGE',
    origin: 'EXPLICIT',
    ruleId: null,
    active: true,
    trigger: 'METHOD_REGISTERED',
    implementationStatus: 'NOT_STARTED',
    implementationStatusOn: null,
    changedAt: now,
    change: 'FLAGGED',
    causeEventId: null,
    methodName: null,
    decisionOutcome: null,
    decidedOn: null,
    reassessBy: null,
    assessmentUrl: null,
    publicPriceNoteUrl: null,
    statusNote: null,
    reportedBy: null,
  },
  'financing.drug-decisions.v1': {
    recordId: 'r1',
    supersedes: null,
    methodId: 'ID2024_010',
    atcCode: 'L01FF02',
    substance: 'pembrolizumab',
    outcome: 'INTRODUCED',
    decidedOn: '2026-10-20',
    effectiveFrom: '2026-11-01',
    hPrescription: false,
    indication: null,
    assessmentUrl: null,
    estimatedPatientsPerYear: null,
    publishedAt: now,
    change: 'DECISION',
    subGroup: null,
    sourceEventId: null,
  },
  'eu.jca-notifications.v1': {
    procedureId: 'JCA-2025-0001',
    procedureVersion: 1,
    milestone: 'SCOPING_STARTED',
    milestoneOn: '2025-03-01',
    outOfOrder: false,
    inn: 'pembrolizumab',
    atcCode: 'L01FF02',
    technologyType: 'MEDICINE',
    indication: 'Urotelialt karsinom',
    picos: [],
    assessor: 'DE',
    coAssessor: 'NO',
    documentUrls: [],
    linkedMethodIds: [],
    nationalComplementNeeded: [],
    receivedAt: now,
    linkOutcome: 'NOT_LINKED',
    linkCandidates: [],
    schemaVersion: null,
    dates: null,
  },
  'ops.dead-letter-audit.v1': {
    entryId: 'nyemetoder.method-events.v1.dlq:0:17',
    deadLetterTopic: 'nyemetoder.method-events.v1.dlq',
    partition: 0,
    offset: '17',
    action: 'REDRIVEN',
    actor: 'driftsvakt-åse',
    note: 'Regelen for løp D er rettet',
    at: now,
    sourceTopic: 'nyemetoder.method-events.v1',
    redrivenOffset: '2:311',
    errorClass: 'DOMAIN_RULE',
    reason: 'ILLEGAL_TRANSITION: ID2024_010 DECIDED -> HORIZON_SCANNING',
  },
  'subscriptions.subscriptions.v1': {
    subscriptionId: '6f1c2b1e-0000-4000-8000-000000000001',
    active: true,
    topicKind: 'ATC_GROUP',
    topicValue: 'L01F',
    channel: 'EMAIL',
    email: 'fagdirektør@helse-nord.no',
    webhookUrl: null,
    digestEveryMinutes: 1440,
    createdAt: now,
    createdBy: 'saksbehandler-øyvind',
    endedAt: null,
    endedBy: null,
  },
  'subscriptions.deliveries.v1': {
    deliveryKey: '6f1c2b1e-0000-4000-8000-000000000001/e1',
    subscriptionId: '6f1c2b1e-0000-4000-8000-000000000001',
    changeId: 'e1',
    methodId: 'ID2024_010',
    state: 'QUEUED',
    methodName: 'Nivolumab til behandling av føflekkreft',
    status: 'PROPOSAL_RECEIVED',
    methodVersion: 1,
    changedAt: now,
    digestId: null,
    reason: null,
    at: now,
  },
  'slv.inbound-state.v1': {
    kind: 'CASE',
    deltaLink: null,
    slvCaseId: '3f2b8c1e-0000-4000-8000-000000000001',
    eventId: null,
    snapshot: {
      methodId: 'ID2024_010',
      status: 'Under vurdering',
      statusReason: null,
      name: 'Nivolumab til behandling av føflekkreft',
      reportUrl: null,
      absoluteDeadline: null,
      version: 7,
      ownEventId: null,
    },
    savedAt: now,
  },
  'fest.vendor-webhooks.v1': {
    vendor: 'vendor-a',
    url: 'https://vendor-a.example/fest/deltas',
    secretCiphertext: 'v1.aXY.dGFn.Y2lwaGVy',
    cursor: 3,
    registeredAt: now,
    lastDeliveredAt: null,
    failures: 0,
    lastError: null,
  },
  'metodehub.leadership.v1': {
    role: 'case-events',
    instance: 'hub-a-4242',
    url: 'http://10.0.0.5:8080',
    since: now,
  },
};

const kafka = testKafka();
const { registry, producer } = testBus(kafka);
const created: string[] = [];
afterAll(async () => {
  await producer.disconnect();
  await deleteTopics(kafka, created);
});

describe('every canonical topic is readable by a plain Confluent client', () => {
  it.each(topics.map((t) => t.name as TopicName))('%s', async (declared) => {
    const topic = uniqueName(`test.${declared}`);
    created.push(topic);
    registry.alias(topic, declared);
    await createTopics(kafka, [topic]);
    await producer.send(
      declared,
      [
        {
          key: 'k',
          value: samples[declared],
          headers: newHeaders({ source: '/test', type: `test.${declared}` }),
        },
      ],
      { to: topic },
    );
    const [message] = await readTopic(kafka, topic, 1);
    const plain = new SchemaRegistry({ host: inject('schemaRegistryUrl') });
    const decoded = (await plain.decode(message!.value!)) as Record<string, unknown>;
    // Without our logical types, dates arrive as day numbers and instants as epoch milliseconds.
    const firstKey = Object.keys(samples[declared])[0]!;
    expect(decoded[firstKey]).toEqual((samples[declared] as unknown as Record<string, unknown>)[firstKey]);
    // Asked by name: a registry's subject list is paged (Apicurio answers the first 1,000).
    const versions = await fetch(`${inject('schemaRegistryUrl')}/subjects/${topic}-value/versions`);
    expect(versions.status).toBe(200);
    expect(((await versions.json()) as number[]).length).toBeGreaterThan(0);
  });
});

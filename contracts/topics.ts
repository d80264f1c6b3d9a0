/**
 * Every topic the hub owns, declared once: its contract, key, partitioning, retention, and who produces and
 * consumes it. `topics:apply` creates topics from this list; the AsyncAPI documents are generated from it. Producers and
 * consumers are the hub's components; test/integration/flow-declaration.test.ts fails when they differ from the
 * components' declared flows, or those from what a running hub reads.
 */

/**
 * Every declared topic's name, for code to name topics by: `Topics.methodEvents`, never a string literal, so a
 * renamed or removed topic fails the typecheck wherever it is read or written.
 */
export const Topics = {
  methodEvents: 'nyemetoder.method-events.v1',
  methodState: 'nyemetoder.method-state.v1',
  slvCaseUpdates: 'slv.case-updates.v1',
  festVilkar: 'fest.vilkar.v1',
  hdirGuidelineFlags: 'hdir.guideline-flags.v1',
  financingDrugDecisions: 'financing.drug-decisions.v1',
  jcaNotifications: 'eu.jca-notifications.v1',
  subscriptions: 'subscriptions.subscriptions.v1',
  subscriptionDeliveries: 'subscriptions.deliveries.v1',
  slvInboundState: 'slv.inbound-state.v1',
  festVendorWebhooks: 'fest.vendor-webhooks.v1',
  deadLetterAudit: 'ops.dead-letter-audit.v1',
  leadership: 'metodehub.leadership.v1',
} as const;

/** The name of a topic declared below. */
export type DeclaredTopic = (typeof Topics)[keyof typeof Topics];

export interface TopicDeclaration {
  /** The Kafka topic name (one of `Topics`). */
  name: string;
  /** The value contract: a file in contracts/avro/, registered under the subject `<name>-value`. */
  valueSchema: string;
  /** What the string key holds. */
  key: string;
  description: string;
  partitions: number;
  /** Kafka topic configuration (cleanup.policy, retention.ms, ...). */
  config: Record<string, string>;
  /** The hub's components that write it, by name (api, projection, an adapter): checked against their declared flows. */
  producers: string[];
  /** The hub's components that read it, by name: checked against their declared flows. */
  consumers: string[];
  /** Systems outside the hub that read the topic from Kafka themselves. */
  readersOutsideTheHub?: string[];
  /** Replication per profile where this topic needs other than the profile's default. */
  replication?: Partial<Record<TopicProfile, Replication>>;
}

/** How many copies of each partition the cluster keeps, and how many must have a write before it is acknowledged. */
export interface Replication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/**
 * The environment profiles `topics:apply` creates topics with (KAFKA_TOPIC_PROFILE): production keeps three copies
 * and acknowledges a write (acks=all) once two have it, so one broker may fail without losing or refusing a write.
 */
export const replicationProfiles = {
  local: { replicationFactor: 1, minInsyncReplicas: 1 },
  production: { replicationFactor: 3, minInsyncReplicas: 2 },
} as const satisfies Record<string, Replication>;

export type TopicProfile = keyof typeof replicationProfiles;

export const replicationOf = (
  topic: Pick<TopicDeclaration, 'replication'>,
  profile: TopicProfile,
): Replication => topic.replication?.[profile] ?? replicationProfiles[profile];

const keptForever = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };
const compacted = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' };
const oneYear = { 'cleanup.policy': 'delete', 'retention.ms': String(365 * 24 * 3600 * 1000) };

export const topics: TopicDeclaration[] = [
  {
    name: Topics.methodEvents,
    valueSchema: 'nyemetoder.method-events.v1.avsc',
    key: 'methodId (ID2019_074): one method, one partition, so its events stay in order',
    description:
      'Every lifecycle event of every method: the system of record the hub folds all state from. Kept forever.',
    partitions: 6,
    config: keptForever,
    producers: ['api', 'slv', 'eu-jca'],
    consumers: ['api', 'projection', 'slv', 'hdir', 'financing', 'eu-jca'],
  },
  {
    name: Topics.methodState,
    valueSchema: 'nyemetoder.method-state.v1.avsc',
    key: 'methodId',
    description: 'The current state of each method; compacted, so the latest record per method is the truth.',
    partitions: 6,
    config: compacted,
    producers: ['projection'],
    consumers: ['projection', 'hdir', 'fest', 'subscriptions'],
    readersOutsideTheHub: ['agency systems'],
  },
  {
    name: Topics.slvCaseUpdates,
    valueSchema: 'slv.case-updates.v1.avsc',
    key: 'methodId',
    description:
      "Changes read from SLV's case platform (Dynamics 365 change tracking), before they become method events.",
    partitions: 3,
    config: oneYear,
    producers: ['slv'],
    consumers: ['slv'],
  },
  {
    name: Topics.festVilkar,
    valueSchema: 'fest.vilkar.v1.avsc',
    key: 'vilkarId',
    description: 'Prescriber-facing Nye metoder status per medicine method, as FEST conditions; compacted.',
    partitions: 3,
    config: compacted,
    producers: ['fest'],
    consumers: ['fest'],
  },
  {
    name: Topics.hdirGuidelineFlags,
    valueSchema: 'hdir.guideline-flags.v1.avsc',
    key: 'methodId',
    description:
      'Methods flagged as relevant to national guidelines and cancer programmes, and their implementation status.',
    partitions: 3,
    config: keptForever,
    producers: ['hdir'],
    consumers: ['hdir'],
  },
  {
    name: Topics.financingDrugDecisions,
    valueSchema: 'financing.drug-decisions.v1.avsc',
    key: 'methodId',
    description:
      'Medicine decisions with ATC code and H-prescription flag for the financing schemes; corrections supersede.',
    partitions: 3,
    config: keptForever,
    producers: ['financing'],
    consumers: ['financing'],
    readersOutsideTheHub: ['financing schemes'],
  },
  {
    name: Topics.jcaNotifications,
    valueSchema: 'eu.jca-notifications.v1.avsc',
    key: 'procedureId',
    description: 'EU HTA Joint Clinical Assessment milestones, linked to national methods.',
    partitions: 3,
    config: keptForever,
    producers: ['eu-jca'],
    consumers: ['eu-jca'],
    readersOutsideTheHub: ['case system'],
  },
  {
    name: Topics.subscriptions,
    valueSchema: 'subscriptions.subscriptions.v1.avsc',
    key: 'subscriptionId',
    description:
      'Who is subscribed to changes of which method, specialty or ATC group, by e-mail or webhook; compacted.',
    partitions: 1,
    config: compacted,
    producers: ['subscriptions'],
    consumers: ['subscriptions'],
  },
  {
    name: Topics.subscriptionDeliveries,
    valueSchema: 'subscriptions.deliveries.v1.avsc',
    key: 'deliveryKey (subscriptionId/changeId)',
    description:
      'Each change told (or queued for a digest) to each subscriber: a resend or restart never tells it twice; compacted.',
    partitions: 3,
    config: compacted,
    producers: ['subscriptions'],
    consumers: ['subscriptions'],
  },
  {
    name: Topics.slvInboundState,
    valueSchema: 'slv.inbound-state.v1.avsc',
    key: 'delta-link, case:<slvCaseId> or write:<methodId>',
    description:
      "The SLV (DMP) adapter's inbound state: change-tracking delta link, last snapshot of each case, writes in flight; compacted, read back at start.",
    partitions: 1,
    config: compacted,
    producers: ['slv'],
    consumers: ['slv'],
  },
  {
    name: Topics.festVendorWebhooks,
    valueSchema: 'fest.vendor-webhooks.v1.avsc',
    key: 'vendor (token subject)',
    description:
      "Vendors' FEST webhooks with their push cursors and encrypted signing secrets; compacted, read back at start.",
    partitions: 1,
    config: compacted,
    producers: ['fest'],
    consumers: ['fest'],
  },
  {
    name: Topics.leadership,
    valueSchema: 'metodehub.leadership.v1.avsc',
    key: 'role (slv, fest, case-events)',
    description:
      "Coordination of work that runs once at a time: each role's consumer group on this one-partition topic makes the member owning partition 0 the role's leader (core/bus/leadership.ts); each takeover is recorded here; compacted.",
    partitions: 1,
    config: compacted,
    // Each instance's leadership group per role, and the takeover it records.
    producers: ['api', 'fest', 'slv'],
    consumers: ['api', 'fest', 'slv'],
  },
  {
    name: Topics.deadLetterAudit,
    valueSchema: 'ops.dead-letter-audit.v1.avsc',
    key: 'entryId (<dlq topic>:<partition>:<offset>)',
    description:
      'What operators did with dead letters (redriven, discarded), by whom and why: the audit trail. Kept forever.',
    partitions: 1,
    config: keptForever,
    producers: ['ops'],
    consumers: ['ops'],
  },
];

/** Every consumed topic has a dead-letter topic beside it: `<topic>.dlq`, kept a year. */
export const dlqTopicOf = (topic: string): string => `${topic}.dlq`;
export const dlqConfig = oneYear;

export function topicNamed(name: string): TopicDeclaration {
  const topic = topics.find((t) => t.name === name);
  if (!topic) throw new Error(`UNKNOWN_TOPIC: ${name} is not declared in contracts/topics.ts`);
  return topic;
}

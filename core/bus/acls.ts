/**
 * The Kafka ACLs each component needs, derived from its declared flow (what it reads and writes) and the hub's
 * naming of groups and transactional ids: what a principal gets is what its flow says, nothing more.
 */
import kafkajs, { type AclEntry, type Kafka } from 'kafkajs';
import { dlqTopicOf, Topics } from '../../contracts/topics.ts';
import type { AdapterFlow } from '../hub/component.ts';
import { LEADERSHIP_TOPIC } from './leadership.ts';

// CommonJS: the enums are values on the default export under ESM.
const {
  AclOperationTypes: Op,
  AclPermissionTypes,
  AclResourceTypes: Res,
  ResourcePatternTypes: Pattern,
} = kafkajs;

export interface FlowComponent {
  name: string;
  flow: AdapterFlow;
  /** Its consumer groups' name after the prefix, where it differs from its name (the projection's is method-state). */
  groupName?: string;
}

export interface AclPlan {
  principal: string;
  component: string;
  acls: AclEntry[];
}

export interface AclOptions {
  /** The hub's group prefix (metodehub). */
  groupPrefix: string;
  /** The physical name of a declared topic. */
  topic: (declared: string) => string;
}

const allow = (
  principal: string,
  resourceType: number,
  resourceName: string,
  operation: number,
  prefixed = false,
): AclEntry => ({
  principal: `User:${principal}`,
  host: '*',
  resourceType,
  resourceName,
  resourcePatternType: prefixed ? Pattern.PREFIXED : Pattern.LITERAL,
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

/** What one component running as `principal` needs: its topics, its dead letters, its groups, its transactions. */
export function aclsFor(component: FlowComponent, principal: string, options: AclOptions): AclEntry[] {
  const acls: AclEntry[] = [];
  for (const declared of component.flow.consumes) {
    const topic = options.topic(declared);
    acls.push(allow(principal, Res.TOPIC, topic, Op.READ), allow(principal, Res.TOPIC, topic, Op.DESCRIBE));
    // A consumer parks what it cannot handle beside the topic.
    acls.push(
      allow(principal, Res.TOPIC, dlqTopicOf(topic), Op.WRITE),
      allow(principal, Res.TOPIC, dlqTopicOf(topic), Op.DESCRIBE),
    );
  }
  for (const declared of component.flow.produces) {
    const topic = options.topic(declared);
    acls.push(allow(principal, Res.TOPIC, topic, Op.WRITE), allow(principal, Res.TOPIC, topic, Op.DESCRIBE));
  }
  if ((component.flow.leads ?? []).length > 0) acls.push(...leadershipAcls(principal, options));
  const own = `${options.groupPrefix}.${component.groupName ?? component.name}`;
  acls.push(
    allow(principal, Res.GROUP, own, Op.READ, true),
    // Followers and snapshots read with throw-away groups of their own.
    allow(principal, Res.GROUP, 'metodehub.follow.', Op.READ, true),
    allow(principal, Res.GROUP, 'metodehub.snapshot.', Op.READ, true),
    // An adapter with its own principal writes in transactions named after its group (hub.ts).
    allow(principal, Res.TRANSACTIONAL_ID, `${own}.`, Op.WRITE, true),
    allow(principal, Res.TRANSACTIONAL_ID, `${own}.`, Op.DESCRIBE, true),
    allow(principal, Res.CLUSTER, 'kafka-cluster', Op.IDEMPOTENT_WRITE),
  );
  return dedupe(acls);
}

/**
 * What the hub's own principal needs: every component that runs without a principal of its own, the ingress's
 * transactions, and the operations views (dead letters, audit, offsets and lag of every group).
 */
export function hubAcls(principal: string, components: FlowComponent[], options: AclOptions): AclEntry[] {
  const acls = components.flatMap((c) => aclsFor(c, principal, options));
  const declared = new Set(components.flatMap((c) => [...c.flow.consumes, ...c.flow.produces]));
  for (const name of declared) {
    const dlq = dlqTopicOf(options.topic(name));
    acls.push(
      allow(principal, Res.TOPIC, options.topic(name), Op.DESCRIBE),
      allow(principal, Res.TOPIC, dlq, Op.READ),
      allow(principal, Res.TOPIC, dlq, Op.WRITE),
      allow(principal, Res.TOPIC, dlq, Op.DESCRIBE),
    );
  }
  // The hub's own principal leads case-event judgement (the ingress).
  acls.push(...leadershipAcls(principal, options));
  const audit = options.topic(Topics.deadLetterAudit);
  acls.push(
    allow(principal, Res.TOPIC, audit, Op.READ),
    allow(principal, Res.TOPIC, audit, Op.WRITE),
    allow(principal, Res.TOPIC, audit, Op.DESCRIBE),
    allow(principal, Res.GROUP, options.groupPrefix, Op.DESCRIBE, true),
    allow(principal, Res.GROUP, options.groupPrefix, Op.READ, true),
    allow(principal, Res.TRANSACTIONAL_ID, 'metodehub', Op.WRITE, true),
    allow(principal, Res.TRANSACTIONAL_ID, 'metodehub', Op.DESCRIBE, true),
  );
  return dedupe(acls);
}

/** The coordination topic: joined (read) by each role's group, written with each takeover (its groups are the component's own). */
function leadershipAcls(principal: string, options: AclOptions): AclEntry[] {
  const topic = options.topic(LEADERSHIP_TOPIC);
  return [Op.READ, Op.WRITE, Op.DESCRIBE].map((op) => allow(principal, Res.TOPIC, topic, op));
}

const keyOf = (a: AclEntry) =>
  `${a.principal}|${a.resourceType}|${a.resourceName}|${a.resourcePatternType}|${a.operation}`;

function dedupe(acls: AclEntry[]): AclEntry[] {
  return [...new Map(acls.map((a) => [keyOf(a), a])).values()];
}

const opName = (op: number) => Object.entries(Op).find(([, v]) => v === op)?.[0] ?? String(op);
const resName = (r: number) => Object.entries(Res).find(([, v]) => v === r)?.[0] ?? String(r);

/** One line per ACL in the words of Kafka's own `kafka-acls.sh`, for a reviewer or an operator without the CLI. */
export function describeAcl(a: AclEntry): string {
  const pattern = a.resourcePatternType === Pattern.PREFIXED ? 'prefixed' : 'literal';
  return `allow ${a.principal} ${opName(a.operation)} on ${resName(a.resourceType)} ${a.resourceName} (${pattern})`;
}

/**
 * Creates the ACLs (Kafka ignores ones that exist) and waits until the broker answers with every one of them: the
 * controller commits them first and the broker applies them a moment later.
 */
export async function applyAcls(kafka: Kafka, acls: AclEntry[], timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (acls.length === 0) return;
    await admin.createAcls({ acl: acls });
    const wanted = new Set(acls.map(keyOf));
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { resources } = await admin.describeAcls({
        resourceType: Res.ANY,
        resourcePatternType: Pattern.ANY,
        operation: Op.ANY,
        permissionType: AclPermissionTypes.ANY,
      } as never);
      const seen = new Set(
        resources.flatMap((r) =>
          r.acls.map((a) =>
            keyOf({
              ...a,
              resourceType: r.resourceType,
              resourceName: r.resourceName,
              resourcePatternType: r.resourcePatternType,
            }),
          ),
        ),
      );
      if ([...wanted].every((k) => seen.has(k))) return;
      if (Date.now() > until)
        throw new Error(
          `ACLS_NOT_APPLIED: the broker shows ${seen.size} of ${wanted.size} ACLs after ${timeoutMs} ms`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Who runs work that must run once at a time (the SLV poller, the FEST publisher and push loop, the judgement of
 * case events), decided by Kafka itself: each role has a consumer group on the one-partition coordination topic
 * `metodehub.leadership.v1`, and the member that owns its partition 0 leads the role. A leader that dies stops
 * heartbeating; after LEADERSHIP_SESSION_TIMEOUT_MS the coordinator gives the partition to another member.
 * The assignment is sticky (the current leader keeps it when others join), and each member's group metadata
 * carries its instance name and advertised URL, so any member can ask the group who leads and where to reach it.
 * A leader steps down as soon as a rebalance starts, so two never lead at once while both still talk to Kafka.
 */
import { backoff } from '../retry/backoff.ts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import kafkajs, {
  type Admin,
  type Assigner,
  type Consumer,
  type Kafka,
  type PartitionAssigner,
} from 'kafkajs';
import { type Logger, loggerFor } from '../log/logger.ts';
import { Topics } from '../../contracts/topics.ts';
import { ensureDeclaredTopic } from './createTopics.ts';
import { newHeaders } from './headers.ts';
import type { ContractProducer } from './producer.ts';

// CommonJS: the protocol codecs are values on the default export under ESM.
const { AssignerProtocol } = kafkajs;

export const LEADERSHIP_TOPIC = Topics.leadership;

/** What a member tells the group about itself (the consumer protocol's userData). */
export interface MemberClaim {
  instance: string;
  url: string | null;
  /** When this member last gained the role (epoch ms), or null if it does not hold it. */
  leadingSince: number | null;
  startedAt: number;
}

export interface LeaderInfo {
  instance: string;
  url: string | null;
  /** Whether it is this instance. */
  self: boolean;
}

export interface LeadershipOptions {
  kafka: Kafka;
  /** The role led: slv, fest, case-events. */
  role: string;
  /** The role's consumer group. */
  groupId: string;
  /** The physical coordination topic. */
  topic: string;
  /** This instance's name (host and pid unless told). */
  instance?: string;
  /** Where other instances reach this one's HTTP API, read when it joins. */
  url?: () => string | undefined;
  sessionTimeoutMs: number;
  /** Writes each takeover to the coordination topic, as a trail of who led when. */
  producer?: ContractProducer;
}

type Listener = (() => Promise<void> | void) & { retry?: boolean };

/** Host, pid and a few random characters: a hub started again in the same process is not taken for its predecessor. */
export const instanceName = (): string => `${hostname()}-${process.pid}-${randomUUID().slice(0, 4)}`;

const claimOf = (metadata: Buffer): MemberClaim | undefined => {
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    if (!decoded?.userData || decoded.userData.length === 0) return undefined;
    return JSON.parse(decoded.userData.toString('utf8')) as MemberClaim;
  } catch {
    return undefined;
  }
};

/** Partition 0 to the member that leads now (the latest to gain it), else to the longest running one. */
export function chooseLeader(members: { memberId: string; claim: MemberClaim | undefined }[]): string {
  const ranked = [...members].sort((a, b) => {
    const la = a.claim?.leadingSince ?? -1;
    const lb = b.claim?.leadingSince ?? -1;
    if (la !== lb) return lb - la;
    const sa = a.claim?.startedAt ?? Number.MAX_SAFE_INTEGER;
    const sb = b.claim?.startedAt ?? Number.MAX_SAFE_INTEGER;
    if (sa !== sb) return sa - sb;
    return a.memberId < b.memberId ? -1 : 1;
  });
  return ranked[0]!.memberId;
}

export class Leadership {
  private static readonly all = new Set<Leadership>();
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private readonly gainListeners: Listener[] = [];
  private readonly loseListeners: Listener[] = [];
  /** Gains and losses run one after another, in the order they happened. */
  private transitions: Promise<void> = Promise.resolve();
  private leading = false;
  private leadingSince: number | null = null;
  private lastContact = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private cached: { at: number; leader: LeaderInfo | undefined } | undefined;
  private readonly startedAt = Date.now();
  private readonly log: Logger;
  readonly instance: string;
  /** The last change, for health: who gained or lost and when. */
  lastChange: string | undefined;

  constructor(private readonly options: LeadershipOptions) {
    this.instance = options.instance ?? instanceName();
    this.log = loggerFor(`leadership-${options.role}`);
  }

  get role(): string {
    return this.options.role;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Every leadership started in this process, for health. */
  static running(): Leadership[] {
    return [...Leadership.all];
  }

  /**
   * Runs `listener` on each gain of the role. With `retry`, a listener that fails is tried again, with backoff,
   * while this instance still leads (it must then be safe to run again after a failure); without, the failure is
   * logged and the gain goes on.
   */
  onGain(listener: Listener, options: { retry?: boolean } = {}): this {
    this.gainListeners.push(options.retry ? Object.assign(listener, { retry: true }) : listener);
    return this;
  }

  onLose(listener: Listener): this {
    this.loseListeners.push(listener);
    return this;
  }

  /** Joins the role's group; resolves once joined the first time (leading or not). */
  async start(): Promise<void> {
    const { kafka, groupId, topic, sessionTimeoutMs } = this.options;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: sessionTimeoutMs,
      rebalanceTimeout: Math.max(sessionTimeoutMs, 3_000),
      heartbeatInterval: Math.max(100, Math.floor(sessionTimeoutMs / 6)),
      // Heartbeats go between fetches: a long fetch wait would outlast a short session.
      maxWaitTimeInMs: Math.max(100, Math.floor(sessionTimeoutMs / 6)),
      allowAutoTopicCreation: false,
      partitionAssigners: [this.assigner],
    });
    this.consumer = consumer;
    await this.ensureTopic();
    let joined: () => void = () => undefined;
    const firstJoin = new Promise<void>((resolve) => {
      joined = resolve;
    });
    // Whether the current generation gave this member partition 0 (a step-down for silence does not change that).
    let assigned = false;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.lastContact = Date.now();
      const owns = (payload.memberAssignment[topic] ?? []).length > 0;
      assigned = owns;
      if (!owns) this.claimedSince = null;
      this.change(owns, owns ? 'assigned partition 0' : 'another member leads');
      joined();
    });
    consumer.on(consumer.events.HEARTBEAT, () => {
      this.lastContact = Date.now();
      // An answered heartbeat means the generation that gave us partition 0 is still current: no one else leads.
      if (assigned && !this.leading)
        this.change(true, 'heartbeats answered again; still assigned partition 0');
    });
    consumer.on(consumer.events.REBALANCING, () => {
      assigned = false;
      this.change(false, 'the group is rebalancing');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      assigned = false;
      this.claimedSince = null;
      this.change(false, `the coordination consumer failed: ${payload.error.message}`);
    });
    consumer.on(consumer.events.STOP, () => {
      assigned = false;
      this.change(false, 'stopped');
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
    // Out of touch with the coordinator for a session: another member may lead by now.
    this.watchdog = setInterval(() => {
      if (this.leading && Date.now() - this.lastContact > sessionTimeoutMs) {
        this.claimedSince = null;
        this.change(false, `no heartbeat answered for ${sessionTimeoutMs} ms`);
      }
    }, 250);
    this.watchdog.unref();
    Leadership.all.add(this);
    await firstJoin;
  }

  async stop(): Promise<void> {
    clearInterval(this.watchdog);
    Leadership.all.delete(this);
    this.change(false, 'stopping');
    // Leaving the group hands the role over at once instead of after a session.
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    await this.transitions;
  }

  /** Resolves once the gains and losses seen so far have run their listeners. */
  settled(): Promise<void> {
    return this.transitions;
  }

  /**
   * Who leads the role, as the group's coordinator says now (cached for `maxAgeMs`); undefined while a rebalance
   * runs or no member owns the partition.
   */
  async leader(maxAgeMs = 500): Promise<LeaderInfo | undefined> {
    if (this.leading) return { instance: this.instance, url: this.options.url?.() ?? null, self: true };
    if (this.cached && Date.now() - this.cached.at < maxAgeMs) return this.cached.leader;
    if (!this.admin) {
      // Few retries: health and forwarding ask this with the broker maybe away, and must answer within seconds.
      const admin = this.options.kafka.admin({
        retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
      });
      await admin.connect();
      this.admin = admin;
    }
    const { groups } = await this.admin.describeGroups([this.options.groupId]);
    const group = groups[0];
    let leader: LeaderInfo | undefined;
    if (group?.state === 'Stable') {
      for (const member of group.members) {
        const assignment =
          member.memberAssignment.length > 0
            ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment)
            : null;
        if ((assignment?.assignment[this.options.topic] ?? []).length === 0) continue;
        const claim = claimOf(member.memberMetadata);
        leader = {
          instance: claim?.instance ?? member.clientHost,
          url: claim?.url ?? null,
          self: claim?.instance === this.instance,
        };
      }
    }
    this.cached = { at: Date.now(), leader };
    return leader;
  }

  /** One line for health: whether this instance leads, and since when. */
  describe(): string {
    return this.leading
      ? `this instance (${this.instance}) leads ${this.role} since ${new Date(this.leadingSince!).toISOString()}`
      : `this instance (${this.instance}) does not lead ${this.role}${this.lastChange ? ` (${this.lastChange})` : ''}`;
  }

  /** Health with the leader named, asked of the group. */
  async health(): Promise<{ ok: boolean; detail: string; leader: string | null }> {
    if (this.leading) return { ok: true, detail: this.describe(), leader: this.instance };
    // /readyz answers at once: a coordinator that does not answer in time counts as no leader known.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), 500);
    });
    const leader = await Promise.race([this.leader().catch(() => undefined), late]).finally(() =>
      clearTimeout(timer),
    );
    return {
      ok: leader !== undefined,
      detail: leader
        ? `${leader.instance}${leader.url ? ` (${leader.url})` : ''} leads ${this.role}; this instance (${this.instance}) stands by`
        : `no instance leads ${this.role} at the moment (a takeover is under way or Kafka is unreachable)`,
      leader: leader?.instance ?? null,
    };
  }

  private change(leading: boolean, why: string): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.leadingSince = leading ? Date.now() : null;
    if (leading) this.claimedSince ??= this.leadingSince;
    this.cached = undefined;
    this.lastChange = `${leading ? 'gained' : 'lost'} ${new Date().toISOString()}: ${why}`;
    this.log.info({ role: this.role, instance: this.instance, why }, leading ? 'leading' : 'not leading');
    const listeners = leading ? this.gainListeners : this.loseListeners;
    this.transitions = this.transitions.then(async () => {
      // A gain already undone by a loss behind it is skipped; the loss still runs.
      if (leading && !this.leading) return;
      for (const listener of listeners) {
        for (let attempt = 1; ; attempt++) {
          try {
            await listener();
            break;
          } catch (error) {
            // A gain whose listener failed (Kafka away while it read what the last leader left) would lead and do
            // nothing: one that asked for it is tried again while this instance still leads.
            const again = leading && this.leading && listener.retry === true;
            this.log.error(
              { role: this.role, err: (error as Error).message, attempt, again },
              'leadership listener failed',
            );
            if (!again) break;
            await new Promise((r) => setTimeout(r, backoff(attempt, 500, 10_000)).unref());
            if (!this.leading) return;
          }
        }
      }
      if (leading) await this.record();
    });
  }

  /** The takeover on the coordination topic (best effort: the group, not this record, decides who leads). */
  private async record(): Promise<void> {
    const { producer, topic, role } = this.options;
    if (!producer) return;
    await producer
      .send(
        LEADERSHIP_TOPIC,
        [
          {
            key: role,
            value: {
              role,
              instance: this.instance,
              url: this.options.url?.() ?? null,
              since: new Date(this.leadingSince ?? Date.now()).toISOString(),
            },
            headers: newHeaders({
              source: '/metodehub/leadership',
              type: 'no.nyemetoder.leadership',
              subject: role,
            }),
          },
        ],
        { to: topic },
      )
      .catch((error: Error) => this.log.warn({ err: error.message }, 'could not record the takeover'));
  }

  private ensureTopic(): Promise<void> {
    return ensureDeclaredTopic(this.options.kafka, LEADERSHIP_TOPIC, this.options.topic);
  }

  private readonly assigner: PartitionAssigner = ({ cluster }) => {
    const self = this;
    const assigner: Assigner = {
      name: 'MetodehubLeadership',
      version: 1,
      protocol({ topics }) {
        const claim: MemberClaim = {
          instance: self.instance,
          url: self.options.url?.() ?? null,
          // A member that led until this rebalance claims it, so the role stays put when others join.
          leadingSince: self.heldSince(),
          startedAt: self.startedAt,
        };
        return {
          name: 'MetodehubLeadership',
          metadata: AssignerProtocol.MemberMetadata.encode({
            version: 1,
            topics,
            userData: Buffer.from(JSON.stringify(claim), 'utf8'),
          }),
        };
      },
      async assign({ members, topics }) {
        const leader = chooseLeader(
          members.map((m) => ({ memberId: m.memberId, claim: claimOf(m.memberMetadata) })),
        );
        const assignment: Record<string, number[]> = {};
        for (const topic of topics) {
          const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
          assignment[topic] = partitions.length > 0 ? partitions : [0];
        }
        return members.map((m) => ({
          memberId: m.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: m.memberId === leader ? assignment : {},
            userData: Buffer.alloc(0),
          }),
        }));
      },
    };
    return assigner;
  };

  /** When the role was last gained, kept through a rebalance (a leader steps down while it runs). */
  private claimedSince: number | null = null;
  private heldSince(): number | null {
    return this.claimedSince;
  }
}

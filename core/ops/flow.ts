/**
 * The live picture of the message flow for the operations dashboard: every few seconds, the offsets of
 * every topic and its dead-letter topic, the lag of every consumer group of this hub, and the health of
 * every adapter's partner, kept for the last hour. The graph itself (who writes and reads which topic)
 * comes from the core components and each adapter's declared `flow`.
 */
import type { Kafka } from 'kafkajs';
import { dlqTopicOf, topics as declaredTopics, Topics } from '../../contracts/topics.ts';
import type { AdapterFlow, ComponentHealth } from '../hub/component.ts';
import { type Logger, loggerFor } from '../log/logger.ts';
import { circuitOpen, componentLag, deadLetterDepth, partnerUp } from '../metrics/registry.ts';

export type EdgeState = 'ok' | 'idle' | 'lagging' | 'failing' | 'down';

export interface FlowNode {
  id: string;
  kind: 'source' | 'component' | 'topic' | 'partner';
  label: string;
  /** For partners and components: their health now. */
  health?: ComponentHealth;
}

export interface FlowEdge {
  id: string;
  from: string;
  to: string;
  /** The topic whose messages this edge carries, when it carries one. */
  topic: string | null;
  /** Messages per second over the last sample. */
  rate: number;
  /** For an edge into a component: messages its consumer groups have yet to read. */
  lag: number | null;
  /** Dead letters on the topic's .dlq (all, not only new ones). */
  deadLetters: number;
  /** When this hub last saw the topic grow. */
  lastMessageAt: string | null;
  state: EdgeState;
  /** Why the state is what it is, in words. */
  note: string;
}

export interface FlowSample {
  at: string;
  rates: Record<string, number>;
  lags: Record<string, number>;
  deadLetters: number;
}

export interface FlowPicture {
  at: string | null;
  sampleSeconds: number;
  nodes: FlowNode[];
  edges: FlowEdge[];
  /** The last hour, oldest first. */
  history: FlowSample[];
}

export interface FlowComponent {
  name: string;
  flow: AdapterFlow;
}

export interface FlowMonitorOptions {
  kafka: Kafka;
  components: FlowComponent[];
  /** Physical name of a declared topic. */
  topic: (declared: string) => string;
  /** Prefix of this hub's consumer groups (`<prefix>.<role>`). */
  groupPrefix: string;
  health: () => Promise<Record<string, ComponentHealth>>;
  sampleMs?: number;
}

/** The core components' place in the flow; `ops` (the dead-letter tools) runs with the HTTP server and is not drawn. */
export const coreFlows: FlowComponent[] = [
  {
    name: 'api',
    flow: {
      consumes: [Topics.methodEvents, Topics.leadership],
      throughHub: [Topics.methodEvents],
      produces: [Topics.methodEvents, Topics.leadership],
      partner: 'case system',
      direction: 'from-partner',
      carries: [Topics.methodEvents],
      leads: ['case-events'],
    },
  },
  {
    name: 'projection',
    flow: {
      consumes: [Topics.methodEvents, Topics.methodState],
      restores: [Topics.methodState],
      produces: [Topics.methodState],
      partner: '',
      direction: 'both',
    },
  },
  {
    name: 'ops',
    flow: {
      consumes: [Topics.deadLetterAudit],
      restores: [Topics.deadLetterAudit],
      produces: [Topics.deadLetterAudit],
      partner: '',
      direction: 'both',
    },
  },
];

const HOUR_MS = 3_600_000;
// The projection's consumer group is named after what it keeps.
export const groupAliases: Record<string, string> = { projection: 'method-state' };

interface TopicOffsets {
  total: bigint;
  ends: Map<number, bigint>;
  starts: Map<number, bigint>;
  deadLetters: number;
}

export class FlowMonitor {
  private timer: NodeJS.Timeout | undefined;
  private previous: { at: number; totals: Map<string, bigint> } | undefined;
  private readonly lastGrowth = new Map<string, number>();
  private readonly lagTrend = new Map<string, number[]>();
  private readonly deadLettersBefore = new Map<string, number>();
  private deadLettersGrew = new Set<string>();
  private readonly history: FlowSample[] = [];
  private picture: FlowPicture;
  private readonly log: Logger = loggerFor('ops-flow');
  private sampling: Promise<void> | undefined;

  constructor(private readonly options: FlowMonitorOptions) {
    this.picture = { at: null, sampleSeconds: this.sampleMs / 1000, nodes: [], edges: [], history: [] };
  }

  private get sampleMs(): number {
    return this.options.sampleMs ?? 5000;
  }

  start(): void {
    if (this.timer) return;
    void this.sampleOnce();
    this.timer = setInterval(() => void this.sampleOnce(), this.sampleMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** The latest picture; samples now when there is none yet. */
  async now(): Promise<FlowPicture> {
    if (!this.picture.at) await this.sampleOnce();
    return this.picture;
  }

  sampleOnce(): Promise<void> {
    this.sampling ??= this.sample()
      .catch((error: Error) => this.log.warn({ err: error.message }, 'could not sample the flow'))
      .finally(() => {
        this.sampling = undefined;
      });
    return this.sampling;
  }

  private async sample(): Promise<void> {
    const at = Date.now();
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const offsets = new Map<string, TopicOffsets>();
      for (const t of declaredTopics) {
        const physical = this.options.topic(t.name);
        if (!existing.has(physical)) continue;
        const parts = await admin.fetchTopicOffsets(physical);
        const ends = new Map(parts.map((p) => [p.partition, BigInt(p.high)]));
        const starts = new Map(parts.map((p) => [p.partition, BigInt(p.low)]));
        let deadLetters = 0;
        const dlq = dlqTopicOf(physical);
        if (existing.has(dlq))
          for (const p of await admin.fetchTopicOffsets(dlq))
            deadLetters += Number(BigInt(p.high) - BigInt(p.low));
        offsets.set(t.name, {
          total: [...ends.values()].reduce((a, b) => a + b, 0n),
          ends,
          starts,
          deadLetters,
        });
      }
      const lags = await this.groupLags(admin, offsets);
      const health = await this.options.health().catch(() => ({}) as Record<string, ComponentHealth>);
      this.picture = this.draw(at, offsets, lags, health);
    } finally {
      await admin.disconnect();
    }
  }

  /** Lag per component and declared topic, summed over the component's consumer groups. */
  private async groupLags(
    admin: ReturnType<Kafka['admin']>,
    offsets: Map<string, TopicOffsets>,
  ): Promise<Map<string, Map<string, number>>> {
    const prefix = `${this.options.groupPrefix}.`;
    const { groups } = await admin.listGroups();
    const ours = groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
    const byPhysical = new Map(
      [...offsets.keys()].map((declared) => [this.options.topic(declared), declared]),
    );
    const result = new Map<string, Map<string, number>>();
    for (const { name } of this.options.components) {
      const role = groupAliases[name] ?? name;
      const mine = ours.filter((id) => id.slice(prefix.length).startsWith(role));
      const lags = new Map<string, number>();
      for (const groupId of mine) {
        const committed = await admin.fetchOffsets({ groupId, topics: [...byPhysical.keys()] });
        for (const { topic, partitions } of committed) {
          const declared = byPhysical.get(topic);
          const o = declared ? offsets.get(declared) : undefined;
          if (!declared || !o) continue;
          // No commit on any partition: the group does not read this topic. A partition without one yet
          // is read from its start.
          if (partitions.every((p) => Number(p.offset) < 0)) continue;
          let lag = 0;
          for (const p of partitions) {
            const end = o.ends.get(p.partition) ?? 0n;
            const at = Number(p.offset) < 0 ? (o.starts.get(p.partition) ?? 0n) : BigInt(p.offset);
            lag += Number(end - at);
          }
          lags.set(declared, (lags.get(declared) ?? 0) + lag);
        }
      }
      result.set(name, lags);
    }
    return result;
  }

  private draw(
    at: number,
    offsets: Map<string, TopicOffsets>,
    lags: Map<string, Map<string, number>>,
    health: Record<string, ComponentHealth>,
  ): FlowPicture {
    const seconds = this.previous ? (at - this.previous.at) / 1000 : 0;
    const rates: Record<string, number> = {};
    for (const [topic, o] of offsets) {
      const before = this.previous?.totals.get(topic);
      if (before !== undefined && o.total > before) this.lastGrowth.set(topic, at);
      rates[topic] = before !== undefined && seconds > 0 ? Number(o.total - before) / seconds : 0;
    }
    this.previous = { at, totals: new Map([...offsets].map(([t, o]) => [t, o.total])) };
    this.deadLettersGrew = new Set(
      [...offsets]
        .filter(([t, o]) => this.deadLettersBefore.has(t) && o.deadLetters > this.deadLettersBefore.get(t)!)
        .map(([t]) => t),
    );
    for (const [t, o] of offsets) this.deadLettersBefore.set(t, o.deadLetters);

    const nodes = new Map<string, FlowNode>();
    const edges: FlowEdge[] = [];
    const lastAt = (topic: string) => {
      const t = this.lastGrowth.get(topic);
      return t ? new Date(t).toISOString() : null;
    };
    const topicNode = (topic: string) =>
      nodes.set(`topic:${topic}`, { id: `topic:${topic}`, kind: 'topic', label: topic });

    for (const { name, flow } of this.options.components) {
      const componentHealth = health[name];
      nodes.set(`component:${name}`, {
        id: `component:${name}`,
        kind: 'component',
        label: name,
        ...(componentHealth ? { health: componentHealth } : {}),
      });
      for (const topic of flow.produces) {
        topicNode(topic);
        const o = offsets.get(topic);
        edges.push(
          this.edge(`component:${name}`, `topic:${topic}`, topic, rates[topic] ?? 0, null, o, lastAt(topic)),
        );
      }
      for (const topic of flow.consumes) {
        topicNode(topic);
        const lag = lags.get(name)?.get(topic) ?? null;
        const o = offsets.get(topic);
        edges.push(
          this.edge(`topic:${topic}`, `component:${name}`, topic, rates[topic] ?? 0, lag, o, lastAt(topic)),
        );
      }
      if (flow.partner) {
        const partnerId = `partner:${flow.partner}`;
        nodes.set(partnerId, {
          id: partnerId,
          kind: name === 'api' ? 'source' : 'partner',
          label: flow.partner,
          ...(componentHealth ? { health: componentHealth } : {}),
        });
        const [from, to] =
          flow.direction === 'from-partner'
            ? [partnerId, `component:${name}`]
            : [`component:${name}`, partnerId];
        const carried = flow.carries ?? [];
        const down = componentHealth && !componentHealth.ok;
        const lastCarried = carried
          .map(lastAt)
          .filter((t): t is string => t !== null)
          .sort()
          .at(-1);
        edges.push({
          id: `${from}->${to}`,
          from,
          to,
          topic: null,
          rate: carried.reduce((sum, topic) => sum + (rates[topic] ?? 0), 0),
          lag: null,
          deadLetters: 0,
          lastMessageAt: lastCarried ?? null,
          state: down ? 'down' : componentHealth?.circuit === 'half-open' ? 'failing' : 'ok',
          note: componentHealth
            ? `${componentHealth.detail}${componentHealth.circuit ? ` (circuit ${componentHealth.circuit})` : ''}`
            : 'no health reported',
        });
      }
    }

    for (const [topic, o] of offsets) deadLetterDepth.set({ topic }, o.deadLetters);
    for (const [component, perTopic] of lags)
      for (const [topic, lag] of perTopic) componentLag.set({ component, topic }, lag);
    for (const [component, h] of Object.entries(health)) {
      partnerUp.set({ component }, h.ok ? 1 : 0);
      if (h.circuit) circuitOpen.set({ component }, h.circuit === 'closed' ? 0 : 1);
    }

    const sample: FlowSample = {
      at: new Date(at).toISOString(),
      rates,
      lags: Object.fromEntries(edges.filter((e) => e.lag !== null).map((e) => [e.id, e.lag!])),
      deadLetters: [...offsets.values()].reduce((n, o) => n + o.deadLetters, 0),
    };
    this.history.push(sample);
    while (this.history.length > 0 && at - Date.parse(this.history[0]!.at) > HOUR_MS) this.history.shift();
    return {
      at: sample.at,
      sampleSeconds: this.sampleMs / 1000,
      nodes: [...nodes.values()],
      edges,
      history: [...this.history],
    };
  }

  private edge(
    from: string,
    to: string,
    topic: string,
    rate: number,
    lag: number | null,
    offsets: TopicOffsets | undefined,
    lastMessageAt: string | null,
  ): FlowEdge {
    const id = `${from}->${to}`;
    const deadLetters = offsets?.deadLetters ?? 0;
    const trend = this.lagTrend.get(id) ?? [];
    if (lag !== null) {
      trend.push(lag);
      if (trend.length > 3) trend.shift();
      this.lagTrend.set(id, trend);
    }
    const growing =
      lag !== null && lag > 0 && trend.length >= 2 && trend.every((l, i) => i === 0 || l >= trend[i - 1]!);
    let state: EdgeState = rate > 0 ? 'ok' : 'idle';
    let note = rate > 0 ? `${rate.toFixed(1)} msg/s` : 'no messages in the last sample';
    if (offsets === undefined) {
      state = 'down';
      note = `topic ${topic} does not exist: run npm run topics:apply`;
    } else if (lag !== null && this.deadLettersGrew.has(topic)) {
      state = 'failing';
      note = `new dead letters on ${topic}.dlq (${deadLetters} in all)`;
    } else if (growing) {
      state = 'lagging';
      note = `${lag} behind and not catching up`;
    }
    return { id, from, to, topic, rate, lag, deadLetters, lastMessageAt, state, note };
  }
}

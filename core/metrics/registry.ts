/**
 * Prometheus metrics of the message flow. Every metric is documented here by its help text, and
 * `/metrics` on the hub serves them.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'metodehub_process_' });

export const messagesIn = new Counter({
  name: 'metodehub_messages_in_total',
  help: 'Messages a handler took from a topic, counted before handling.',
  labelNames: ['topic', 'handler'] as const,
  registers: [metricsRegistry],
});

export const messagesOut = new Counter({
  name: 'metodehub_messages_out_total',
  help: 'Messages the hub produced to a topic (acknowledged by all in-sync replicas).',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});

export const produceRequests = new Counter({
  name: 'metodehub_produce_requests_total',
  help: 'Produce requests of plain (not transactional) sends; sends asked for while one is in flight share the next, so messages_out / produce_requests is how many rode together.',
  registers: [metricsRegistry],
});

export const messagesFailed = new Counter({
  name: 'metodehub_messages_failed_total',
  help: 'Handling attempts that failed, by error class (transient ones are retried).',
  labelNames: ['topic', 'handler', 'error_class'] as const,
  registers: [metricsRegistry],
});

export const messagesDeadLettered = new Counter({
  name: 'metodehub_messages_dead_lettered_total',
  help: 'Messages sent to <topic>.dlq, by error class.',
  labelNames: ['topic', 'handler', 'error_class'] as const,
  registers: [metricsRegistry],
});

export const recordsWithheld = new Counter({
  name: 'metodehub_records_withheld_total',
  help: 'Records left out of an output (extract, list, feed) because they could not be rendered; the rest was served.',
  labelNames: ['output'] as const,
  registers: [metricsRegistry],
});

export const messagesDuplicate = new Counter({
  name: 'metodehub_messages_duplicate_total',
  help: 'Redelivered messages dropped because their event id was already processed.',
  labelNames: ['topic', 'handler'] as const,
  registers: [metricsRegistry],
});

export const processingSeconds = new Histogram({
  name: 'metodehub_processing_seconds',
  help: 'Time from taking a message to finishing its handling, retries included.',
  labelNames: ['topic', 'handler'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

export const consumerLag = new Gauge({
  name: 'metodehub_consumer_lag',
  help: 'Messages between a consumer group and the end of a partition, as of its last batch.',
  labelNames: ['topic', 'partition', 'handler'] as const,
  registers: [metricsRegistry],
});

export const deadLetterDepth = new Gauge({
  name: 'metodehub_dead_letters',
  help: 'Dead letters on <topic>.dlq (redriven and discarded ones included), as the operations monitor last sampled.',
  labelNames: ['topic'] as const,
  registers: [metricsRegistry],
});

export const componentLag = new Gauge({
  name: 'metodehub_component_lag',
  help: "Messages a component's consumer groups have yet to read on a topic, as the operations monitor last sampled.",
  labelNames: ['component', 'topic'] as const,
  registers: [metricsRegistry],
});

export const partnerUp = new Gauge({
  name: 'metodehub_partner_up',
  help: "1 when a component and the partner it talks to work, 0 when not (the component's health check).",
  labelNames: ['component'] as const,
  registers: [metricsRegistry],
});

export const circuitOpen = new Gauge({
  name: 'metodehub_partner_circuit_open',
  help: "1 while a partner client's circuit breaker is open or half-open, 0 when closed.",
  labelNames: ['component'] as const,
  registers: [metricsRegistry],
});

/** Every metric of the hub as a Markdown table (name, type, labels, meaning), for deploy/monitoring/METRICS.md. */
export async function metricsTable(): Promise<string> {
  const metrics = (await metricsRegistry.getMetricsAsJSON()).filter(
    (m) => !m.name.startsWith('metodehub_process_'),
  );
  const rows = metrics
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const labels = new Set<string>(
        (
          (m as { aggregator?: string; values?: { labels?: Record<string, unknown> }[] }).values ?? []
        ).flatMap((v) => Object.keys(v.labels ?? {}).filter((l) => l !== 'le')),
      );
      const declared = (metricsRegistry.getSingleMetric(m.name) as unknown as { labelNames?: string[] })
        ?.labelNames;
      const names = declared && declared.length > 0 ? declared : [...labels];
      return `| \`${m.name}\` | ${m.type} | ${names.map((l) => `\`${l}\``).join(', ')} | ${m.help} |`;
    });
  return [
    '| metric | type | labels | meaning |',
    '|---|---|---|---|',
    ...rows,
    '| `metodehub_process_*` | (several) | | Node.js process metrics: CPU, memory, event loop lag, handles (prom-client defaults). |',
  ].join('\n');
}

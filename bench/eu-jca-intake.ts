/**
 * Benchmark of the EU HTA JCA intake. In process (no Kafka): the cost of reading and checking one
 * notification as JSON and as XML, of refusing hostile XML (billion laughs, quadratic blow-up, XXE), and of
 * scoring a JCA against the demo catalogue, with how often the linking finds the method the JCA is about.
 * With --kafka: POST /jca/v1/intake end to end through a hub on fresh topics over the real stack
 * (KAFKA_BROKERS, SCHEMA_REGISTRY_URL), the demo catalogue on its event topic, sequential and concurrent,
 * and the time to refuse entity bombs while good notifications flow.
 *
 *   npx tsx bench/eu-jca-intake.ts [--documents 2000] [--kafka] [--requests 300] [--concurrency 4]
 */
import { Command } from 'commander';
import { logLevel, Kafka as KafkaClient } from 'kafkajs';
import { euJcaAdapter } from '../adapters/eu-jca/adapter.ts';
import { decideLink } from '../adapters/eu-jca/linking.ts';
import type { JcaDocument } from '../adapters/eu-jca/notification.ts';
import { documentFromJson } from '../adapters/eu-jca/notification.ts';
import { documentFromXml } from '../adapters/eu-jca/xmlDocument.ts';
import { newHeaders } from '../core/bus/headers.ts';
import { loadConfig } from '../core/config/spec.ts';
import { demoHistory } from '../core/demo/history.ts';
import { DevIssuer } from '../core/http/devIssuer.ts';
import { createHub } from '../bin/hub.ts';
import { MethodStore } from '../core/lifecycle/methodStore.ts';
import { hostile, jcaDocument, toXml } from '../test/emulators/eu-jca/documents.ts';
import { JcaSender } from '../test/emulators/eu-jca/sender.ts';
import { Topics } from '../contracts/topics.ts';

const options = new Command('bench:eu-jca')
  .description('Cost of the JCA intake: parsing, refusing hostile XML, linking, and end to end over Kafka.')
  .option('--documents <n>', 'documents per in-process measurement', (v) => Number(v), 2000)
  .option('--kafka', 'also measure POST /jca/v1/intake end to end against the running stack', false)
  .option('--requests <n>', 'notifications posted end to end', (v) => Number(v), 300)
  .option('--concurrency <n>', 'requests in flight in the concurrent round', (v) => Number(v), 4)
  .parse()
  .opts<{ documents: number; kafka: boolean; requests: number; concurrency: number }>();

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1)! };
}
const row = (name: string, samples: number[], unit: 'µs' | 'ms') => {
  const k = unit === 'µs' ? 1000 : 1;
  const p = percentiles(samples);
  console.log(
    `${name.padEnd(34)} ${[p.p50, p.p95, p.p99, p.max].map((v) => (v * k).toFixed(unit === 'µs' ? 1 : 2).padStart(9)).join(' ')}  ${unit}`,
  );
};
const timed = (n: number, work: (i: number) => unknown): number[] => {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    work(i);
    samples.push(performance.now() - t0);
  }
  return samples;
};

/** A JCA for each demo medicine method: its substance, ATC code and (Norwegian) indication. */
function jcasForCatalogue(store: MethodStore): { doc: JcaDocument; methodId: string }[] {
  return store
    .states()
    .filter(
      (s) => s.details.methodType === 'MEDICINE' && s.details.atcCodes.length > 0 && s.details.indication,
    )
    .map((s) => ({
      methodId: s.methodId,
      doc: jcaDocument({
        technology: { inn: s.details.substances.join(' + '), atcCode: s.details.atcCodes[0] },
        indication: s.details.indication!,
      }),
    }));
}

function inProcess() {
  const store = new MethodStore();
  for (const event of demoHistory()) store.offer(event);
  const doc = jcaDocument();
  const json = JSON.stringify(doc);
  const xml = toXml(doc);
  const bomb = hostile.billionLaughs();
  const quadratic = hostile.quadraticBlowup();
  const xxe = hostile.xxeHttp('http://127.0.0.1:9');
  const n = options.documents;
  timed(200, () => documentFromXml(xml)); // warm up
  console.log(`in process, ${n} documents per row (JSON ${json.length} B, XML ${xml.length} B)\n`);
  console.log(`${'step'.padEnd(34)} ${['p50', 'p95', 'p99', 'max'].map((h) => h.padStart(9)).join(' ')}`);
  row(
    'read + check JSON',
    timed(n, () => documentFromJson(json)),
    'µs',
  );
  row(
    'read + check XML',
    timed(n, () => documentFromXml(xml)),
    'µs',
  );
  row(
    `refuse billion laughs (${bomb.length} B)`,
    timed(n, () => documentFromXml(bomb)),
    'µs',
  );
  row(
    `refuse quadratic blow-up (${quadratic.length} B)`,
    timed(n, () => documentFromXml(quadratic)),
    'µs',
  );
  row(
    'refuse XXE',
    timed(n, () => documentFromXml(xxe)),
    'µs',
  );
  const jcas = jcasForCatalogue(store);
  const thresholds = { link: 0.75, candidate: 0.4, margin: 0.1, sameIndication: 0.35 };
  const outcomes = new Map<string, number>();
  let right = 0;
  const linking = timed(jcas.length, (i) => {
    const { doc: jca, methodId } = jcas[i]!;
    const decision = decideLink(
      { inn: jca.technology.inn, atcCode: jca.technology.atcCode, indication: jca.indication },
      store.states(),
      thresholds,
    );
    outcomes.set(decision.outcome, (outcomes.get(decision.outcome) ?? 0) + 1);
    if (decision.outcome === 'LINKED' && decision.methodIds[0] === methodId) right++;
  });
  row(`link against ${store.size} methods`, linking, 'µs');
  console.log(
    `\nlinking ${jcas.length} JCAs made from the demo's medicine methods: ${[...outcomes].map(([o, c]) => `${o} ${c}`).join(', ')}; ` +
      `linked to the method it was made from: ${right} (${((100 * right) / jcas.length).toFixed(1)} %)`,
  );
  return store;
}

async function endToEnd(store: MethodStore) {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new KafkaClient({ clientId: 'bench-eu-jca', brokers, logLevel: logLevel.NOTHING });
  const suffix = Date.now().toString(36);
  const topics = {
    [Topics.methodEvents]: `bench.eu-jca.events.${suffix}`,
    [Topics.methodState]: `bench.eu-jca.state.${suffix}`,
    [Topics.jcaNotifications]: `bench.eu-jca.notifications.${suffix}`,
  };
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 3 })),
    waitForLeaders: true,
  });
  const config = loadConfig({ ...process.env, HUB_PORT: '0', AUTH_DEV_ISSUER: 'true', LOG_LEVEL: 'warn' });
  const hub = createHub({
    config,
    components: ['eu-jca'],
    topics,
    groupPrefix: `bench-${suffix}`,
    devIssuer: await DevIssuer.ephemeral(),
    adapters: [euJcaAdapter],
  });
  try {
    const events = [...store.states()].flatMap((s) => store.ledger(s.methodId)!.entries.map((e) => e.event));
    const seed = createHub({ config, components: [], topics, adapters: [] });
    for (let i = 0; i < events.length; i += 500) {
      await seed.producer.send(
        Topics.methodEvents,
        events.slice(i, i + 500).map((value) => ({
          key: value.methodId,
          value,
          headers: newHeaders({
            id: value.eventId,
            source: '/bench',
            type: `no.nyemetoder.method.${value.type}`,
          }),
        })),
        { to: topics[Topics.methodEvents] },
      );
    }
    await seed.producer.disconnect();
    const started = performance.now();
    await hub.start();
    console.log(
      `\nend to end over Kafka: ${events.length} catalogue events on the topic; hub with eu-jca ready in ${(performance.now() - started).toFixed(0)} ms`,
    );
    const sender = new JcaSender(hub.url!, await hub.devToken(['eu-jca:intake:write']));
    const jcas = jcasForCatalogue(store).map((j) => j.doc);
    const pick = (i: number) => ({
      ...jcas[i % jcas.length]!,
      procedureId: `BENCH-${suffix.toUpperCase()}-${i}`,
    });
    const statuses = new Map<number, number>();
    const post = async (i: number, format: 'json' | 'xml') => {
      const r = await sender.post(pick(i), format);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      return r.ms;
    };
    const sequential: number[] = [];
    for (let i = 0; i < options.requests; i++) sequential.push(await post(i, i % 2 === 0 ? 'json' : 'xml'));
    let next = options.requests;
    const end = options.requests * 2;
    const concurrent: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < end) concurrent.push(await post(next++, 'json'));
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const bombs: number[] = [];
    const underLoad = Promise.all(
      Array.from({ length: 50 }, async () => {
        bombs.push((await sender.postRaw(hostile.billionLaughs(), 'application/xml')).ms);
      }),
    );
    const good = await post(end + 1, 'xml');
    await underLoad;
    console.log(
      `${'request'.padEnd(34)} ${['p50', 'p95', 'p99', 'max'].map((h) => h.padStart(9)).join(' ')}`,
    );
    row(`intake, one at a time (${options.requests})`, sequential, 'ms');
    row(`intake, ${options.concurrency} in flight (${options.requests})`, concurrent, 'ms');
    row('billion laughs refused (50 at once)', bombs, 'ms');
    console.log(
      `throughput with ${options.concurrency} in flight: ${(options.requests / seconds).toFixed(0)} notifications/s; ` +
        `a good notification among 50 bombs: ${good.toFixed(1)} ms; statuses ${[...statuses].map(([s, c]) => `${s}×${c}`).join(', ')}`,
    );
  } finally {
    await hub.stop();
    await admin
      .deleteTopics({ topics: [...Object.values(topics), `${topics[Topics.jcaNotifications]}.dlq`] })
      .catch(() => undefined);
    await admin.disconnect();
  }
}

async function main() {
  const store = inProcess();
  if (options.kafka) await endToEnd(store);
}

main().catch((error: unknown) => {
  console.error(`bench:eu-jca failed: ${(error as Error).stack ?? error}`);
  process.exit(1);
});

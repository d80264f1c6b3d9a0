/**
 * Benchmark: the fest full extract. Fills a condition catalogue with N synthetic conditions (Norwegian
 * texts, several substances and ATC codes each), then renders and streams the whole FEST XML document
 *   stream  into a byte-counting sink in process
 *   http    over a loopback HTTP connection to a client that reads every byte (plain and gzip)
 * and prints time, bytes and memory for 2,000 and 20,000 conditions (or --sizes), with the growth
 * between the smallest and largest size: the catalogue itself, and the peak while streaming.
 * Targets: 20,000 conditions rendered and streamed in under 1 s; memory growth 2,000 -> 20,000 under 50 MB.
 *
 *   node --expose-gc --import tsx bench/fest-extract.ts [--sizes 2000,20000] [--rounds 3]
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Command } from 'commander';
import { VilkarCatalogue } from '../adapters/fest/catalogue.ts';
import { uuidV5 } from '../adapters/fest/ids.ts';
import { festDocumentStream } from '../adapters/fest/xml.ts';
import type { FestVilkar } from '../contracts/generated/types.ts';

const options = new Command('bench:fest-extract')
  .description('Time and memory of rendering and streaming the FEST full extract.')
  .option('--sizes <list>', 'catalogue sizes, comma-separated', '2000,20000')
  .option('--rounds <n>', 'timed rounds per size (the best and the median are printed)', (v) => Number(v), 3)
  .parse()
  .opts<{ sizes: string; rounds: number }>();

const sizes = options.sizes.split(',').map(Number);
const render = { codeSetOid: '2.16.578.1.12.4.1.1.9901' };
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) process.stderr.write('note: run with node --expose-gc for steadier memory figures\n');
const MB = 1024 * 1024;

function condition(i: number): FestVilkar {
  const id = `ID${2016 + (i % 10)}_${String(i).padStart(5, '0')}`;
  return {
    vilkarId: `NM-${id}`,
    methodId: id,
    catalogueVersion: i + 1,
    withdrawn: false,
    statusCode: 'MIDLERTIDIG_INNFORT',
    statusText: 'Midlertidig innført',
    text:
      `Legemiddel ${i} til behandling av småcellet lungekreft (voksne, ECOG 0–1) er midlertidig innført. ` +
      'Besluttet av Beslutningsforum for nye metoder 24.01.2022. Kan tas i bruk fra 01.02.2022. Skal revurderes innen 01.02.2024; gjelder til ny beslutning er tatt. ' +
      'Pasienter < 18 år & gravide: se preparatomtalen.',
    validFrom: '2022-02-01',
    validTo: null,
    substances: ['nivolumab', 'ipilimumab'],
    atcCodes: ['L01FF01', 'L01FX04'],
    indication: 'Småcellet lungekreft',
    link: `https://www.nyemetoder.no/metoder/${id}`,
    changedAt: new Date(Date.UTC(2022, 0, 24, 10, 0, 0) + i * 1000).toISOString(),
    entryId: `ID_${uuidV5(`bench:${id}`)}`,
    earlierEntries: [],
    vilkarNr: i + 1,
  };
}

const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};

/** Streams the extract into a sink, sampling heap and RSS as chunks pass. */
async function streamOnce(catalogue: VilkarCatalogue) {
  let bytes = 0;
  let peakHeap = 0;
  let peakRss = 0;
  const started = performance.now();
  await pipeline(
    festDocumentStream(catalogue.active(), Date.now(), render),
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        bytes += Buffer.byteLength(chunk);
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
        done();
      },
    }),
  );
  return { ms: performance.now() - started, bytes, peakHeap, peakRss };
}

/** An untimed round that collects garbage every 10 chunks: the heap the stream really keeps alive. */
async function liveHeapOnce(catalogue: VilkarCatalogue): Promise<number> {
  let chunks = 0;
  let peak = 0;
  await pipeline(
    festDocumentStream(catalogue.active(), Date.now(), render),
    new Writable({
      write(_chunk, _encoding, done) {
        if (++chunks % 10 === 0) peak = Math.max(peak, heap());
        done();
      },
    }),
  );
  return peak;
}

/** Streams it over loopback HTTP, as the hub's route does, to a client that reads it all. */
async function httpOnce(catalogue: VilkarCatalogue, gzip: boolean) {
  const server = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/xml; charset=utf-8',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    const document = festDocumentStream(catalogue.active(), Date.now(), render);
    void pipeline(gzip ? document.pipe(createGzip()) : document, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const started = performance.now();
  const bytes = await new Promise<number>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/fest/v1/vilkar' }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
      });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
  const ms = performance.now() - started;
  await new Promise((r) => server.close(r));
  return { ms, bytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

interface Row {
  size: number;
  catalogueMb: number;
  streamBest: number;
  streamMedian: number;
  httpBest: number;
  gzipBest: number;
  bytes: number;
  gzipBytes: number;
  peakHeapMb: number;
  peakRssMb: number;
  liveHeapMb: number;
}
const rows: Row[] = [];
const baseline = heap();
for (const size of sizes) {
  const before = heap();
  let catalogue: VilkarCatalogue | undefined = new VilkarCatalogue();
  for (let i = 0; i < size; i++) catalogue.offer(condition(i));
  const catalogueMb = (heap() - before) / MB;
  await streamOnce(catalogue); // warm-up
  const stream = [];
  for (let r = 0; r < options.rounds; r++) stream.push(await streamOnce(catalogue));
  const http = [];
  const gzip = [];
  for (let r = 0; r < options.rounds; r++) {
    http.push(await httpOnce(catalogue, false));
    gzip.push(await httpOnce(catalogue, true));
  }
  rows.push({
    size,
    catalogueMb,
    streamBest: Math.min(...stream.map((s) => s.ms)),
    streamMedian: median(stream.map((s) => s.ms)),
    httpBest: Math.min(...http.map((s) => s.ms)),
    gzipBest: Math.min(...gzip.map((s) => s.ms)),
    bytes: stream[0]!.bytes,
    gzipBytes: gzip[0]!.bytes,
    peakHeapMb: (Math.max(...stream.map((s) => s.peakHeap)) - baseline) / MB,
    peakRssMb: Math.max(...stream.map((s) => s.peakRss)) / MB,
    liveHeapMb: gc ? ((await liveHeapOnce(catalogue)) - baseline) / MB : Number.NaN,
  });
  catalogue = undefined;
}

process.stdout.write(
  `\nFEST full extract, ${options.rounds} rounds per size (node ${process.version}, ${gc ? 'with' : 'without'} --expose-gc)\n\n`,
);
process.stdout.write(
  '| conditions | stream best | stream median | HTTP best | HTTP+gzip best | XML size | gzip size | catalogue heap | peak heap while streaming | live heap while streaming | peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n',
);
for (const r of rows) {
  process.stdout.write(
    `| ${r.size} | ${fmt(r.streamBest)} | ${fmt(r.streamMedian)} | ${fmt(r.httpBest)} | ${fmt(r.gzipBest)} | ${(r.bytes / MB).toFixed(1)} MB | ${(r.gzipBytes / MB).toFixed(1)} MB | ${r.catalogueMb.toFixed(1)} MB | ${r.peakHeapMb.toFixed(1)} MB | ${r.liveHeapMb.toFixed(1)} MB | ${r.peakRssMb.toFixed(0)} MB |\n`,
  );
}
const small = rows[0]!;
const large = rows[rows.length - 1]!;
const growth = large.peakHeapMb - small.peakHeapMb;
process.stdout.write(
  `\nmemory growth ${small.size} -> ${large.size}: peak heap ${growth.toFixed(1)} MB (of which the catalogue itself ${(large.catalogueMb - small.catalogueMb).toFixed(1)} MB) — target < 50 MB: ${growth < 50 ? 'met' : 'NOT met'}\n`,
);
process.stdout.write(
  `live heap while streaming (garbage collected every 10 chunks) ${small.size} -> ${large.size}: ${(large.liveHeapMb - small.liveHeapMb).toFixed(1)} MB\n`,
);
process.stdout.write(
  `${large.size} conditions rendered and streamed over HTTP in ${fmt(large.httpBest)} (gzip ${fmt(large.gzipBest)}) — target < 1 s: ${large.httpBest < 1000 ? 'met' : 'NOT met'}\n`,
);

/**
 * Benchmark: the fest full extract. Fills a condition catalogue with N synthetic conditions (Norwegian
 * texts, several substances and ATC codes each), then renders and streams the whole FEST XML document
 *   stream  into a byte-counting sink in process
 *   http    over a loopback HTTP connection to a client that reads every byte (plain and gzip)
 * and prints time, bytes and memory for 2,000 and 20,000 conditions (or --sizes), with the growth
 * between the smallest and largest size: the catalogue itself, and the peak while streaming.
 * Targets: 20,000 conditions rendered and streamed in under 1 s; memory growth 2,000 -> 20,000 under 50 MB.
 *
 * Then the merged document (GET /fest/v1/fest): a generated FEST source extract of 20 and 200 MB (or --merge-mb,
 * written once under .stack/bench/) is indexed, then merged with 2,000 conditions into a byte-counting sink, side by
 * side with a plain streaming parse (saxes, the same parser and chunk size) of the same file: the floor.
 * Targets: merge within 2x the plain parse; peak heap growth of the merge 20 MB -> 200 MB under 50 MB.
 *
 *   node --expose-gc --import tsx bench/fest-extract.ts [--sizes 2000,20000] [--rounds 3] [--merge-mb 20,200]
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Command } from 'commander';
import { SaxesParser } from 'saxes';
import { linkConditions } from '../adapters/fest/links.ts';
import { mergedFest } from '../adapters/fest/merge.ts';
import { readProductIndex } from '../adapters/fest/productIndex.ts';
import { VilkarCatalogue } from '../adapters/fest/catalogue.ts';
import { uuidV5 } from '../adapters/fest/ids.ts';
import { festDocumentStream } from '../adapters/fest/xml.ts';
import type { FestVilkar } from '../contracts/generated/types.ts';
import { festSourceXml, generatedMedicines, writeFestSource } from '../test/support/festExtract.ts';

const options = new Command('bench:fest-extract')
  .description('Time and memory of rendering and streaming the FEST full extract.')
  .option('--sizes <list>', 'catalogue sizes, comma-separated', '2000,20000')
  .option('--rounds <n>', 'timed rounds per size (the best and the median are printed)', (v) => Number(v), 3)
  .option(
    '--merge-mb <list>',
    'sizes of the generated FEST source extracts to merge, in MB; empty to skip',
    '20,200',
  )
  .option(
    '--merge-rounds <n>',
    'timed merge and parse rounds per source size (the best is printed)',
    (v) => Number(v),
    1,
  )
  .parse()
  .opts<{ sizes: string; rounds: number; mergeMb: string; mergeRounds: number }>();

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

// ---- the merged document: a FEST source extract with our conditions merged in -------------------------------------

const SECTIONS = 3;
/** A generated source extract of about `mb` MB under .stack/bench/, written once and reused. */
async function sourceOf(mb: number): Promise<{ path: string; medicines: number }> {
  const perMedicine =
    Buffer.byteLength(festSourceXml({ medicines: [...generatedMedicines(100)], sections: SECTIONS })) / 100;
  const medicines = Math.round((mb * MB) / perMedicine);
  const dir = '.stack/bench';
  const path = `${dir}/fest-source-${mb}mb.xml`;
  if (!existsSync(path)) {
    await mkdir(dir, { recursive: true });
    await writeFestSource(`${path}.partial`, {
      medicines: generatedMedicines(medicines),
      sections: SECTIONS,
      katVilkar: 'one',
    });
    await rename(`${path}.partial`, path);
  }
  return { path, medicines };
}

/** Two conditions that each link an eighth of the products; the rest link none. */
function mergeConditions(count: number): FestVilkar[] {
  // Two of the eight ATC codes the generated products use: a quarter of the products are linked.
  const codes = [...new Set([...generatedMedicines(2)].map((m) => m.atc!))];
  return Array.from({ length: count }, (_, i) => ({
    ...condition(i),
    atcCodes: i < codes.length ? [codes[i]!] : [`V99XX${String(i % 100).padStart(2, '0')}`],
    substances: [`stoff ${i}`],
  }));
}

const READ_CHUNK = 1 << 18;
/** The floor: the same parser over the same file with nothing done per event. */
async function plainParse(path: string) {
  const parser = new SaxesParser({ xmlns: true });
  let elements = 0;
  let peakHeap = 0;
  parser.on('opentag', () => {
    elements++;
  });
  const before = heap();
  const started = performance.now();
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: READ_CHUNK })) {
    parser.write(chunk as string);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed); // a sample per 256 KB read
  }
  parser.close();
  return { ms: performance.now() - started, elements, peakGrowth: peakHeap - before };
}

async function mergeOnce(path: string, conditions: FestVilkar[], links: Map<string, string[]>) {
  let bytes = 0;
  let peakHeap = 0;
  const before = heap();
  const started = performance.now();
  await pipeline(
    Readable.from(mergedFest({ sourcePath: path, conditions, links, render })),
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        const before = bytes;
        bytes += Buffer.byteLength(chunk);
        // About a sample per 256 KB written, as the plain parse samples per 256 KB read.
        if (Math.floor(bytes / READ_CHUNK) !== Math.floor(before / READ_CHUNK))
          peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
        done();
      },
    }),
  );
  return { ms: performance.now() - started, bytes, peakGrowth: peakHeap - before };
}

interface MergeRow {
  mb: number;
  bytes: number;
  products: number;
  linked: number;
  indexMs: number;
  indexHeapMb: number;
  parseMs: number;
  parsePeakMb: number;
  mergeMs: number;
  mergePeakMb: number;
  outBytes: number;
}
const mergeSizes = options.mergeMb
  .split(',')
  .filter((x) => x.trim() !== '')
  .map(Number);
if (mergeSizes.length > 0) {
  const conditions = mergeConditions(2000);
  const mergeRows: MergeRow[] = [];
  for (const mb of mergeSizes) {
    const { path } = await sourceOf(mb);
    const bytes = statSync(path).size;
    const beforeIndex = heap();
    const indexStarted = performance.now();
    let index: Awaited<ReturnType<typeof readProductIndex>> | undefined = await readProductIndex(
      createReadStream(path, { encoding: 'utf8', highWaterMark: READ_CHUNK }),
    );
    const indexMs = performance.now() - indexStarted;
    let links: Map<string, string[]> | undefined = linkConditions(index.products, conditions).byProduct;
    const indexHeapMb = (heap() - beforeIndex) / MB;
    const products = index.products.length;
    index = undefined; // the merge needs only the links
    const parses = [];
    const merges = [];
    for (let r = 0; r < options.mergeRounds; r++) {
      parses.push(await plainParse(path));
      merges.push(await mergeOnce(path, conditions, links));
    }
    mergeRows.push({
      mb,
      bytes,
      products,
      linked: links.size,
      indexMs,
      indexHeapMb,
      parseMs: Math.min(...parses.map((p) => p.ms)),
      parsePeakMb: Math.max(...parses.map((p) => p.peakGrowth)) / MB,
      mergeMs: Math.min(...merges.map((m) => m.ms)),
      mergePeakMb: Math.max(...merges.map((m) => m.peakGrowth)) / MB,
      outBytes: merges[0]!.bytes,
    });
    links = undefined;
  }
  process.stdout.write(
    `\nFEST merged document (GET /fest/v1/fest): generated source extracts with ${conditions.length} conditions, best of ${options.mergeRounds}\n\n`,
  );
  process.stdout.write(
    '| source | products | linked products | index read | index heap | plain parse (floor) | merge | merge / parse | merged size | peak heap over start, parse | peak heap over start, merge |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n',
  );
  for (const r of mergeRows) {
    process.stdout.write(
      `| ${(r.bytes / MB).toFixed(0)} MB | ${r.products} | ${r.linked} | ${fmt(r.indexMs)} | ${r.indexHeapMb.toFixed(1)} MB | ${fmt(r.parseMs)} | ${fmt(r.mergeMs)} | ${(r.mergeMs / r.parseMs).toFixed(2)}x | ${(r.outBytes / MB).toFixed(1)} MB | ${r.parsePeakMb.toFixed(1)} MB | ${r.mergePeakMb.toFixed(1)} MB |\n`,
    );
  }
  const first = mergeRows[0]!;
  const last = mergeRows[mergeRows.length - 1]!;
  const ratio = last.mergeMs / last.parseMs;
  const growthMerge = last.mergePeakMb - first.mergePeakMb;
  process.stdout.write(
    `\nmerge of ${(last.bytes / MB).toFixed(0)} MB in ${fmt(last.mergeMs)}, ${ratio.toFixed(2)}x the plain parse (${fmt(last.parseMs)}) — target < 2x: ${ratio < 2 ? 'met' : 'NOT met'}\n`,
  );
  process.stdout.write(
    `merge peak heap growth ${(first.bytes / MB).toFixed(0)} MB -> ${(last.bytes / MB).toFixed(0)} MB: ${growthMerge.toFixed(1)} MB — target < 50 MB: ${growthMerge < 50 ? 'met' : 'NOT met'} (the product index, held between reloads, grows with the extract: ${first.indexHeapMb.toFixed(1)} -> ${last.indexHeapMb.toFixed(1)} MB)\n`,
  );
}

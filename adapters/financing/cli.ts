/**
 * `metodehub financing export`: the financing feed of a period to a CSV or JSON file, page by page from a
 * running hub's API, with a progress bar. Every page is read as the feed stood when the first one was
 * (asOf), and the file appears only when complete.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { callApi, defaultHubUrl, tokenFor } from '../../core/cli/apiClient.ts';
import { loadConfig, loadSettings } from '../../core/config/spec.ts';
import { BOM, csvHeader, csvRows } from './csv.ts';
import type { FeedEntry, PeriodBy } from './decisionFeed.ts';
import { isCalendarDate } from './mapping.ts';
import { financingSettings } from './settings.ts';

export interface ExportOptions {
  hub: string;
  token: string;
  from: string;
  to: string;
  by: PeriodBy;
  asOf?: string;
  includeSuperseded: boolean;
  format: 'csv' | 'json';
  separator: ';' | ',';
  pageSize: number;
  out: string;
  /** Called after each page with what is written so far and the total. */
  onProgress?: (written: number, total: number) => void;
}

export interface ExportResult {
  file: string;
  records: number;
  pages: number;
  asOf: string;
}

interface Page {
  asOf: string;
  total: number;
  next: string | null;
  decisions: FeedEntry[];
}

const fetchPage = async (hub: string, token: string, path: string): Promise<Page> =>
  (await callApi<Page>({ url: hub, token }, path)).body;

export async function exportDecisions(options: ExportOptions): Promise<ExportResult> {
  const file = resolve(options.out);
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { encoding: 'utf8' });
  const write = (text: string) =>
    new Promise<void>((done, fail) => out.write(text, (error) => (error ? fail(error) : done())));
  const query = new URLSearchParams({
    from: options.from,
    to: options.to,
    by: options.by,
    limit: String(options.pageSize),
    ...(options.asOf ? { asOf: options.asOf } : {}),
    ...(options.includeSuperseded ? { includeSuperseded: 'true' } : {}),
  });
  let path: string | null = `/financing/v1/decisions?${query}`;
  let written = 0;
  let pages = 0;
  let asOf = '';
  try {
    while (path) {
      const page = await fetchPage(options.hub, options.token, path);
      if (pages === 0) {
        asOf = page.asOf;
        await write(
          options.format === 'csv'
            ? `${BOM}${csvHeader(options.separator)}`
            : `{"from":"${options.from}","to":"${options.to}","by":"${options.by}","asOf":"${asOf}","total":${page.total},"decisions":[`,
        );
      }
      if (options.format === 'csv') await write(csvRows(page.decisions, options.separator));
      else
        await write(
          page.decisions.map((d, i) => `${written + i > 0 ? ',' : ''}\n${JSON.stringify(d)}`).join(''),
        );
      written += page.decisions.length;
      pages++;
      options.onProgress?.(written, page.total);
      path = page.next;
    }
    if (options.format === 'json') await write('\n]}\n');
    await new Promise<void>((done, fail) =>
      out.end((error?: Error | null) => (error ? fail(error) : done())),
    );
    await rename(partial, file);
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
  return { file, records: written, pages, asOf };
}

const date = (name: string) => (raw: string) => {
  if (!isCalendarDate(raw)) throw new InvalidArgumentError(`${name} must be a date YYYY-MM-DD`);
  return raw;
};
const pageSize = (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('page size must be a whole number ≥ 1');
  return n;
};

/** A token with the financing read scope: --token, METODEHUB_TOKEN, or one minted by the local dev issuer. */
const financingToken = (given: string | undefined): Promise<string> =>
  tokenFor(loadConfig(), given, [loadSettings(financingSettings).FINANCING_READ_SCOPE]);

export function financingCommand(): Command {
  const financing = new Command('financing').description(
    'The financing feed: medicine decisions with ATC code and H-prescription flag, by period',
  );
  financing
    .command('export')
    .description(
      'Write the decisions of a period to a CSV (UTF-8 with BOM, opens in a spreadsheet) or JSON file',
    )
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD', date('--from'))
    .requiredOption('--to <date>', 'last day (included), YYYY-MM-DD', date('--to'))
    .requiredOption('--out <file>', 'the file to write (replaced only when the export is complete)')
    .addOption(
      new Option(
        '--by <date>',
        'which date falls in the period: the decision date or the date it may be taken into use',
      )
        .choices(['decision', 'effective'])
        .default('decision'),
    )
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'json']).default('csv'))
    .addOption(new Option('--separator <char>', 'CSV field separator').choices([';', ',']).default(';'))
    .option('--as-of <instant>', 'the feed as it stood then: an ISO instant or a date (end of that day)')
    .option('--include-superseded', 'also list records superseded by a later decision or correction', false)
    .option('--page-size <n>', 'records per request', pageSize, 500)
    .option('--no-progress', 'no progress bar')
    .option('--hub <url>', 'hub API base URL (default METODEHUB_URL or http://HUB_HOST:HUB_PORT)')
    .option(
      '--token <jwt>',
      'bearer token with the financing read scope (default METODEHUB_TOKEN, or the dev issuer)',
    )
    .action(
      async (o: {
        from: string;
        to: string;
        out: string;
        by: PeriodBy;
        format: 'csv' | 'json';
        separator: ';' | ',';
        asOf?: string;
        includeSuperseded: boolean;
        pageSize: number;
        progress: boolean;
        hub?: string;
        token?: string;
      }) => {
        const bar = o.progress
          ? new cliProgress.SingleBar(
              {
                format: 'exporting |{bar}| {percentage}% {value}/{total} decisions | {eta_formatted} left',
                stream: process.stderr,
                hideCursor: true,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
        let started = false;
        try {
          const result = await exportDecisions({
            hub: o.hub ?? defaultHubUrl(loadConfig()),
            token: await financingToken(o.token),
            from: o.from,
            to: o.to,
            by: o.by,
            asOf: o.asOf,
            includeSuperseded: o.includeSuperseded,
            format: o.format,
            separator: o.separator,
            pageSize: o.pageSize,
            out: o.out,
            onProgress: (written, total) => {
              if (!started) bar?.start(total, 0);
              started = true;
              bar?.update(written);
            },
          });
          bar?.stop();
          process.stdout.write(
            `wrote ${result.records} decisions (${o.by} date ${o.from}..${o.to}, as of ${result.asOf}) to ${result.file}\n`,
          );
        } catch (error) {
          bar?.stop();
          throw error;
        }
      },
    );
  return financing;
}

/** `metodehub dlq list|show|redrive|discard`: the dead-letter tools over the operations API. */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import type { DeadLetterDetail, DeadLetterSummary, RedriveResult } from '../ops/deadLetters.ts';
import { ApiError, type ApiTarget, callApi, type TargetOptions } from './apiClient.ts';
import { out, table } from './tables.ts';

const path = (entryId: string) => `/ops/api/dead-letters/${encodeURIComponent(entryId)}`;

export function deadLetterCommand(
  target: (options: TargetOptions) => Promise<ApiTarget>,
  withTarget: (command: Command) => Command,
): Command {
  const dlq = new Command('dlq').description(
    'Dead letters: list them, inspect one decoded with its reason, redrive after a fix, discard with a reason',
  );

  withTarget(
    dlq
      .command('list')
      .description('Every dead letter on every <topic>.dlq, oldest first, with its reason and what was done')
      .option('--topic <name>', 'only this topic')
      .option('--consumer <name>', 'only those this consumer refused (e.g. financing)')
      .option('--pending', 'only those neither redriven nor discarded'),
  ).action(async (options: TargetOptions & { topic?: string; pending?: boolean; consumer?: string }) => {
    const query = new URLSearchParams();
    if (options.topic) query.set('topic', options.topic);
    if (options.consumer) query.set('consumer', options.consumer);
    if (options.pending) query.set('pending', 'true');
    const { body } = await callApi<{ count: number; recordCount: number; entries: DeadLetterSummary[] }>(
      await target(options),
      `/ops/api/dead-letters?${query}`,
    );
    if (options.json) return out(JSON.stringify(body, null, 2));
    out(`${body.count} dead letter(s) of ${body.recordCount} message(s)`);
    if (body.count === 0) return;
    out(
      table(
        ['entry', 'consumer', 'refused by', 'key', 'class', 'when', 'settled', 'reason'],
        body.entries.map((e) => [
          e.entryId,
          e.consumer,
          e.refusedBy.length > 1 ? `${e.refusedBy.length}: ${e.refusedBy.join(', ')}` : e.consumer,
          e.key ?? '',
          e.errorClass,
          e.time.slice(0, 19),
          e.settled ? `${e.settled.action.toLowerCase()} by ${e.settled.actor}` : 'pending',
          e.reason.slice(0, 90),
        ]),
      ),
    );
  });

  withTarget(
    dlq.command('show <entryId>').description('One dead letter: reason, headers, the message decoded'),
  ).action(async (entryId: string, options: TargetOptions) => {
    const { body } = await callApi<DeadLetterDetail>(await target(options), path(entryId));
    if (options.json) return out(JSON.stringify(body, null, 2));
    out(
      [
        `${body.entryId}   ${body.settled ? `${body.settled.action} by ${body.settled.actor} at ${body.settled.at}` : 'pending'}`,
        `from         ${body.sourceTopic} partition ${body.sourcePartition} offset ${body.sourceOffset}`,
        `consumer     ${body.consumer} (refused by ${body.refusedBy.join(', ')})`,
        `when         ${body.time}`,
        `class        ${body.errorClass}`,
        `reason       ${body.reason}`,
        `key          ${body.key ?? ''}   event id ${body.eventId ?? '(none)'}   ${body.bytes} bytes`,
        body.decoded !== null
          ? `message\n${JSON.stringify(body.decoded, null, 2)}`
          : `not decodable: ${body.undecodable}\nfirst bytes  ${body.preview ?? body.previewWithheld ?? ''}`,
      ].join('\n'),
    );
  });

  withTarget(
    dlq
      .command('redrive [entryIds...]')
      .description(
        'Put dead letters back on their source topic, for the consumer that refused each, once the cause is fixed. One already redriven or discarded is left alone.',
      )
      .option('--all', 'every pending dead letter (of --topic, if given)')
      .option('--topic <name>', 'with --all: only this topic')
      .option('--note <text>', 'the fix that was made, for the audit record'),
  ).action(
    async (entryIds: string[], options: TargetOptions & { all?: boolean; topic?: string; note?: string }) => {
      const api = await target(options);
      let ids = entryIds;
      if (options.all) {
        const query = new URLSearchParams({ pending: 'true' });
        if (options.topic) query.set('topic', options.topic);
        const { body } = await callApi<{ entries: DeadLetterSummary[] }>(
          api,
          `/ops/api/dead-letters?${query}`,
        );
        ids = body.entries.map((e) => e.entryId);
      }
      if (ids.length === 0) {
        out(options.all ? 'nothing pending to redrive' : 'name the entries to redrive, or use --all');
        return;
      }
      const bar =
        !options.json && process.stderr.isTTY
          ? new cliProgress.SingleBar(
              { format: 'redrive [{bar}] {value}/{total} {entry}', stream: process.stderr },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      bar?.start(ids.length, 0, { entry: '' });
      const results: (RedriveResult | { entryId: string; outcome: 'already-settled'; detail: string })[] = [];
      for (const id of ids) {
        try {
          const { body } = await callApi<RedriveResult>(api, `${path(id)}/redrive`, {
            method: 'POST',
            body: options.note ? { note: options.note } : {},
          });
          results.push(body);
        } catch (error) {
          if (!(error instanceof ApiError) || error.problem?.code !== 'ALREADY_SETTLED') throw error;
          results.push({ entryId: id, outcome: 'already-settled', detail: error.problem.detail });
        }
        bar?.increment(1, { entry: id });
      }
      bar?.stop();
      if (options.json) return out(JSON.stringify(results, null, 2));
      for (const r of results)
        out(
          r.outcome === 'redriven'
            ? `${r.entryId}: redriven to ${r.redrivenOffset}, for ${r.consumer}`
            : `${r.entryId}: left alone, ${r.detail}`,
        );
    },
  );

  withTarget(
    dlq
      .command('discard <entryId>')
      .description('Mark a dead letter as not wanted; the audit record keeps who, when and why')
      .requiredOption('--note <text>', 'why it is discarded'),
  ).action(async (entryId: string, options: TargetOptions & { note: string }) => {
    const { body } = await callApi<{ entryId: string; at: string }>(
      await target(options),
      `${path(entryId)}/discard`,
      { method: 'POST', body: { note: options.note } },
    );
    out(options.json ? JSON.stringify(body, null, 2) : `${body.entryId}: discarded at ${body.at}`);
  });

  return dlq;
}

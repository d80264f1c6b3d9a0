import { Command, InvalidArgumentError } from 'commander';
import { type ApiTarget, callApi, defaultHubUrl, tokenFor, withTarget } from '../../core/cli/apiClient.ts';
import { table } from '../../core/cli/tables.ts';
import { type Config, loadConfig, loadSettings } from '../../core/config/spec.ts';
import { ImplementationStatusValues } from '../../contracts/generated/types.ts';
import { osloDate } from './implementationStatus.ts';
import type { GuidelineTimes, OverdueAlert } from './monitoring.ts';
import { type HdirSettings, hdirSettings } from './settings.ts';

interface TargetOptions {
  hub?: string;
  token?: string;
  json?: boolean;
}

export interface StatusInput {
  methodId: string;
  guidelineId: string;
  status: string;
  date: string;
  note?: string;
}

interface FlagRow {
  flagId: string;
  methodName: string | null;
  implementationStatus: string;
  implementationStatusOn: string | null;
  decidedOn: string | null;
  active: boolean;
  origin: string;
  run: { overdue: boolean; deadline: string | null; daysOverdue: number };
}

/** Reports an implementation status through the hub's API; the API's answer, or an ApiError naming the problem. */
export async function reportImplementationStatus(target: ApiTarget, input: StatusInput) {
  const { body } = await callApi<{ outcome: string; flag: FlagRow }>(
    target,
    '/hdir/v1/implementation-status',
    {
      method: 'POST',
      body: { ...input, note: input.note ?? null },
    },
  );
  return body;
}

/** --token, METODEHUB_TOKEN, or one minted by the local dev issuer with the hdir read and status scopes. */
/** A token with Hdir's read and status scopes, for the operator: --token, METODEHUB_TOKEN, or the local dev issuer. */
export const operatorToken = (config: Config, settings: HdirSettings, given?: string): Promise<string> =>
  tokenFor(
    config,
    given,
    [settings.HDIR_READ_SCOPE, settings.HDIR_STATUS_SCOPE],
    `operator:${process.env.USER ?? 'unknown'}`,
  );

const statusArgument = (raw: string): string => {
  const status = raw.toUpperCase().replaceAll('-', '_');
  if (!(ImplementationStatusValues as readonly string[]).includes(status))
    throw new InvalidArgumentError(`must be one of ${ImplementationStatusValues.join(', ')}`);
  return status;
};

export function hdirCommand(out: (text: string) => void = (t) => process.stdout.write(`${t}\n`)): Command {
  let loaded: { config: Config; settings: HdirSettings } | undefined;
  const targetOf = async (options: TargetOptions): Promise<ApiTarget> => {
    loaded ??= { config: loadConfig(), settings: loadSettings(hdirSettings) };
    return {
      url: options.hub ?? defaultHubUrl(loaded.config),
      token: await operatorToken(loaded.config, loaded.settings, options.token),
    };
  };
  const command = new Command('hdir').description(
    'Helsedirektoratet: guideline flags, implementation runs, overdue alerts',
  );

  withTarget(
    command
      .command('flags')
      .description('Flagged methods with their implementation run')
      .option('--status <status>', 'only runs in this status', statusArgument)
      .option('--overdue', 'only runs past their deadline')
      .option('--method <id>', 'only this method')
      .option('--guideline <code>', 'only this guideline')
      .option('--all', 'also flags that were removed'),
  ).action(
    async (
      options: TargetOptions & {
        status?: string;
        overdue?: boolean;
        method?: string;
        guideline?: string;
        all?: boolean;
      },
    ) => {
      const query = new URLSearchParams();
      if (options.status) query.set('status', options.status);
      if (options.overdue) query.set('overdue', 'true');
      if (options.method) query.set('methodId', options.method);
      if (options.guideline) query.set('guidelineId', options.guideline);
      if (options.all) query.set('includeInactive', 'true');
      const { body } = await callApi<{ count: number; flags: FlagRow[] }>(
        await targetOf(options),
        `/hdir/v1/flags?${query}`,
      );
      if (options.json) return out(JSON.stringify(body, null, 2));
      out(
        `${body.count} flag(s)\n${table(
          ['flag', 'status', 'since', 'decided', 'deadline', 'overdue', 'method'],
          body.flags.map((f) => [
            `${f.flagId}${f.active ? '' : ' (removed)'}`,
            f.implementationStatus,
            f.implementationStatusOn,
            f.decidedOn,
            f.run.deadline,
            f.run.overdue ? `${f.run.daysOverdue} d` : '',
            (f.methodName ?? '').slice(0, 50),
          ]),
        )}`,
      );
    },
  );

  withTarget(
    command
      .command('status <methodId> <guidelineId> <status>')
      .description(
        `Set the status of a method's implementation run in a guideline: ${ImplementationStatusValues.join(', ')}`,
      )
      .option('--date <date>', 'the date it took effect, YYYY-MM-DD (default today in Norway)')
      .option('--note <text>', 'what to record with it'),
  ).action(
    async (
      methodId: string,
      guidelineId: string,
      status: string,
      options: TargetOptions & { date?: string; note?: string },
    ) => {
      const answer = await reportImplementationStatus(await targetOf(options), {
        methodId,
        guidelineId,
        status: statusArgument(status),
        date: options.date ?? osloDate(),
        note: options.note,
      });
      out(
        options.json
          ? JSON.stringify(answer, null, 2)
          : `${answer.flag.flagId}: ${answer.flag.implementationStatus} since ${answer.flag.implementationStatusOn} (${answer.outcome})`,
      );
    },
  );

  withTarget(command.command('alerts').description('Implementation runs past their deadline')).action(
    async (options: TargetOptions) => {
      const { body } = await callApi<{ asOf: string; count: number; alerts: OverdueAlert[] }>(
        await targetOf(options),
        '/hdir/v1/alerts',
      );
      if (options.json) return out(JSON.stringify(body, null, 2));
      out(
        `${body.count} overdue run(s) as of ${body.asOf}\n${table(
          ['flag', 'status', 'decided', 'deadline', 'days over', 'method'],
          body.alerts.map((a) => [
            a.flagId,
            a.implementationStatus,
            a.decidedOn,
            a.deadline,
            a.daysOverdue,
            (a.methodName ?? '').slice(0, 50),
          ]),
        )}`,
      );
    },
  );

  withTarget(
    command
      .command('times')
      .description('Days from decision to implemented per guideline, open and overdue runs'),
  ).action(async (options: TargetOptions) => {
    const { body } = await callApi<{ asOf: string; guidelines: GuidelineTimes[] }>(
      await targetOf(options),
      '/hdir/v1/implementation-times',
    );
    if (options.json) return out(JSON.stringify(body, null, 2));
    out(
      table(
        ['guideline', 'implemented', 'median d', 'p90 d', 'max d', 'open', 'overdue'],
        body.guidelines.map((g) => [
          g.guidelineId,
          g.implemented,
          g.medianDays,
          g.p90Days,
          g.maxDays,
          g.open,
          g.overdue,
        ]),
      ),
    );
  });

  return command;
}

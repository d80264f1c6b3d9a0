/** `metodehub follow-up alerts|list|documentation-complete`: the secretariat's follow-up over the API. */
import { randomUUID } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { FollowUpAlerts } from '../followup/followUp.ts';
import type { TemporaryIntroduction } from '../followup/temporaryIntroductions.ts';
import { isCalendarDate } from '../http/queryFormats.ts';
import { osloDateOf } from '../time/oslo.ts';
import { type ApiTarget, asOfQuery, callApi, type TargetOptions } from './apiClient.ts';
import { out, table } from './tables.ts';

const calendarDate = (raw: string): string => {
  if (!isCalendarDate(raw)) throw new InvalidArgumentError('must be a real date, YYYY-MM-DD');
  return raw;
};

export function describeAlerts(a: FollowUpAlerts): string {
  const rows = [
    ...a.reassessment.items.map((t) => [
      'reassessment',
      t.alert ?? '',
      t.methodId,
      t.reassessBy,
      t.daysLeft,
      t.name,
    ]),
    ...a.absoluteDeadlines.items.map((d) => [
      'absolute deadline',
      d.alert,
      d.methodId,
      d.absoluteDeadline,
      d.daysLeft,
      d.name,
    ]),
  ].sort((x, y) => Number(x[4]) - Number(y[4]));
  const head = `Follow-up alerts on ${a.today}: reassessment dates within ${a.reassessment.warnDays} days, absolute deadlines within ${a.absoluteDeadlines.warnDays} days`;
  if (rows.length === 0) return `${head}\nnone`;
  return `${head}\n${table(
    ['kind', 'alert', 'method', 'date', 'days left', 'name'],
    rows.map((r) => [...r.slice(0, 5), String(r[5]).slice(0, 60)]),
  )}`;
}

function describeList(today: string, items: TemporaryIntroduction[]): string {
  return `${items.length} temporary introduction(s), as of ${today}\n${table(
    ['method', 'decided', 'reassess by', 'days left', 'progress', 'alert', 'outcome measures'],
    items.map((t) => [
      t.methodId,
      t.decidedOn,
      t.reassessBy,
      t.daysLeft,
      t.progress === 'DECIDED' && t.followedBy
        ? `DECIDED ${t.followedBy.outcome} ${t.followedBy.on}`
        : t.progress,
      t.alert ?? '',
      t.outcomeMeasures.join('; ').slice(0, 70),
    ]),
  )}`;
}

export function followUpCommand(
  target: (options: TargetOptions) => Promise<ApiTarget>,
  withTarget: (command: Command) => Command,
): Command {
  const followUp = new Command('follow-up').description(
    "Follow-up on the hub's clock: temporary introductions and their reassessment, absolute deadlines of paused assessments, the documentation-complete milestone",
  );

  withTarget(
    followUp
      .command('alerts')
      .description(
        'Temporary introductions whose reassessBy date is near (FOLLOW_UP_REASSESS_WARN_DAYS) or past with no reassessment started, and paused assessments whose absolute deadline is near (FOLLOW_UP_DEADLINE_WARN_DAYS) or past',
      )
      .option('--as-of <instant>', 'judge as things stood at this ISO instant or date'),
  ).action(async (options: TargetOptions & { asOf?: string }) => {
    const { body } = await callApi<FollowUpAlerts>(
      await target(options),
      `/api/v1/follow-up/alerts${asOfQuery(options.asOf)}`,
    );
    out(options.json ? JSON.stringify(body, null, 2) : describeAlerts(body));
  });

  withTarget(
    followUp
      .command('list')
      .description(
        'Every temporary introduction (midlertidig innføring): its reassessment date, outcome measures and how far its reassessment has come',
      )
      .addOption(
        new Option('--progress <progress>', 'only these').choices(['NOT_STARTED', 'STARTED', 'DECIDED']),
      )
      .option('--as-of <instant>', 'as things stood at this ISO instant or date'),
  ).action(async (options: TargetOptions & { asOf?: string; progress?: string }) => {
    const query = new URLSearchParams();
    if (options.asOf) query.set('asOf', options.asOf);
    if (options.progress) query.set('progress', options.progress);
    const { body } = await callApi<{ today: string; items: TemporaryIntroduction[] }>(
      await target(options),
      `/api/v1/follow-up/temporary-introductions${query.size > 0 ? `?${query}` : ''}`,
    );
    out(options.json ? JSON.stringify(body, null, 2) : describeList(body.today, body.items));
  });

  withTarget(
    followUp
      .command('documentation-complete <id>')
      .description(
        "Record that the supplier's documentation is complete (DOCUMENTATION_COMPLETED): DMP's 180-day assessment clock starts on that date",
      )
      .option(
        '--on <date>',
        'the date the documentation was complete (default: today in Norway)',
        calendarDate,
      )
      .option('--note <text>', 'a note to keep with the milestone')
      .option('--actor <name>', 'who records it', `operator:${process.env.USER ?? 'unknown'}`),
  ).action(async (id: string, options: TargetOptions & { on?: string; note?: string; actor: string }) => {
    const event = {
      eventId: randomUUID(),
      methodId: id,
      type: 'DOCUMENTATION_COMPLETED',
      occurredAt: new Date().toISOString(),
      source: 'case-system',
      actor: options.actor,
      documentationCompleted: { completedOn: options.on ?? osloDateOf(), note: options.note ?? null },
    };
    const { body } = await callApi<{ results?: { outcome: string; version?: number }[] }>(
      await target(options),
      '/api/v1/case-events',
      { method: 'POST', body: event },
    );
    out(
      options.json
        ? JSON.stringify(body, null, 2)
        : `${id}: documentation complete on ${event.documentationCompleted.completedOn}`,
    );
  });

  return followUp;
}

/**
 * `npx metodehub`: run the hub, look at methods, their history and the stage statistics, replay the demo.
 * Every subcommand has --help. Reads the same environment as the hub (see `metodehub config`).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { MethodState } from '../contracts/generated/types.ts';
import { adapterCatalogue } from '../adapters/catalogue.ts';
import { financingCommand } from '../adapters/financing/cli.ts';
import { hdirCommand } from '../adapters/hdir/cli.ts';
import { configurationMarkdown, hubSettingsSections } from '../core/config/document.ts';
import { type Config, ConfigError, loadConfig, loadSettings } from '../core/config/spec.ts';
import { demoHistory, demoSummary } from '../core/demo/history.ts';
import { UnknownComponentError } from '../core/hub/hub.ts';
import { guardRejections } from '../core/hub/processGuard.ts';
import { loggerFor } from '../core/log/logger.ts';
import { componentDescriptions, componentNames, createHub, devScopes, parseComponents } from './hub.ts';
import type { ChangeLogEntry, DecisionRound } from '../core/lifecycle/changeLog.ts';
import type { RegionExceptions } from '../core/lifecycle/regionalExceptions.ts';
import {
  type AssessmentClockStatistics,
  dimensions,
  type DurationGroup,
  type NewPriceOfferRound,
  type StageWaiting,
} from '../core/lifecycle/stageStatistics.ts';
import {
  type ApiTarget,
  ApiError,
  asOfQuery,
  callApi,
  defaultHubUrl,
  type TargetOptions,
  tokenFor,
  withTarget,
} from '../core/cli/apiClient.ts';
import type { TraceEntry } from '../core/ops/trace.ts';
import { deadLetterCommand } from '../core/cli/deadLetterCommands.ts';
import { followUpCommand } from '../core/cli/followUpCommands.ts';
import { replay } from '../core/cli/simulate.ts';
import { out, table } from '../core/cli/tables.ts';

const integer = (name: string, min: number) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
  return n;
};

async function targetOf(config: Config, options: TargetOptions): Promise<ApiTarget> {
  return {
    url: options.hub ?? defaultHubUrl(config),
    token: await tokenFor(config, options.token, devScopes(config)),
  };
}

export function buildProgram(config: () => Config): Command {
  const program = new Command('metodehub')
    .description("metodehub: the integration hub of Norway's Nye metoder system")
    .showHelpAfterError('(add --help for usage)');

  program
    .command('run')
    .description(
      `Start the hub: every adapter, or those named. Each consuming adapter has its own consumer group, so instances share the work.\nAdapters:\n${componentNames.map((n) => `  ${n.padEnd(11)} ${componentDescriptions[n]}`).join('\n')}`,
    )
    .addOption(new Option('--adapters <list>', 'comma-separated adapters to run (default: all)'))
    .action(async (options: { adapters?: string }) => {
      const hub = createHub({ config: config(), components: parseComponents(options.adapters) });
      // A rejection nobody handled with Kafka away must not end every part that would recover (processGuard.ts).
      guardRejections(loggerFor('hub'));
      await hub.start();
      out(`metodehub running: ${hub.components.join(', ')}${hub.url ? ` — API at ${hub.url}` : ''}`);
      await untilSignal(() => hub.stop());
    });

  withTarget(
    program
      .command('method <id>')
      .description("A method's current state, or its state at --as-of")
      .option('--as-of <instant>', 'time travel: an ISO instant or date (end of that day, Europe/Oslo)'),
  ).action(async (id: string, options: TargetOptions & { asOf?: string }) => {
    const { body } = await callApi<{ asOf: string | null; state: MethodState }>(
      await targetOf(config(), options),
      `/api/v1/methods/${encodeURIComponent(id)}${asOfQuery(options.asOf)}`,
    );
    out(options.json ? JSON.stringify(body, null, 2) : describeMethod(body.state, body.asOf));
  });

  withTarget(
    program
      .command('history <id>')
      .description("A method's events and change log (status and text changes), up to --as-of")
      .option('--as-of <instant>', 'only what had happened by this ISO instant or date'),
  ).action(async (id: string, options: TargetOptions & { asOf?: string }) => {
    const { body } = await callApi<{ changeLog: ChangeLogEntry[]; decisions?: DecisionRound[] }>(
      await targetOf(config(), options),
      `/api/v1/methods/${encodeURIComponent(id)}/history${asOfQuery(options.asOf)}`,
    );
    out(
      options.json
        ? JSON.stringify(body, null, 2)
        : describeHistory(id, body.changeLog, body.decisions ?? []),
    );
  });

  withTarget(
    program
      .command('exceptions <id>')
      .description(
        "A method's exceptions (unntak) per regional health authority and trust: valid on the day of --as-of, and when a later decision overrode each",
      )
      .option('--as-of <instant>', 'an ISO instant or date (end of that day, Europe/Oslo); default today'),
  ).action(async (id: string, options: TargetOptions & { asOf?: string }) => {
    const { body } = await callApi<{ methodId: string; validOn: string; regions: RegionExceptions[] }>(
      await targetOf(config(), options),
      `/api/v1/methods/${encodeURIComponent(id)}/exceptions${asOfQuery(options.asOf)}`,
    );
    out(options.json ? JSON.stringify(body, null, 2) : describeExceptions(body));
  });

  withTarget(
    program
      .command('stats')
      .description(
        'Stage statistics: days per stage (median, p90, max), longest waiting now, counts per stage',
      )
      .addOption(new Option('--by <dimension>', 'drill down by').choices([...dimensions]))
      .option('--as-of <instant>', 'as things stood at this ISO instant or date')
      .option('--specialty <name>', 'only methods of this specialty')
      .addOption(
        new Option('--level <level>', 'national assessments or local mini-HTAs').choices([
          'NATIONAL',
          'LOCAL',
        ]),
      )
      .option('--limit <n>', 'longest-waiting methods per stage', integer('--limit', 1), 5),
  ).action(
    async (
      options: TargetOptions & {
        by?: string;
        asOf?: string;
        specialty?: string;
        level?: string;
        limit: number;
      },
    ) => {
      const query = new URLSearchParams({ limit: String(options.limit) });
      if (options.by) query.set('by', options.by);
      if (options.asOf) query.set('asOf', options.asOf);
      if (options.specialty) query.set('specialty', options.specialty);
      if (options.level) query.set('level', options.level);
      const { body } = await callApi<StatsAnswer>(
        await targetOf(config(), options),
        `/api/v1/stats/stages?${query}`,
      );
      out(options.json ? JSON.stringify(body, null, 2) : describeStats(body));
    },
  );

  withTarget(
    program
      .command('simulate')
      .description(
        'Replay the generated demo history (≥ 300 methods since 2016) into the hub through the case-event API. Safe to repeat: known events are dropped.',
      )
      .option(
        '--rate <n>',
        'events per second; 0 for as fast as the hub takes them',
        integer('--rate', 0),
        50,
      )
      .option('--batch <n>', 'most events per request', integer('--batch', 1), 200)
      .option('--methods <n>', 'how many methods to generate', integer('--methods', 1), 320)
      .option('--seed <n>', 'generator seed (same seed, same history)', integer('--seed', 0), 2016)
      .option('--until <date>', 'leave out what happens after this date (default: now)'),
  ).action(
    async (
      options: TargetOptions & { rate: number; batch: number; methods: number; seed: number; until?: string },
    ) => {
      const events = demoHistory({ seed: options.seed, methods: options.methods, until: options.until });
      const summary = demoSummary(events);
      process.stderr.write(
        `demo history: ${summary.methods} methods, ${summary.events} events, ${summary.firstOccurredAt} .. ${summary.lastOccurredAt}\n`,
      );
      const result = await replay({
        target: await targetOf(config(), options),
        events,
        rate: options.rate,
        batchSize: options.batch,
        progress: !options.json && process.stderr.isTTY === true,
      });
      out(
        options.json
          ? JSON.stringify(result)
          : `replayed ${result.sent} events in ${result.seconds.toFixed(1)} s (${result.requests} requests): ${result.applied} applied, ${result.duplicate} already there, ${result.accepted} written but not yet folded`,
      );
    },
  );

  withTarget(
    program
      .command('trace <id>')
      .description(
        'Every message about a method across all topics and adapters, in order, with the latency from the case event',
      ),
  ).action(async (id: string, options: TargetOptions) => {
    const { body } = await callApi<TraceAnswer>(
      await targetOf(config(), options),
      `/ops/trace/${encodeURIComponent(id)}`,
    );
    out(options.json ? JSON.stringify(body, null, 2) : describeTrace(body));
  });

  program.addCommand(hdirCommand());
  program.addCommand(financingCommand());

  program.addCommand(deadLetterCommand((options) => targetOf(config(), options), withTarget));
  program.addCommand(followUpCommand((options) => targetOf(config(), options), withTarget));

  program
    .command('token')
    .description('Mint a token from the local dev issuer (AUTH_DEV_ISSUER runs only locally)')
    .option('--scopes <list>', 'comma-separated scopes (default: the read and write scopes)')
    .option('--expires <duration>', 'lifetime, e.g. 12h, 30m', '12h')
    .action(async (options: { scopes?: string; expires: string }) => {
      const c = config();
      const { DevIssuer } = await import('../core/http/devIssuer.ts');
      const { resolve } = await import('node:path');
      const issuer = await DevIssuer.fromFile(resolve(c.DEV_ISSUER_KEY_FILE));
      out(
        await issuer.mint({
          scopes: options.scopes?.split(',') ?? devScopes(c),
          audience: c.AUTH_AUDIENCE,
          issuer: c.AUTH_ISSUER,
          expiresIn: options.expires,
        }),
      );
    });

  program
    .command('metrics')
    .description('Every Prometheus metric the hub serves at /metrics, with its type, labels and meaning')
    .action(async () => {
      const { metricsTable } = await import('../core/metrics/registry.ts');
      out(await metricsTable());
    });

  program
    .command('kafka-acls')
    .description(
      "The Kafka ACLs each component needs, from its declared flow: the hub's principal, and each adapter's own where it has one",
    )
    .option('--apply', 'create them on the cluster (KAFKA_* settings, as a principal allowed to alter ACLs)')
    .option('--adapters <names>', 'only these adapters (comma-separated; default every adapter)')
    .addHelpText(
      'after',
      `\nPrincipals: the hub's is KAFKA_SASL_USERNAME (default "metodehub"); an adapter with <ADAPTER>_KAFKA_SASL_USERNAME
(e.g. FEST_KAFKA_SASL_USERNAME) runs as that principal and gets its own grants; every other adapter runs as the hub's.
Without --apply nothing is changed: each line says what would be allowed, in kafka-acls.sh's terms.`,
    )
    .action(async (options: { apply?: boolean; adapters?: string }) => {
      const { aclsFor, applyAcls, describeAcl, hubAcls } = await import('../core/bus/acls.ts');
      const { principalSettingsOf, kafkaFromConfig } = await import('../core/bus/kafka.ts');
      const { coreFlows } = await import('../core/ops/flow.ts');
      const cfg = config();
      const wanted = options.adapters?.split(',').map((a) => a.trim());
      const chosen = adapterCatalogue.filter((a) => a.flow && (!wanted || wanted.includes(a.name)));
      const naming = { groupPrefix: 'metodehub', topic: (t: string) => t };
      const hubPrincipal = cfg.KAFKA_SASL_USERNAME || 'metodehub';
      const ownPrincipal = (name: string) => process.env[principalSettingsOf(name).username] ?? '';
      // An adapter without a principal of its own runs as the hub's, so the hub's grants include its flow.
      const underHub = chosen.filter((a) => ownPrincipal(a.name) === '');
      const plans = [
        {
          principal: hubPrincipal,
          acls: hubAcls(
            hubPrincipal,
            [...coreFlows, ...underHub.map((a) => ({ name: a.name, flow: a.flow! }))],
            naming,
          ),
        },
        ...chosen
          .filter((a) => ownPrincipal(a.name) !== '')
          .map((a) => ({
            principal: ownPrincipal(a.name),
            acls: aclsFor({ name: a.name, flow: a.flow! }, ownPrincipal(a.name), naming),
          })),
      ];
      for (const plan of plans) {
        out(`# ${plan.principal}`);
        for (const acl of plan.acls) out(describeAcl(acl));
      }
      if (options.apply) {
        await applyAcls(
          kafkaFromConfig(cfg, 'metodehub-acls'),
          plans.flatMap((p) => p.acls),
        );
        out(`applied ${plans.reduce((n, p) => n + p.acls.length, 0)} ACLs for ${plans.length} principal(s)`);
      }
    });

  program
    .command('config')
    .description('Every setting the hub reads from the environment, with its default and meaning')
    .option('--markdown', 'as the Markdown table in the README')
    .action((options: { markdown?: boolean }) => {
      if (options.markdown) {
        // The README's tables (npm run docs:config) also hold the local stack's settings.
        out(configurationMarkdown(hubSettingsSections(adapterCatalogue)));
        return;
      }
      const adapters = Object.fromEntries(
        adapterCatalogue.map((a) => [a.name, loadSettings(a.settings)] as const),
      );
      out(JSON.stringify({ core: config(), ...adapters }, null, 2));
    });

  return program;
}

interface StatsAnswer {
  asOf: string;
  methods: number;
  by: string | null;
  durations: DurationGroup[];
  longestWaiting: StageWaiting[];
  counts: Record<string, number>;
  newPriceOffers?: NewPriceOfferRound[];
  assessmentClock?: AssessmentClockStatistics;
}

interface TraceAnswer {
  methodId: string;
  messages: number;
  maxLatencyMs: number | null;
  entries: TraceEntry[];
}

function describeTrace(t: TraceAnswer): string {
  return `${t.methodId}: ${t.messages} messages${t.maxLatencyMs === null ? '' : `, slowest ${t.maxLatencyMs} ms after its case event`}\n${table(
    ['at', 'topic', 'type', 'latency ms', 'note'],
    t.entries.map((e) => [
      e.at.replace('T', ' ').slice(0, 23),
      `${e.topic} ${e.partition}:${e.offset}`,
      e.type.replace(/^no\.nyemetoder\./, ''),
      e.latencyMs ?? '',
      e.deadLetter ? `${e.deadLetter.errorClass}: ${e.deadLetter.reason.slice(0, 70)}` : '',
    ]),
  )}`;
}

function describeMethod(s: MethodState, asOf: string | null): string {
  const d = s.details;
  const lines = [
    `${s.methodId}  ${d.name}${asOf ? `   (as of ${asOf})` : ''}`,
    `status        ${s.status} since ${s.stages.at(-1)?.enteredAt ?? '?'}${s.paused ? ` (paused since ${s.paused.pausedOn}${s.paused.absoluteDeadline ? `, absolute deadline ${s.paused.absoluteDeadline}` : ''})` : ''}`,
    s.documentationCompleted ? `documentation complete ${s.documentationCompleted.completedOn}` : '',
    `type          ${d.methodType}${d.specialty ? `, ${d.specialty}` : ''}, ${d.level === 'LOCAL' ? 'local mini-HTA' : 'national'}`,
    d.substances.length > 0 ? `substances    ${d.substances.join(', ')} (${d.atcCodes.join(', ')})` : '',
    s.assignment
      ? `assignment    ${s.assignment.assignee}${s.assignment.slvTrack ? ` track ${s.assignment.slvTrack}` : ''} ordered ${s.assignment.orderedOn}`
      : '',
    s.decision
      ? `decision      ${s.decision.outcome} by ${s.decision.forum} on ${s.decision.decidedOn}${s.decision.temporaryIntroduction ? `, reassess by ${s.decision.temporaryIntroduction.reassessBy}` : ''}`
      : '',
    s.decision?.withoutDocumentation
      ? `              without documentation: ${s.decision.withoutDocumentationReason ?? '(no reason given)'}`
      : '',
    s.exceptions.length > 0
      ? `exceptions    ${s.exceptions.length} (${s.exceptions.filter((e) => !e.overriddenFrom).length} not overridden); see metodehub exceptions ${s.methodId}`
      : '',
    `registered    ${s.registeredAt}   updated ${s.updatedAt}   version ${s.version}`,
  ];
  return lines.filter(Boolean).join('\n');
}

function describeHistory(id: string, log: ChangeLogEntry[], decisions: DecisionRound[]): string {
  const rounds =
    decisions.length === 0
      ? ''
      : `\n\nDecisions\n${table(
          ['round', 'decided', 'forum', 'outcome', 'from', 'after', 'without documentation'],
          decisions.map((r) => [
            r.round,
            r.decidedOn,
            r.forum,
            r.outcome,
            r.decidedFrom ?? '',
            r.after === 'NEW_PRICE_OFFER'
              ? 'new price offer'
              : r.after === 'REASSESSMENT'
                ? 're-assessment'
                : '',
            r.withoutDocumentation ? (r.withoutDocumentationReason ?? 'yes').slice(0, 60) : '',
          ]),
        )}`;
  return `${id}: ${log.length} events\n${table(
    ['occurredAt', 'event', 'status', 'changes'],
    log.map((e) => [
      e.occurredAt.slice(0, 10),
      e.type,
      e.status ? `${e.status.from ?? '·'} -> ${e.status.to}` : '',
      e.textChanges
        .map((c) => `${c.field}: ${c.to ?? '(removed)'}`)
        .join('; ')
        .slice(0, 100),
    ]),
  )}${rounds}`;
}

function describeExceptions(body: {
  methodId: string;
  validOn: string;
  regions: RegionExceptions[];
}): string {
  const rows = body.regions.flatMap((region) =>
    region.exceptions.map((x) => [
      region.name,
      x.trust ?? '',
      x.exceptionId,
      x.kind,
      x.grantedOn,
      x.overriddenFrom
        ? `from ${x.overriddenFrom}${x.overriddenBy ? ` (${x.overriddenBy.outcome} ${x.overriddenBy.decidedOn})` : ''}`
        : '',
      x.valid ? 'valid' : '',
    ]),
  );
  const summary = body.regions.map((r) => `${r.name}: ${r.valid} valid of ${r.exceptions.length}`).join('; ');
  return `${body.methodId}: exceptions on ${body.validOn}\n${summary}\n${table(
    ['region', 'trust', 'exception', 'kind', 'granted', 'overridden', 'on the day'],
    rows,
  )}`;
}

function describeStats(s: StatsAnswer): string {
  const parts = [`Stage statistics for ${s.methods} methods, as of ${s.asOf}`, ''];
  for (const group of s.durations) {
    parts.push(`Days per stage (completed visits)${s.by ? ` — ${s.by}: ${group.group}` : ''}`);
    parts.push(
      table(
        ['stage', 'visits', 'median', 'p90', 'max', 'clock median', 'clock p90', 'clock max'],
        group.stages.map((x) => [
          x.stage,
          x.visits,
          x.medianDays,
          x.p90Days,
          x.maxDays,
          x.clockMedianDays,
          x.clockP90Days,
          x.clockMaxDays,
        ]),
      ),
      '',
    );
  }
  parts.push('Waiting longest where they are now');
  parts.push(
    table(
      ['stage', 'method', 'days', 'since', 'name'],
      s.longestWaiting.flatMap((w) =>
        w.methods.map((m) => [w.stage, m.methodId, m.days, m.enteredAt.slice(0, 10), m.name.slice(0, 60)]),
      ),
    ),
    '',
  );
  if (s.newPriceOffers && s.newPriceOffers.length > 0) {
    parts.push('New decisions after a new price offer (following NOT_INTRODUCED)');
    parts.push(
      table(
        ['method', 'reopened', 'decided again', 'days', 'name'],
        s.newPriceOffers.map((r) => [
          r.methodId,
          r.reopenedAt.slice(0, 10),
          r.decidedAgainAt?.slice(0, 10) ?? 'awaited',
          r.days ?? '',
          r.name.slice(0, 50),
        ]),
      ),
      '',
    );
  }
  const c = s.assessmentClock;
  if (c) {
    parts.push(
      `DMP's assessment clock (from complete documentation, paused days left out; limit ${c.limitDays} days)`,
      `delivered ${c.delivered}: calendar median ${c.calendar.medianDays ?? '-'} / p90 ${c.calendar.p90Days ?? '-'}, clock median ${c.clock.medianDays ?? '-'} / p90 ${c.clock.p90Days ?? '-'}; ${c.deliveredOverLimit} over the limit`,
      table(
        ['running', 'documentation', 'calendar', 'paused', 'clock', 'days left', 'name'],
        c.running.map((r) => [
          r.methodId,
          r.documentationCompletedOn,
          r.calendarDays,
          r.pausedDays,
          r.clockDays,
          r.daysLeft,
          r.name.slice(0, 50),
        ]),
      ),
      '',
    );
  }
  parts.push('Methods per stage');
  parts.push(
    table(
      ['stage', 'methods'],
      Object.entries(s.counts).map(([k, v]) => [k, v]),
    ),
  );
  return parts.join('\n');
}

/** Keeps the process alive until Ctrl-C or SIGTERM, then shuts down cleanly. */
export function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const done = async (signal: string) => {
      process.stderr.write(`\n${signal}: stopping...\n`);
      // Whatever hangs (a broker gone mid-request), the process is gone within 10 s of the signal.
      setTimeout(() => process.exit(1), 9_500).unref();
      await stop().catch((e: Error) => process.stderr.write(`stop failed: ${e.message}\n`));
      resolve();
      process.exit(0);
    };
    process.once('SIGINT', () => void done('SIGINT'));
    process.once('SIGTERM', () => void done('SIGTERM'));
  });
}

export async function main(argv = process.argv): Promise<void> {
  let config: Config | undefined;
  const program = buildProgram(() => {
    config ??= loadConfig();
    return config;
  });
  // Without a command, the help is the answer, not an error.
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof ApiError || error instanceof ConfigError || error instanceof UnknownComponentError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(`metodehub failed: ${(error as Error).stack ?? error}\n`);
    }
    process.exitCode = 1;
  }
}

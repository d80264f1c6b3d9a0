/**
 * Temporary introductions Helsedirektoratet follows: when a flagged method's reassessBy date comes within
 * FOLLOW_UP_REASSESS_WARN_DAYS, or passes, with no REASSESSMENT_STARTED, a REASSESSMENT_APPROACHING or
 * REASSESSMENT_OVERDUE record goes on `hdir.guideline-flags.v1`, and the notifier delivers it like every
 * other change. Judged on the hub's clock; each (flag, date, change) is written once, across restarts.
 */
import type { FlagChange, GuidelineFlag, MethodState } from '../../contracts/generated/types.ts';
import { newHeaders } from '../../core/bus/headers.ts';
import type { HubContext } from '../../core/hub/component.ts';
import type { Logger } from '../../core/log/logger.ts';
import { osloDateOf } from '../../core/time/oslo.ts';
import type { FlagBook } from './flagBook.ts';
import { FLAGS_TOPIC, recordIdOf } from './flagger.ts';
import { daysBetween } from './monitoring.ts';
import type { MethodDirectory } from './methodDirectory.ts';

/** What stands for the cause of an alert record: the same alert is recognised as already written. */
export const alertKeyOf = (flagId: string, reassessBy: string, change: FlagChange): string =>
  `follow-up:${flagId}:${reassessBy}:${change}`;

/** The alert records due on `today` for these flags; pure. */
export function reassessmentAlertRecords(
  flags: Iterable<GuidelineFlag>,
  stateOf: (methodId: string) => MethodState | undefined,
  today: string,
  warnDays: number,
  written: (key: string) => boolean,
  changedAt: string,
): GuidelineFlag[] {
  const records: GuidelineFlag[] = [];
  for (const flag of flags) {
    if (!flag.active || flag.decisionOutcome !== 'TEMPORARILY_INTRODUCED' || !flag.reassessBy) continue;
    const state = stateOf(flag.methodId);
    // Only while the method still stands temporarily introduced with this date and nothing reassesses it.
    if (
      !state ||
      state.status !== 'DECIDED' ||
      state.reassessment !== null ||
      state.decision?.temporaryIntroduction?.reassessBy !== flag.reassessBy
    )
      continue;
    const daysLeft = daysBetween(today, flag.reassessBy);
    const change: FlagChange | null =
      daysLeft < 0 ? 'REASSESSMENT_OVERDUE' : daysLeft <= warnDays ? 'REASSESSMENT_APPROACHING' : null;
    if (!change) continue;
    const key = alertKeyOf(flag.flagId, flag.reassessBy, change);
    if (written(key)) continue;
    records.push({ ...flag, change, trigger: 'FOLLOW_UP', causeEventId: key, changedAt });
  }
  return records;
}

export interface ReassessmentWatchParts {
  context: HubContext;
  book: FlagBook;
  directory: MethodDirectory;
  warnDays: number;
  log: Logger;
}

export class ReassessmentWatch {
  private running: Promise<number> | undefined;
  written = 0;

  constructor(private readonly parts: ReassessmentWatchParts) {}

  /** Writes what is due now; a check already running is waited for instead of doubled. */
  check(): Promise<number> {
    this.running ??= this.writeDue().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async writeDue(): Promise<number> {
    const { context, book, directory, warnDays, log } = this.parts;
    const now = context.clock.now();
    const records = reassessmentAlertRecords(
      book.all(),
      (id) => directory.get(id),
      osloDateOf(now),
      warnDays,
      (key) => book.hasHandled(key),
      new Date(now).toISOString(),
    );
    for (const record of records) {
      const written = await context.producer.send(
        FLAGS_TOPIC,
        [
          {
            key: record.methodId,
            value: record,
            headers: newHeaders({
              id: recordIdOf(record.causeEventId!, record),
              source: '/metodehub/hdir',
              type: `no.nyemetoder.hdir.${record.change}`,
              subject: record.flagId,
            }),
          },
        ],
        { to: context.topic(FLAGS_TOPIC) },
      );
      if (!(await book.readBack(written, 1)))
        throw new Error(`${record.flagId}: alert not read back in time`);
      this.written++;
      log.warn(
        { alert: record.change, flagId: record.flagId, reassessBy: record.reassessBy },
        `temporary introduction of ${record.methodId} ${record.change === 'REASSESSMENT_OVERDUE' ? 'passed' : 'nears'} its reassessment date ${record.reassessBy} with no reassessment started`,
      );
    }
    return records.length;
  }
}

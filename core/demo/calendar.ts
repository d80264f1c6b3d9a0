/**
 * Time in the demo: instants are epoch milliseconds. Work happens on weekdays between 07:00 and 14:00 UTC
 * (office hours in Oslo), so an event's UTC date is also its Europe/Oslo date; forums meet on Mondays.
 */
import type { Random } from './random.ts';

export const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

export const startOfDay = (instant: number): number => Math.floor(instant / DAY) * DAY;

/** Saturday and Sunday move on to Monday. */
export function onWeekday(instant: number): number {
  const weekday = new Date(instant).getUTCDay();
  if (weekday === 6) return instant + 2 * DAY;
  if (weekday === 0) return instant + DAY;
  return instant;
}

/** The first Monday on or after the day of the instant, at the start of that day. */
export function mondayFrom(instant: number): number {
  const day = startOfDay(instant);
  const weekday = new Date(day).getUTCDay();
  return day + ((8 - weekday) % 7) * DAY;
}

/** A whole minute between 07:00 and 14:00 UTC on the given day. */
export const workingTime = (day: number, random: Random): number =>
  startOfDay(day) + 7 * HOUR + random.between(0, 7 * 60 - 1) * MINUTE;

/** A forum meeting: a whole minute between 09:00 and 12:00 UTC on the given day. */
export const meetingTime = (day: number, random: Random): number =>
  startOfDay(day) + 9 * HOUR + random.between(0, 3 * 60 - 1) * MINUTE;

/** The Europe/Oslo calendar day of a working-hours instant. */
export const localDate = (instant: number): string => new Date(instant).toISOString().slice(0, 10);

export const isoInstant = (instant: number): string => new Date(instant).toISOString();

export const dateAfter = (date: string, days: number): string => localDate(Date.parse(date) + days * DAY);

/** The 1st or the 15th of a month, whichever comes first after the given number of days. */
export function firstOrFifteenthAfter(date: string, days: number): string {
  const earliest = new Date(Date.parse(date) + days * DAY);
  const year = earliest.getUTCFullYear();
  const month = earliest.getUTCMonth();
  const day = earliest.getUTCDate();
  if (day === 1 || day === 15) return localDate(earliest.getTime());
  return day < 15 ? localDate(Date.UTC(year, month, 15)) : localDate(Date.UTC(year, month + 1, 1));
}

/** Norwegian calendar days: every date in Nye metoder is a Europe/Oslo local date; instants are UTC. */

const osloDay = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Oslo',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The Europe/Oslo calendar day of an instant (ISO string, epoch ms or Date), as YYYY-MM-DD; now by default. */
export function osloDateOf(instant: string | number | Date = Date.now()): string {
  return osloDay.format(instant instanceof Date ? instant : new Date(instant));
}

/** The last millisecond of a Europe/Oslo calendar day (YYYY-MM-DD), as epoch ms: 23:59:59.999 at UTC+1 or UTC+2. */
export function endOfOsloDay(date: string): number {
  const nextMidnightUtc = Date.parse(`${date}T00:00:00Z`) + 86_400_000;
  // Oslo is one hour ahead in winter, two in summer; the right one is where the Oslo day turns.
  for (const offsetHours of [1, 2]) {
    const end = nextMidnightUtc - offsetHours * 3_600_000 - 1;
    if (osloDateOf(end) === date && osloDateOf(end + 1) !== date) return end;
  }
  throw new RangeError(`${date} is not a calendar date`);
}

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

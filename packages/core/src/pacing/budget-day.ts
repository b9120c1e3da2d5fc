/**
 * Budget days: a campaign's daily budget runs over the calendar day of its time zone (UTC unless
 * the budget names an IANA zone). A day is [start, end) in epoch ms; with daylight saving it is
 * 23 or 25 hours long, and where midnight is skipped it starts at the first instant of the date.
 * Pure: the zone rules come from the runtime's ICU data (`Intl`), no I/O.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    formats.set(timeZone, format);
  }
  return format;
}

/** Whether `timeZone` is an IANA zone name the runtime knows (`UTC`, `Europe/Berlin`, ...). */
export function isKnownTimeZone(timeZone: string): boolean {
  if (timeZone === '' || timeZone.length > 64) return false;
  try {
    formatOf(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The local calendar date of an instant in a zone, as the sortable number yyyymmdd. */
function localDate(t: number, timeZone: string): number {
  let y = 0;
  let m = 0;
  let d = 0;
  for (const part of formatOf(timeZone).formatToParts(t)) {
    if (part.type === 'year') y = Number(part.value);
    else if (part.type === 'month') m = Number(part.value);
    else if (part.type === 'day') d = Number(part.value);
  }
  return y * 10_000 + m * 100 + d;
}

/** The first instant in [lo, hi] whose local date is at least `date` (dates only grow with time). */
function firstInstantOf(date: number, timeZone: string, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localDate(mid, timeZone) >= date) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A day reaches at most this far on either side of any of its instants (26 h days, 14 h offsets). */
const REACH_MS = 27 * 3_600_000;

const days = new Map<string, { start: number; end: number }>();

/** The budget day holding instant `t` in `timeZone`: [start, end), ms. */
export function budgetDay(t: number, timeZone: string): { readonly start: number; readonly end: number } {
  const today = localDate(t, timeZone);
  const id = `${timeZone}\u0000${today}`;
  const known = days.get(id);
  if (known && t >= known.start && t < known.end) return known;
  const start = firstInstantOf(today, timeZone, t - REACH_MS, t);
  const end = firstInstantOf(today + 1, timeZone, t + 1, t + REACH_MS);
  // today + 1 may not be a date (the 31st + 1): any later date compares the same way.
  if (days.size > 10_000) days.clear();
  const day = { start, end };
  days.set(id, day);
  return day;
}

/** How much of the day has passed at `t`, 0..1. */
export function elapsedFraction(t: number, day: { readonly start: number; readonly end: number }): number {
  return Math.min(1, Math.max(0, (t - day.start) / (day.end - day.start)));
}

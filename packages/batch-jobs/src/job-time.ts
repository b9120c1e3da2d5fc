import { HOUR_MS, hourStart } from '@sigflow/core';
import { InvalidJobDataError } from './errors.js';


/** The last time a Date can hold (year 275760): hours beyond have no `dt=` folder name. */
const MAX_TIME_MS = 8_640_000_000_000_000;

/** ISO 8601: a date, optionally a time (minutes at least) and an offset. */
const isoTime = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** Start of the first hour at or after `ts`. */
export function ceilHour(ts: number): number {
  const f = hourStart(ts);
  return f === ts ? ts : f + HOUR_MS;
}

/**
 * A time in job data: ms since the epoch, or an ISO 8601 string; `2026-11-20T10:00Z` (no
 * seconds) is accepted too. Throws {@link InvalidJobDataError} naming `what` otherwise.
 */
export function parseJobTime(value: unknown, what: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_TIME_MS) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim();
    if (/^\d+$/.test(text)) {
      if (Number(text) <= MAX_TIME_MS) return Number(text);
    } else if (isoTime.test(text)) {
      // Only ISO forms reach Date.parse: it also reads free text ("x 1" is 2001, "../../etc/passwd 2020" is 2020).
      // Date.parse wants seconds in ISO strings; add ":00" to "...T10:00Z" / "...T10:00+01:00".
      const withSeconds = text.replace(/T(\d{2}):(\d{2})(Z|[+-]\d{2}:?\d{2})?$/, (_m, h: string, m: string, z: string | undefined) => `T${h}:${m}:00${z ?? 'Z'}`);
      const ms = Date.parse(withSeconds);
      if (Number.isFinite(ms) && ms >= 0) return ms;
    }
  }
  throw new InvalidJobDataError(`${what} must be an ISO time (e.g. 2026-11-20T10:00Z) or ms since the epoch, got ${JSON.stringify(value)}`);
}

import { HOUR_MS, hourStart } from '@sigflow/core';

// The hour itself is core's; the rounding up of job data lives with the job contract.
export { HOUR_MS, hourStart } from '@sigflow/core';
export { ceilHour } from '@sigflow/batch-jobs';

/** The hour starts of [from, to). */
export function hoursOf(from: number, to: number): number[] {
  const hours: number[] = [];
  for (let h = hourStart(from); h < to; h += HOUR_MS) hours.push(h);
  return hours;
}

/**
 * [from, to) cut into spans of `hours` hours from its start, the last one shorter: a recompute's
 * passes, and its parts (so a part a multiple of a pass has the passes the whole range has).
 */
export function hourSpans(from: number, to: number, hours: number): { from: number; to: number }[] {
  const spans: { from: number; to: number }[] = [];
  for (let start = from; start < to; start += hours * HOUR_MS) spans.push({ from: start, to: Math.min(to, start + hours * HOUR_MS) });
  return spans;
}

/** Groups sorted hour starts into runs of consecutive hours: [from, to) ranges. */
export function contiguousRanges(hours: readonly number[]): { from: number; to: number }[] {
  const sorted = [...new Set(hours)].sort((a, b) => a - b);
  const ranges: { from: number; to: number }[] = [];
  for (const h of sorted) {
    const last = ranges.at(-1);
    if (last && last.to === h) last.to = h + HOUR_MS;
    else ranges.push({ from: h, to: h + HOUR_MS });
  }
  return ranges;
}

/** ISO form of an hour start for logs and job names, e.g. 2026-11-20T10:00Z. */
export function isoHour(ts: number): string {
  return new Date(ts).toISOString().replace(':00.000Z', 'Z');
}

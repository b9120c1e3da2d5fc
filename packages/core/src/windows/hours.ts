/** One hour in ms: the batch layer's unit of recompute, the archive's folder, a view hash's bucket. */
export const HOUR_MS = 3_600_000;

/** Start of the hour holding `ts` (event time, ms; times before 1970 round down too). */
export function hourStart(ts: number): number {
  return ts - (((ts % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

import { field } from '@sigflow/store';

export const MIN = 60_000;
export const HOUR = 3_600_000;
/** 2026-01-05 10:00 UTC, an hour start. */
export const H0 = Date.UTC(2026, 0, 5, 10);

/** A metrics hash: every minute of `hour` with the given counts for one ad. */
export function metricsHash(hour: number, impressions: number, clicks: number, minutes = 60): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let m = 0; m < minutes; m++) {
    hash[field(hour + m * MIN, 'ad-1', 'impressions')] = String(impressions);
    hash[field(hour + m * MIN, 'ad-1', 'clicks')] = String(clicks);
  }
  return hash;
}

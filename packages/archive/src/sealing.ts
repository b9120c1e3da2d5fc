import { HOUR_MS } from '@sigflow/core';
import type { RuleSettings } from '@sigflow/core';

/**
 * When an archive hour is complete. The archiver reports, per Kafka partition, an archive
 * watermark: the highest event time archived and committed there, or, for a partition with
 * nothing left to read, the wall clock minus the idle delay (stored in Redis by
 * `raiseArchiveWatermarks` of `@sigflow/store`).
 */

/**
 * Event time up to which the archive is sealed: every partition's watermark, less the
 * watermark delay and the allowed lateness of the rules (the same slack the speed layer gives a
 * window before it calls an event late). An hour [h, h + 1 h) is sealed when h + 1 h <= this.
 * Null while no partition has reported.
 */
export function archiveSealedThrough(watermarks: ReadonlyMap<number, number>, settings: RuleSettings): number | null {
  if (watermarks.size === 0) return null;
  return Math.min(...watermarks.values()) - settings.watermarkDelayMs - settings.allowedLatenessMs;
}

/** True when the hour containing `hour` is sealed at `sealedThrough`. */
export function isHourSealed(hour: number, sealedThrough: number | null): boolean {
  const start = hour - (((hour % HOUR_MS) + HOUR_MS) % HOUR_MS);
  return sealedThrough !== null && start + HOUR_MS <= sealedThrough;
}

import { HOUR_MS } from '@sigflow/core';
import type { BatchHourEntry } from '../batch/batch-views.js';

/**
 * What the readers in `view-readers.ts` return: raw hash contents per hour and layer, for the
 * serving merge and the reconciliation (`@sigflow/serving`) to combine. No rule lives here.
 */

/** A query range: [from, to), ms since the epoch. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}


/** The hour buckets (`hourStart`) holding the windows that start in `range`. */
export function hoursOf(range: TimeRange): number[] {
  const hours: number[] = [];
  if (range.to <= range.from) return hours;
  for (let h = Math.floor(range.from / HOUR_MS) * HOUR_MS; h < range.to; h += HOUR_MS) hours.push(h);
  return hours;
}

/**
 * A hash as read from Redis: HGETALL's flat [field, value, ...] reply (what the readers return:
 * no object with thousands of keys is built), or an object.
 */
export type HashReply = readonly string[] | Readonly<Record<string, string>>;

/** Calls `fn` for each field of a hash reply. */
export function forEachField(hash: HashReply, fn: (field: string, value: string) => void): void {
  if (Array.isArray(hash)) {
    const flat = hash as readonly string[];
    for (let i = 0; i + 1 < flat.length; i += 2) fn(flat[i] as string, flat[i + 1] as string);
  } else {
    const record = hash as Readonly<Record<string, string>>;
    for (const f in record) fn(f, record[f] as string);
  }
}

/** Whether a hash reply has no field. */
export function isEmptyHash(hash: HashReply | null | undefined): boolean {
  if (!hash) return true;
  if (Array.isArray(hash)) return hash.length === 0;
  for (const _ in hash) return false;
  return true;
}

/** One hour of one windowed view as read from Redis. */
export interface HourHashes {
  readonly hourStart: number;
  /** The speed hash (null when not read because every window of the hour is batch). */
  readonly speed: HashReply | null;
  /** The batch hash of the hour's version (null when the hour has no version or was not read). */
  readonly batch: HashReply | null;
  /** The version served for the hour, null when none. */
  readonly batchVersion: string | null;
}

/** A windowed view over a range: the watermark it was merged at and the hours' hashes. */
export interface WindowedHashes {
  readonly watermark: number | null;
  readonly hours: readonly HourHashes[];
}

/** The hashes both layers hold for one hour, as a speed-vs-batch comparison reads them. */
export interface LayerHashes {
  /** campaign -> its speed metrics hash of the hour. */
  readonly speedMetrics: ReadonlyMap<string, HashReply>;
  /** campaign -> its batch metrics hash (empty map without a version). */
  readonly batchMetrics: ReadonlyMap<string, HashReply>;
  readonly speedQuality: HashReply | null;
  readonly batchQuality: HashReply | null;
  readonly speedAttribution: HashReply | null;
  readonly batchAttribution: HashReply | null;
}

/** One hour as the reconciliation reader returns it. */
export interface ReconciliationHour extends LayerHashes {
  readonly hourStart: number;
  /** The batch version served for the hour; null when the batch layer has not computed it. */
  readonly batch: BatchHourEntry | null;
  /** `${campaignId}` -> JSON the batch layer recorded about the hour when it computed the version. */
  readonly batchChanges: HashReply | null;
}

export interface ReconciliationData {
  readonly watermark: number | null;
  /** The Shapley table version currently published (the speed layer applies the latest). */
  readonly shapleyVersion: string | null;
  readonly hours: readonly ReconciliationHour[];
}

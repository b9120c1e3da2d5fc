import { HOUR_MS, hourStart } from '@sigflow/core';
import type { PartitionState } from '@sigflow/core';
import { hashEventId } from './event-id-hash.js';
import { IdHashSet, packHashes } from './id-hash-set.js';


/** One hour bucket (by event time) of remembered ids, plus the hashes added since the last commit. */
interface Bucket {
  readonly ids: IdHashSet;
  pending: number[];
}

/**
 * The speed layer's memory of processed event ids for one Kafka partition, bounded by the dedupe
 * horizon in event time: ids of events whose ts is within `horizonMs` of the partition's newest
 * event are remembered (copies of an event share its ts, so each lookup touches one hour bucket).
 * A copy of an older event is not recognised here; it is counted (`dedupe_unchecked`) and the
 * batch layer, which deduplicates the whole archive, corrects it.
 *
 * Durable form: per hour, a Redis string of 8-byte hashes, APPENDed in the partition's atomic
 * commit ({@link takePending}) and read back whole when a bucket is first needed ({@link load}).
 */
export class DedupeIndex {
  private readonly buckets = new Map<number, Bucket>();
  /**
   * @param horizonMs how far behind the partition's newest event time ids are remembered
   * @param partition the partition's watermark state (its newest event time bounds the horizon)
   */
  constructor(
    private readonly horizonMs: number,
    private readonly partition: PartitionState,
  ) {}

  /** Hours whose buckets must be loaded before `ts` values of a batch can be checked. */
  missingHours(tsList: Iterable<number>): number[] {
    const missing = new Set<number>();
    for (const ts of tsList) {
      const h = hourStart(ts);
      if (!this.buckets.has(h) && this.withinHorizon(ts)) missing.add(h);
    }
    return [...missing];
  }

  /** Installs a bucket read from Redis (null: none stored). */
  load(hour: number, stored: Buffer | null): void {
    const ids = new IdHashSet(Math.max(1024, stored ? Math.floor(stored.length / 4) : 0));
    if (stored) ids.addPacked(stored);
    this.buckets.set(hour, { ids, pending: [] });
  }

  /** True when the event's ts is inside the horizon (so its id is checked and remembered). */
  withinHorizon(ts: number): boolean {
    const newest = this.partition.maxEventTs;
    return newest === null || ts >= newest - this.horizonMs;
  }

  /**
   * Checks an event id and remembers it: 'first' (new), 'duplicate' (seen), or 'unchecked'
   * (older than the horizon: processed as new, counted). Its bucket must have been loaded.
   */
  remember(eventId: string, ts: number): 'first' | 'duplicate' | 'unchecked' {
    if (!this.withinHorizon(ts)) return 'unchecked';
    const h = hourStart(ts);
    const bucket = this.buckets.get(h);
    if (!bucket) throw new Error(`dedupe bucket ${h} was not loaded`);
    const [hi, lo] = hashEventId(eventId);
    if (!bucket.ids.add(hi, lo)) return 'duplicate';
    bucket.pending.push(hi, lo);
    return 'first';
  }

  /** The hashes added since the last call, per hour, as the bytes to APPEND; clears them. */
  takePending(): Map<number, Buffer> {
    const out = new Map<number, Buffer>();
    for (const [h, bucket] of this.buckets) {
      if (bucket.pending.length === 0) continue;
      out.set(h, packHashes(bucket.pending));
      bucket.pending = [];
    }
    return out;
  }

  /** Forgets buckets wholly older than the horizon. */
  evict(): void {
    const newest = this.partition.maxEventTs;
    if (newest === null) return;
    const keepFrom = hourStart(newest - this.horizonMs);
    for (const h of this.buckets.keys()) if (h + HOUR_MS <= keepFrom) this.buckets.delete(h);
  }

  /** Remembered ids and bytes held (metrics). */
  stats(): { ids: number; bytes: number } {
    let ids = 0;
    let bytes = 0;
    for (const b of this.buckets.values()) {
      ids += b.ids.size;
      bytes += b.ids.bytes;
    }
    return { ids, bytes };
  }
}

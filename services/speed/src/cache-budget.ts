import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/** The heap per cached user assumed before the first measurement (bytes; about what the 2026-11 soak measured). */
const INITIAL_BYTES_PER_USER = 4_096;
/** Below this many cached users a reading says more about the rest of the old generation than about them. */
const MEASURE_FROM_USERS = 1_000;
/** No reading makes a user cost less than this (a state holds a dozen objects at least). */
const MIN_BYTES_PER_USER = 256;
/** The weight of a new reading in the running estimate. */
const NEW_READING_WEIGHT = 0.5;

/** The share of V8's heap limit the cache may fill: the rest is the process's own and the garbage between collections. */
export const CACHE_SHARE_OF_HEAP_LIMIT = 0.6;

/**
 * The cache's heap budget in bytes: `configuredMb` (`SIGFLOW_SPEED_CACHE_HEAP_MB`), but never more
 * than {@link CACHE_SHARE_OF_HEAP_LIMIT} of the heap limit V8 runs with (`--max-old-space-size`,
 * `heapLimitBytes`), so a budget raised without the limit cannot run the process out of heap.
 * `clamped`: the limit, not the setting, decided.
 */
export function cacheBudgetBytes(configuredMb: number, heapLimitBytes: number): { bytes: number; clamped: boolean } {
  const configured = configuredMb * 1024 * 1024;
  const allowed = Math.floor(heapLimitBytes * CACHE_SHARE_OF_HEAP_LIMIT);
  return configured <= allowed ? { bytes: configured, clamped: false } : { bytes: allowed, clamped: true };
}

/** Bytes in use in V8's old generation (old space, large objects): where a cached user lives once two scavenges kept it. */
function oldGenerationBytes(): number {
  let used = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === 'old_space' || space.space_name === 'large_object_space') used += space.space_used_size;
  }
  return used;
}

/** The old generation's bytes read just after a full collection, numbered. */
export interface LiveReading {
  readonly bytes: number;
  readonly seq: number;
}

let latestLive: LiveReading | undefined;
let liveObserver: PerformanceObserver | undefined;

/**
 * The old generation's bytes after the latest full collection (mark-compact) of this process:
 * its live objects then, without the garbage that fills the heap between collections.
 * `undefined` until one has run since the first call.
 */
export function liveOldGeneration(): LiveReading | undefined {
  if (!liveObserver) {
    liveObserver = new PerformanceObserver((list) => {
      const major = list.getEntries().some((entry) => (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      if (major) latestLive = { bytes: oldGenerationBytes(), seq: (latestLive?.seq ?? 0) + 1 };
    });
    liveObserver.observe({ entryTypes: ['gc'] });
  }
  return latestLive;
}

/**
 * How many users a speed process may keep in memory so that they fill at most `budgetBytes`
 * of its heap (`SIGFLOW_SPEED_CACHE_HEAP_MB`), and never more than `maxUsers`
 * (`SIGFLOW_SPEED_CACHED_USERS`). What a cached user costs depends on the traffic (a user with
 * a long journey holds more than one seen twice), so it is measured: after each full
 * collection, the old generation's growth since the start (`baselineBytes`) divided by the
 * users cached, averaged over the readings. The growth holds more than the users (the dedupe
 * index, IP states), so the figure errs towards fewer users. Not the heap in use: between
 * collections that is mostly garbage (a young generation of up to 3 x 64 MiB by V8's default),
 * which made a 128 MiB budget keep about 5,300 users at an estimated 23-28 KB each.
 */
export class CacheBudget {
  private bytesPerUser = INITIAL_BYTES_PER_USER;
  private seenSeq = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly maxUsers: number,
    private readonly readLive: () => LiveReading | undefined = liveOldGeneration,
    private readonly baselineBytes: number = oldGenerationBytes(),
  ) {}

  /** The users the process may keep, given the `cached` it holds now. */
  users(cached: number): number {
    const live = this.readLive();
    if (live && live.seq !== this.seenSeq && cached >= MEASURE_FROM_USERS) {
      this.seenSeq = live.seq;
      const reading = Math.max(MIN_BYTES_PER_USER, (live.bytes - this.baselineBytes) / cached);
      this.bytesPerUser += NEW_READING_WEIGHT * (reading - this.bytesPerUser);
    }
    return Math.max(1, Math.min(this.maxUsers, Math.floor(this.budgetBytes / this.bytesPerUser)));
  }

  /** The current estimate of a cached user's heap, in bytes (a gauge). */
  get estimatedBytesPerUser(): number {
    return Math.round(this.bytesPerUser);
  }
}

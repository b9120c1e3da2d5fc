/** The heap per cached user assumed before the first measurement (bytes; about what the 2026-11 soak measured). */
const INITIAL_BYTES_PER_USER = 4_096;
/** Below this many cached users the heap says more about everything else than about them: no measurement. */
const MEASURE_FROM_USERS = 10_000;
/** How often the heap is read (ms), and the weight of a new reading in the running estimate. */
const MEASURE_EVERY_MS = 1_000;
const NEW_READING_WEIGHT = 0.2;

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

/**
 * How many users a speed process may keep in memory so that its heap stays within
 * `budgetBytes` (`SIGFLOW_SPEED_CACHE_HEAP_MB`), and never more than `maxUsers`
 * (`SIGFLOW_SPEED_CACHED_USERS`). What a cached user costs depends on the traffic (a user with
 * a long journey holds more than one seen twice), so it is measured: at most every second, the
 * heap in use divided by the users cached, averaged over the last readings. The heap holds more
 * than the cache (the rest of the process, garbage not yet collected), so the figure is an upper
 * bound of a user's cost and the bound errs towards fewer users: at its fixed point the heap in
 * use is the budget.
 */
export class CacheBudget {
  private bytesPerUser = INITIAL_BYTES_PER_USER;
  private measuredAt = -Infinity;

  constructor(
    private readonly budgetBytes: number,
    private readonly maxUsers: number,
    private readonly heapUsed: () => number = () => process.memoryUsage().heapUsed,
  ) {}

  /** The users the process may keep, given the `cached` it holds now. */
  users(cached: number, now: number): number {
    if (cached >= MEASURE_FROM_USERS && now - this.measuredAt >= MEASURE_EVERY_MS) {
      this.measuredAt = now;
      this.bytesPerUser += NEW_READING_WEIGHT * (this.heapUsed() / cached - this.bytesPerUser);
    }
    return Math.max(1, Math.min(this.maxUsers, Math.floor(this.budgetBytes / this.bytesPerUser)));
  }

  /** The current estimate of a cached user's heap, in bytes (a gauge). */
  get estimatedBytesPerUser(): number {
    return Math.round(this.bytesPerUser);
  }
}

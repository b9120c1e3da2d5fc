/** Keys remembered before stale entries are swept (the clock's memory bound grows with the keys in use). */
const minSweepSize = 4_096;
/** Part of the TTL after which it is set again, and by which it is stretched. */
const refreshFraction = 1 / 8;

/**
 * When a commit must set a key's TTL again. A partition's commits write the same view, bucket
 * and listing keys round after round; an EXPIRE per key and commit was most of a small round's
 * Redis commands. The first commit of a partition runtime that writes a key sets its TTL, later
 * ones only once an eighth of the TTL has passed, each time stretched by that fraction:
 * a key still lives at least its TTL after its last write, and at most the fraction longer.
 * Memory of the partition runtime, so a rebuilt one (after a failed commit or a reassignment)
 * sets every TTL again.
 */
export class ExpiryClock {
  /** Key -> wall-clock ms its TTL was last set by this runtime's commits. */
  private readonly setAt = new Map<string, number>();
  private sweepAbove = minSweepSize;

  /** The TTL in ms to set on `key` in a commit built at `now`, or null when its TTL was set lately. */
  due(key: string, ttlMs: number, now: number): number | null {
    const refresh = ttlMs * refreshFraction;
    const at = this.setAt.get(key);
    if (at !== undefined && now - at < refresh) return null;
    this.setAt.set(key, now);
    if (this.setAt.size > this.sweepAbove) this.sweep(now, refresh);
    return Math.ceil(ttlMs + refresh);
  }

  /** Like {@link due}, in whole seconds (EXPIRE), rounded up. */
  dueSeconds(key: string, ttlMs: number, now: number): number | null {
    const ms = this.due(key, ttlMs, now);
    return ms === null ? null : Math.ceil(ms / 1000);
  }

  /** Forgets keys whose TTL is due again anyway (taking `refresh` of the caller's TTL as everyone's). */
  private sweep(now: number, refresh: number): void {
    for (const [key, at] of this.setAt) if (now - at >= refresh) this.setAt.delete(key);
    this.sweepAbove = Math.max(minSweepSize, 2 * this.setAt.size);
  }
}

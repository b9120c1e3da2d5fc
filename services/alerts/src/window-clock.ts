/**
 * When windows close for the alerts (DESIGN.md "Alerts": at the speed watermark): the smallest
 * watermark of the partitions that are moving. A partition whose watermark has not moved for
 * `idleMs` (wall clock) has nothing to add and does not hold windows open; when every partition
 * is idle, the largest watermark closes them. A partition without a watermark has never seen an
 * event. Windows never reopen: the answer never goes back.
 */
export class WindowClock {
  private readonly seen = new Map<number, { value: number; changedAt: number }>();
  private closing: number | null = null;

  constructor(private readonly idleMs: number) {}

  /** Takes the partitions' watermarks (null: none) read at wall time `now`; returns the closing watermark, or null. */
  observe(watermarks: readonly (number | null)[], now: number): number | null {
    let active = Infinity;
    let idle = -Infinity;
    watermarks.forEach((w, p) => {
      if (w === null) return;
      const last = this.seen.get(p);
      if (!last || last.value !== w) this.seen.set(p, { value: w, changedAt: now });
      const changedAt = this.seen.get(p)?.changedAt ?? now;
      if (now - changedAt < this.idleMs) active = Math.min(active, w);
      else idle = Math.max(idle, w);
    });
    const at = active !== Infinity ? active : idle !== -Infinity ? idle : null;
    if (at !== null && (this.closing === null || at > this.closing)) this.closing = at;
    return this.closing;
  }
}

/** The start of the last window that ended at or before `watermark`. */
export function lastClosedWindow(watermark: number, windowMs: number): number {
  return Math.floor(watermark / windowMs) * windowMs - windowMs;
}

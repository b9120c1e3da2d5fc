/**
 * Start of the epoch-aligned tumbling window containing `ts`: windows are [start, start + windowMs).
 * Event time, never arrival time.
 */
export function windowStart(ts: number, windowMs: number): number {
  return Math.floor(ts / windowMs) * windowMs;
}

/** Exclusive end of the window containing `ts` (the next window's start). */
export function windowEnd(ts: number, windowMs: number): number {
  return windowStart(ts, windowMs) + windowMs;
}

/** A caller's count in its current window, as @fastify/rate-limit's stores answer it. */
export interface WindowCount {
  readonly current: number;
  /** ms until the window ends. */
  readonly ttl: number;
}

interface Window {
  current: number;
  start: number;
}

/**
 * Fixed-window request counts per caller (an API key's digest, else an address), the
 * rate limiter's store: fastify's routes (through @fastify/rate-limit, as its `store`) and the
 * bidding fast path count against the same windows. Least recently used callers are forgotten
 * beyond `capacity`, as @fastify/rate-limit's own local store does.
 */
export class RequestWindows {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly capacity = 5_000) {}

  /** Counts one request of `caller` in a window of `windowMs`. */
  take(caller: string, windowMs: number): WindowCount {
    const now = Date.now();
    let window = this.windows.get(caller);
    if (window === undefined) {
      window = { current: 0, start: now };
      if (this.windows.size >= this.capacity) this.windows.delete(this.windows.keys().next().value as string);
    } else {
      // Re-inserted: the map's order is the order of last use.
      this.windows.delete(caller);
    }
    if (window.start + windowMs <= now) {
      window.current = 0;
      window.start = now;
    }
    window.current++;
    this.windows.set(caller, window);
    return { current: window.current, ttl: window.start + windowMs - now };
  }

  /** The store interface @fastify/rate-limit calls (`incr`, `read`, `child`). */
  incr(caller: string, done: (err: Error | null, count: WindowCount) => void, windowMs: number): void {
    done(null, this.take(caller, windowMs));
  }

  read(caller: string, done: (err: Error | null, count: WindowCount) => void, windowMs: number): void {
    const window = this.windows.get(caller);
    const now = Date.now();
    done(null, window === undefined || window.start + windowMs <= now ? { current: 0, ttl: 0 } : { current: window.current, ttl: window.start + windowMs - now });
  }

  child(): RequestWindows {
    return this;
  }

  /**
   * A class for @fastify/rate-limit's `store` option (it constructs its store itself): every
   * instance it makes is these windows.
   */
  asStoreClass(): new () => RequestWindows {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const windows = this;
    return function SharedWindows() {
      return windows;
    } as unknown as new () => RequestWindows;
  }
}

/**
 * Parsed view hashes that cannot change any more, kept between rounds: a batch version's hashes
 * (a version is never rewritten) and the speed hashes of hours every partition has closed (its
 * watermark passed the hour's last window plus the allowed lateness: the speed layer adds nothing
 * to them). Entries no round asked for are dropped, so the cache holds at most one round's hours.
 */
export class HourCache<T> {
  private entries = new Map<string, T>();
  private used = new Map<string, T>();

  get(key: string): T | undefined {
    const value = this.used.get(key) ?? this.entries.get(key);
    if (value !== undefined) this.used.set(key, value);
    return value;
  }

  set(key: string, value: T): void {
    this.used.set(key, value);
  }

  /** Ends a round: what it did not use is forgotten. */
  endRound(): void {
    this.entries = this.used;
    this.used = new Map();
  }

  get size(): number {
    return this.entries.size;
  }
}

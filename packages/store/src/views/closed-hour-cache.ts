import type { HashReply } from './view-replies.js';

/**
 * Windowed view hashes that can no longer change, kept by a reader (the serving API) so that a
 * query over many hours reads and parses only the hours still open: a batch version's hash (a
 * version is written once, then replaced by a new one), and the summed speed hashes of an hour
 * that every partition's watermark has passed by more than the allowed lateness (an event of
 * that hour arriving now is late, which the speed layer keeps out of windowed views).
 *
 * Bounded: at most `maxEntries` replies, the least recently used go first; and each is kept at
 * most `maxAgeMs`, so keys that Redis lost or expired since stop being served soon after.
 */
export class ClosedHourCache {
  private readonly entries = new Map<string, { readonly reply: HashReply; readonly at: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The reply kept for `key`, if any (and young enough). */
  get(key: string): HashReply | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.now() - entry.at > this.maxAgeMs) return undefined;
    // Re-inserted: the map's order is the order of last use.
    this.entries.set(key, entry);
    return entry.reply;
  }

  /** Keeps `reply` for `key`. */
  set(key: string, reply: HashReply): void {
    if (this.maxEntries === 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { reply, at: this.now() });
  }

  /** Replies kept. */
  get size(): number {
    return this.entries.size;
  }
}

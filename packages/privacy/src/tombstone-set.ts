import type { RedisClient, StoreKeys } from '@sigflow/store';
import { readTombstones } from '@sigflow/store/ops';
import { tombstoneHash } from './tombstone-hash.js';

/** Verdicts remembered per user id before the memo starts over (bounds memory). */
const MEMO_LIMIT = 100_000;

/**
 * The tombstones as one service sees them: the hashes read from Redis (all at start, then the
 * new ones every `refreshMs`), and what it learnt itself. `isDeleted` costs one size check
 * while there are none; otherwise one hash per user id, remembered.
 */
export class TombstoneSet {
  private readonly hashes = new Set<string>();
  private readonly memo = new Map<string, boolean>();
  private since = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly salt: string,
  ) {}

  /** Tombstones known. */
  get size(): number {
    return this.hashes.size;
  }

  /** Whether `userId`'s data was deleted (its events are dropped). */
  isDeleted(userId: string): boolean {
    if (this.hashes.size === 0) return false;
    let verdict = this.memo.get(userId);
    if (verdict === undefined) {
      verdict = this.hashes.has(tombstoneHash(this.salt, userId));
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(userId, verdict);
    }
    return verdict;
  }

  /** Marks a person deleted here at once (an erasure request names them before the next refresh). */
  add(userId: string): void {
    this.addHash(tombstoneHash(this.salt, userId));
  }

  /** The hashes known (the archiver hands them to DuckDB). */
  list(): string[] {
    return [...this.hashes];
  }

  /** Reads the tombstones recorded since the last read; returns how many were new. */
  async refresh(): Promise<number> {
    let added = 0;
    for (const { hash, at } of await readTombstones(this.redis, this.keys, this.since)) {
      if (!this.hashes.has(hash)) added++;
      this.addHash(hash);
      this.since = Math.max(this.since, at);
    }
    return added;
  }

  /**
   * Reads every tombstone again, from the oldest: after a store restored from the ops topic,
   * whose tombstones keep the times they were recorded at (older than the last one read).
   */
  reload(): Promise<number> {
    this.since = 0;
    return this.refresh();
  }

  /** Refreshes every `intervalMs` (errors go to `onError`; the set keeps what it knew). */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    this.timer = setInterval(() => void this.refresh().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private addHash(hash: string): void {
    if (this.hashes.has(hash)) return;
    this.hashes.add(hash);
    // A new tombstone can turn a remembered "not deleted" around.
    this.memo.clear();
  }
}

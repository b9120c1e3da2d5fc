import { hashEventId } from './event-id-hash.js';
import { IdHashSet, packHashes } from './id-hash-set.js';

const DAY = 86_400_000;

/** The wall-clock day a time falls in (the directory's buckets). */
export const dayStart = (ms: number): number => ms - (ms % DAY);

/**
 * The users of one partition that may have durable state in Redis, as 64-bit hashes of their
 * ids: a user missing from the cache and absent here is new, and its state costs no read.
 *
 * Every commit that sets the TTL of a user's signals or snapshot also appends the user's hash
 * to the bucket of that wall-clock day, in the same atomic step, and a bucket outlives the
 * keys by a day; so the buckets of the last `userTtlMs` + a day list every user whose keys
 * still exist. A hash shared by two users only costs a read. The directory vouches for new
 * users only once it covers a whole TTL (`since`): data written before it existed is read.
 */
export class UserDirectory {
  private readonly known = new IdHashSet();
  private pending: number[] = [];
  /** Set when the partition has no `since` yet: the next commit records it. */
  private sinceToRecord: string | null = null;
  private complete: boolean;

  /**
   * @param since the stored `since` marker; null: none yet
   * @param fresh the partition has no commit yet (no user state can exist)
   */
  constructor(since: string | null, fresh: boolean, now: number, userTtlMs: number) {
    if (since === null) {
      this.sinceToRecord = fresh ? '0' : String(now);
      this.complete = fresh;
    } else {
      this.complete = since === '0' || now - Number(since) >= userTtlMs + DAY;
    }
  }

  /** How long a bucket lives after its last append: a day longer than the users' keys. */
  static bucketTtlMs(userTtlMs: number): number {
    return userTtlMs + DAY;
  }

  /**
   * The days whose buckets can still list a user with live keys, and tomorrow's: another
   * instance whose clock runs ahead may already write there.
   */
  static days(now: number, userTtlMs: number): number[] {
    const days: number[] = [];
    for (let d = dayStart(now - userTtlMs - DAY); d <= now + DAY; d += DAY) days.push(d);
    return days;
  }

  /** Installs the stored buckets (null: none stored). */
  load(buckets: readonly (Buffer | null)[]): void {
    for (const stored of buckets) if (stored) this.known.addPacked(stored);
  }

  /** False only for a user that certainly has no state in Redis. */
  mayHaveState(userId: string): boolean {
    if (!this.complete) return true;
    const [hi, lo] = hashEventId(userId);
    return this.known.has(hi, lo);
  }

  /** A commit sets the TTL of the user's keys: its hash goes in today's bucket with it. */
  written(userId: string): void {
    const [hi, lo] = hashEventId(userId);
    this.known.add(hi, lo);
    this.pending.push(hi, lo);
  }

  /** What the next commit appends (today's hashes) and the `since` marker it records, if any; clears them. */
  take(): { hashes: Buffer | null; since: string | null } {
    const since = this.sinceToRecord;
    this.sinceToRecord = null;
    if (this.pending.length === 0) return { hashes: null, since };
    const hashes = packHashes(this.pending);
    this.pending = [];
    return { hashes, since };
  }
}

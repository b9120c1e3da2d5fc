import { createPartitionState, type IpState, type PartitionState, type UserState } from '@sigflow/core';
import { DedupeIndex } from './dedupe-index.js';
import { ExpiryClock } from './expiry-clock.js';
import type { PendingMessages } from './round-types.js';
import type { UserDirectory } from './user-directory.js';

/** A user's keyed state held in memory, with where its durable form stands in Redis. */
export interface CachedUser {
  readonly user: UserState;
  /** Length of the user's signal log in Redis after the last commit. */
  signals: number;
  /** Signals written since the last snapshot. */
  sinceSnapshot: number;
  /** Whether a snapshot exists in Redis (a user's first signals need none). */
  hasSnapshot: boolean;
  /** Wall-clock ms when the keys' TTL was last set; 0 = not by this instance. */
  ttlAt: number;
}

/**
 * Everything the speed layer keeps in memory for one Kafka partition it owns: the keyed state
 * of its users and IPs, its watermark, its remembered event ids, its listings and the messages
 * fetched but not processed yet. Redis holds the durable copy, written in every atomic commit;
 * this is a cache of it, valid while this instance is the only writer and its commits succeed
 * (the partition's {@link PartitionCommitter} says when it no longer is).
 */
export class PartitionCache {
  /** IP states no longer needed stay this long at most before a sweep drops them. */
  static readonly ipSweepEveryMs = 1_000;
  readonly users = new Map<string, CachedUser>();
  readonly ips = new Map<string, IpState>();
  readonly dedupe: DedupeIndex;
  /** When this runtime's commits set each key's TTL (view, bucket and listing keys). */
  readonly expiries = new ExpiryClock();
  /** Campaign and page ids already added to the partition's listing sets. */
  readonly listedCampaigns = new Set<string>();
  readonly listedPages = new Set<string>();
  /** Fetched messages waiting for the other partitions to catch up in event time (`alignRound`). */
  readonly pending: PendingMessages;

  constructor(
    readonly partition: number,
    storedOffset: string | null,
    readonly state: PartitionState = createPartitionState(),
    dedupeHorizonMs: number,
    /** The users that may have state in Redis (the rest load as new without a read). */
    readonly directory: UserDirectory,
  ) {
    this.pending = { messages: [], deadLetters: [], fetchedNext: storedOffset === null ? 0 : Number(storedOffset), caughtUp: false };
    this.dedupe = new DedupeIndex(dedupeHorizonMs, state);
  }

  /** Wall-clock ms of the last sweep of IP states (`trim`). */
  private ipsSweptAt = 0;

  /**
   * Bounds memory: keeps at most `maxUsers` users (the oldest loaded go first; they reload
   * from Redis when they come back), drops IPs whose clicks left the flood window and IPs with
   * no click in this partition (loaded because they clicked in another owned partition: kept,
   * they would grow with every IP that ever clicked), in a sweep of every IP at most every
   * {@link ipSweepEveryMs} of wall clock, not every round, and
   * dedupe buckets past the horizon. Users and IPs in `keep` (what a commit not yet applied
   * writes) stay: read back from Redis now, they would miss that commit.
   */
  trim(maxUsers: number, ipKeepFromTs: number | null, keep: { users: ReadonlyMap<string, unknown>; ips: ReadonlySet<string> }, now: number): void {
    if (this.users.size > maxUsers) {
      let drop = this.users.size - Math.floor(maxUsers * 0.9);
      for (const id of this.users.keys()) {
        if (keep.users.has(id)) continue;
        this.users.delete(id);
        if (--drop === 0) break;
      }
    }
    if (ipKeepFromTs !== null && now - this.ipsSweptAt >= PartitionCache.ipSweepEveryMs) {
      this.ipsSweptAt = now;
      for (const [ip, state] of this.ips) if ((state.maxTs === null || state.maxTs < ipKeepFromTs) && !keep.ips.has(ip)) this.ips.delete(ip);
    }
    this.dedupe.evict();
  }
}

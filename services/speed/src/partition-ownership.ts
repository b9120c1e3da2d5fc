import type { RedisClient, StoreKeys } from '@sigflow/store';
import { epochState, retakeEpoch } from '@sigflow/store/speed-state';
import { createPartitionState, parsePartitionState } from '@sigflow/core';
import type { SigflowConfig } from '@sigflow/config';
import type { Logger } from '@sigflow/observability';
import { PartitionCache } from './partition-cache.js';
import { PartitionCommitter, type CommitterDeps } from './partition-committer.js';
import { UserDirectory } from './user-directory.js';
import type { OwnedPartition } from './owned-partition.js';
import type { AnalyticsOutbox } from './analytics-outbox.js';
import type { PrivacyErasures } from './privacy-erasures.js';
import type { SpeedMetrics } from './speed-metrics.js';

export interface OwnershipDeps extends CommitterDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly logger: Logger;
  readonly metrics: SpeedMetrics;
  readonly outbox: AnalyticsOutbox;
  readonly privacy: PrivacyErasures;
  /**
   * Called when the store lost a partition this instance holds (its offset and epoch gone),
   * before the partition is rebuilt: the ops decisions and tombstones come back first (an
   * `OpsLog` restores them), so the replay drops deleted people's events and applies the rules.
   */
  readonly onStoreLoss: () => Promise<void>;
}

/**
 * Which partitions this instance processes: on assignment it takes each partition's owner epoch
 * and rebuilds its cache from Redis at the stored offset; on revocation it lets the commits in
 * flight finish; after a broken commit chain it tells a handover (another owner's newer epoch:
 * the partition is held, not processed, and that is said) from a store that lost the partition
 * (taken again under a new epoch and rebuilt from what is left).
 */
export class PartitionOwnership {
  private readonly owned = new Map<number, OwnedPartition>();
  /** Partitions the group gave this instance that it does not process: why, and the timer that says so at error level if the group has not moved them by then. */
  private readonly stalled = new Map<number, { readonly why: string; readonly alarm: NodeJS.Timeout }>();

  constructor(private readonly deps: OwnershipDeps) {}

  get partitions(): number[] {
    return [...this.owned.keys()];
  }

  get all(): OwnedPartition[] {
    return [...this.owned.values()];
  }

  of(partition: number): OwnedPartition | undefined {
    return this.owned.get(partition);
  }

  /** Partitions held in the group but not processed (another owner fenced this one out). */
  get stalledPartitions(): ReadonlyMap<number, { readonly why: string }> {
    return this.stalled;
  }

  /** Takes newly assigned partitions; returns the offset each resumes from (none: the log start). */
  async assign(partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    const resume = new Map<number, number>();
    // Tombstones first: a deleted person's events in the backlog are dropped from the first round.
    await this.deps.privacy.refresh(partitions);
    for (const p of partitions) {
      this.unstall(p);
      const epoch = String(await this.deps.redis.incr(this.deps.keys.speedEpoch(p)));
      const owned = await this.rebuild(p, epoch);
      if (owned.committer.expectedOffset !== null) resume.set(p, Number(owned.committer.expectedOffset));
      this.deps.metrics.ownedPartitions.set({ partition: String(p) }, 1);
      this.deps.outbox.drain(p, epoch);
    }
    return resume;
  }

  async revoke(partitions: readonly number[]): Promise<void> {
    for (const p of partitions) {
      this.unstall(p);
      const owned = this.owned.get(p);
      this.owned.delete(p);
      this.deps.privacy.forget(p);
      this.deps.metrics.ownedPartitions.remove({ partition: String(p) });
      this.deps.metrics.lag.remove({ partition: String(p) });
      await owned?.committer.settled();
      await this.deps.outbox.settled(p);
    }
  }

  /** Marks every owned partition's chain broken (a round failed before its commits were submitted). */
  breakAll(): void {
    for (const owned of this.owned.values()) owned.committer.broken = true;
  }

  /**
   * After a broken commit chain: waits for the commits in flight, then rebuilds the partition
   * from Redis; returns it with the offset to fetch from, or null when it is no longer processed
   * here. When another instance took it (a higher epoch), this one stops processing it and says
   * so (`stalledPartitions`: unready, a gauge, the log). When the store lost it (no epoch, or a
   * lower one: Redis restarted empty, or a failover lost the last writes), the ops decisions and
   * tombstones come back first, then it is taken again under a new epoch and rebuilt from what
   * the store has left: from the log's start when nothing is left.
   */
  async recover(broken: OwnedPartition): Promise<{ owned: OwnedPartition; fetchFrom: number } | null> {
    await broken.committer.settled();
    const { redis, keys, logger, metrics } = this.deps;
    const p = broken.partition;
    const storedEpoch = await redis.get(keys.speedEpoch(p));
    let epoch = broken.committer.epoch;
    const state = epochState(storedEpoch, epoch);
    if (state === 'lost') {
      metrics.storeLosses.inc();
      logger.warn({ partition: p, epoch, storedEpoch }, "the store lost this partition's offset and owner epoch; restoring ops decisions, then taking it again");
      await this.deps.onStoreLoss();
      const retaken = await retakeEpoch(redis, keys.speedEpoch(p), epoch);
      if (retaken !== null) epoch = retaken;
    }
    if (state === 'taken' || (epoch === broken.committer.epoch && state === 'lost')) {
      this.stall(p, `another instance holds a newer owner epoch (${storedEpoch}, ours ${broken.committer.epoch})`);
      return null;
    }
    const owned = await this.rebuild(p, epoch);
    if (state === 'lost') logger.warn({ partition: p, epoch, from: owned.committer.expectedOffset ?? 'the log start' }, 'partition taken again; rebuilding its views from Kafka');
    else logger.info({ partition: p, epoch, from: owned.committer.expectedOffset ?? 'the log start' }, 'commit chain broken: partition rebuilt from Redis');
    return { owned, fetchFrom: Number(owned.committer.expectedOffset ?? 0) };
  }

  /** Refreshes the memory gauges. */
  sampleMemory(): void {
    let users = 0;
    let ids = 0;
    let ips = 0;
    for (const { cache } of this.owned.values()) {
      users += cache.users.size;
      ids += cache.dedupe.stats().ids;
      ips += cache.ips.size;
    }
    this.deps.metrics.cachedUsers.set(users);
    this.deps.metrics.dedupeIds.set(ids);
    this.deps.metrics.ipStates.set(ips);
  }

  /**
   * Stops processing a partition the group still gives this instance, and says so: a warning
   * first (a member that joins takes partitions under a new epoch before the group revokes them
   * here: a normal rebalance), an error when the group has not moved it within one and a half
   * rebalance timeouts (the speed layer's is its session timeout).
   */
  private stall(partition: number, why: string): void {
    const { logger, metrics, config } = this.deps;
    this.owned.delete(partition);
    clearTimeout(this.stalled.get(partition)?.alarm);
    const waitMs = 1.5 * config.speed.sessionTimeoutMs;
    const alarm = setTimeout(() => logger.error({ partition, why, waitMs }, 'partition held in the consumer group but not processed'), waitMs).unref();
    this.stalled.set(partition, { why, alarm });
    metrics.stalledPartitions.set(this.stalled.size);
    logger.warn({ partition, why }, 'partition fenced by a newer owner: not processed here until the group moves it (a rebalance under way)');
  }

  /** Takes a partition out of the stalled ones (revoked, or assigned again), its alarm with it. */
  private unstall(partition: number): void {
    const stalled = this.stalled.get(partition);
    if (!stalled) return;
    clearTimeout(stalled.alarm);
    this.stalled.delete(partition);
    this.deps.metrics.stalledPartitions.set(this.stalled.size);
  }

  /** A fresh cache of a partition from Redis: its stored offset and watermark; users load lazily. */
  private async rebuild(partition: number, epoch: string): Promise<OwnedPartition> {
    const { redis, keys, config } = this.deps;
    const [offset, stateJson, since] = await redis.mget(keys.speedOffset(partition), keys.speedPartition(partition), keys.knownUsersSince(partition));
    const state = stateJson ? parsePartitionState(JSON.parse(stateJson)) : createPartitionState();
    const now = Date.now();
    const directory = new UserDirectory(since ?? null, offset === null, now, config.speed.userTtlMs);
    directory.load(await redis.mgetBuffer(...UserDirectory.days(now, config.speed.userTtlMs).map((d) => keys.knownUsers(partition, d))));
    const owned: OwnedPartition = {
      partition,
      cache: new PartitionCache(partition, offset ?? null, state, config.rules.dedupeHorizonMs, directory),
      committer: new PartitionCommitter(partition, epoch, offset ?? null, this.deps),
    };
    this.owned.set(partition, owned);
    return owned;
  }
}

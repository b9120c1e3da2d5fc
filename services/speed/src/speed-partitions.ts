import { type RedisClient, fencedCommit, OffsetFenceError, type StoreKeys } from '@sigflow/store';
import { createPartitionState, ipClickRetentionMs, parsePartitionState } from '@sigflow/core';
import type { SigflowConfig } from '@sigflow/config';
import type { Topics } from '@sigflow/events';
import type { EventProducer } from '@sigflow/kafka';
import type { PartitionBatch, PartitionHandler } from '@sigflow/kafka/data-path';
import type { Logger } from '@sigflow/observability';
import { PartitionRuntime } from './partition-runtime.js';
import { UserDirectory } from './user-directory.js';
import { loadRoundState } from './batch-loader.js';
import { BatchChanges, collectRoundChanges, summarizeBatch, type BatchSummary } from './batch-changes.js';
import { alignRound, type AlignedPart } from './round-alignment.js';
import { buildPartitionCommit } from './partition-commit.js';
import { decodeBatch, type DeadLetter } from './decode-batch.js';
import type { AnalyticsOutbox } from './analytics-outbox.js';
import type { ShapleyTableCache } from './shapley-table-cache.js';
import type { SpeedMetrics } from './speed-metrics.js';
import { applyErasures, type PrivacyErasures } from './privacy-erasures.js';
import type { SegmentSetCache } from './segment-set-cache.js';

export interface SpeedPartitionsDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  /**
   * The fenced commits' own connection, without auto-pipelining: ioredis sends no
   * auto-pipeline while another runs and answers its commands only once all are answered,
   * so on one connection a round's reads would wait behind the last round's commit.
   */
  readonly commitRedis: RedisClient;
  readonly keys: StoreKeys;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly metrics: SpeedMetrics;
  readonly shapley: ShapleyTableCache;
  readonly deadLetters: EventProducer;
  readonly outbox: AnalyticsOutbox;
  /** Moves a partition's next fetch (after a failed commit, back to the stored offset). */
  readonly seek: (partition: number, offset: number) => void;
  /** Tombstones (events dropped) and the erasures asked of owned partitions. */
  readonly privacy: PrivacyErasures;
  /** The segment definitions in force. */
  readonly segments: SegmentSetCache;
}

/**
 * The speed layer's partitions: on assignment it takes the partition's owner epoch and resumes
 * at the offset stored in Redis with the views; per batch it loads what the cache lacks, runs
 * the rules, and submits ONE fenced commit (views, state, dedupe hashes, outbox, next offset).
 * Commits of a partition run in order. A round's commits wait until the next round has sent its
 * reads, so Redis applies them while that round is processed (the cache keeps what they write).
 */
export class SpeedPartitions implements PartitionHandler {
  private readonly runtimes = new Map<number, PartitionRuntime>();
  /** Opens the gate of the last round's commits (`holdCommits`). */
  private releaseHeldCommits: () => void = () => undefined;

  constructor(private readonly deps: SpeedPartitionsDeps) {}

  /** Partitions owned now. */
  get owned(): number[] {
    return [...this.runtimes.keys()];
  }

  /** Refreshes the memory gauges. */
  sampleMemory(): void {
    let users = 0;
    let ids = 0;
    for (const r of this.runtimes.values()) {
      users += r.users.size;
      ids += r.dedupe.stats().ids;
    }
    this.deps.metrics.cachedUsers.set(users);
    this.deps.metrics.dedupeIds.set(ids);
  }

  async assigned(partitions: readonly number[]): Promise<ReadonlyMap<number, number>> {
    const resume = new Map<number, number>();
    // Tombstones first: a deleted person's events in the backlog are dropped from the first round.
    await this.deps.privacy.refresh(partitions);
    for (const p of partitions) {
      const epoch = String(await this.deps.redis.incr(this.deps.keys.speedEpoch(p)));
      const runtime = await this.rebuild(p, epoch);
      if (runtime.expectedOffset !== null) resume.set(p, Number(runtime.expectedOffset));
      this.deps.metrics.ownedPartitions.set({ partition: String(p) }, 1);
      this.deps.outbox.drain(p, epoch);
    }
    return resume;
  }

  async revoked(partitions: readonly number[]): Promise<void> {
    for (const p of partitions) {
      const runtime = this.runtimes.get(p);
      this.runtimes.delete(p);
      this.deps.privacy.forget(p);
      this.deps.metrics.ownedPartitions.remove({ partition: String(p) });
      this.deps.metrics.lag.remove({ partition: String(p) });
      await runtime?.lastCommit.catch(() => undefined);
      await this.deps.outbox.settled(p);
    }
  }

  /** A round that fetched nothing: the messages held back for alignment go now. */
  async idle(): Promise<void> {
    const waiting = (r: PartitionRuntime) =>
      r.broken || r.pending.messages.length > 0 || r.pending.deadLetters.length > 0 || r.pending.fetchedNext > Number(r.expectedOffset ?? 0);
    if ([...this.runtimes.values()].some(waiting) || this.deps.privacy.waiting(this.runtimes.keys())) await this.records([]);
  }

  /**
   * A fetch round. Any failure before its commits are submitted (Redis unreachable while
   * loading, say) leaves the caches ahead of Redis, with messages taken from their partitions'
   * pending lists: every partition then rebuilds from Redis and fetches again from its stored
   * offset, and the error goes up to the consumer, which retries.
   */
  async records(batches: readonly PartitionBatch[]): Promise<void> {
    try {
      await this.processRound(batches);
    } catch (err) {
      for (const runtime of this.runtimes.values()) runtime.broken = true;
      throw err;
    }
  }

  private async processRound(batches: readonly PartitionBatch[]): Promise<void> {
    const started = performance.now();
    // A partition whose commit failed rebuilds from Redis and fetches again from its stored
    // offset, whether or not this round brought it anything.
    // This round's records of such a partition come from before the seek: they are dropped.
    const recovered = new Set<number>();
    for (const runtime of [...this.runtimes.values()]) {
      if (!runtime.broken) continue;
      await this.recover(runtime);
      recovered.add(runtime.partition);
    }
    applyErasures(this.deps, this.runtimes.values());
    const fetched = new Set<number>();
    for (const batch of batches) {
      const runtime = this.runtimes.get(batch.partition);
      if (!runtime || runtime.broken || recovered.has(batch.partition)) continue;
      const { messages, deadLetters } = decodeBatch(batch);
      // A loop, not push(...spread): a fetch can hold tens of thousands of messages.
      // A deleted person's events are dropped here (counted), before anything remembers them.
      let dropped = 0;
      for (const m of messages) {
        if (this.deps.privacy.drops(m.event.user_id)) dropped++;
        else runtime.pending.messages.push(m);
      }
      if (dropped > 0) this.deps.metrics.tombstonedEvents.inc(dropped);
      for (const d of deadLetters) runtime.pending.deadLetters.push(d);
      runtime.pending.fetchedNext = batch.nextOffset;
      this.deps.metrics.lag.set({ partition: String(batch.partition) }, Math.max(0, batch.highWatermark - batch.nextOffset));
      fetched.add(batch.partition);
    }
    const owned = [...this.runtimes.values()].filter((r) => !r.broken);
    const aligned = alignRound(new Map(owned.map((r) => [r.partition, r.pending])), fetched, (p) => Number(this.runtimes.get(p)?.expectedOffset ?? 0));
    if (aligned.size === 0) return;
    const works = [...aligned].map(([p, part]) => ({ runtime: this.runtimes.get(p) as PartitionRuntime, messages: part.messages, changes: new BatchChanges() }));
    const loading = loadRoundState(this.loadContext(), works.map((w) => ({ runtime: w.runtime, events: w.messages.map((m) => m.event) })), owned);
    // The last round's commits go to Redis behind this round's reads (sent above): Redis runs
    // them while this round is processed, instead of this round's reads waiting behind them.
    this.releaseHeldCommits();
    const foreign = await loading;
    collectRoundChanges({ settings: this.deps.config.rules, shapley: this.deps.shapley.current(), segments: this.deps.segments.current() }, works, owned, foreign);
    const previous: Promise<void>[] = [];
    const gate = this.holdCommits();
    for (const { runtime, changes } of works) {
      const part = aligned.get(runtime.partition) as AlignedPart;
      const commands = buildPartitionCommit({ keys: this.deps.keys, settings: this.deps.config.rules, speed: this.deps.config.speed, now: Date.now() }, runtime, changes);
      if (part.deadLetters.length > 0) {
        // Before the commit: a crash in between re-sends them (the dead-letter topic is at-least-once).
        await this.sendDeadLetters(runtime.partition, part.deadLetters);
        commands.push(['HINCRBY', this.deps.keys.speedCounters(runtime.partition), 'dlq', part.deadLetters.length]);
      }
      // What this commit writes stays cached: the next round's reads run before the commit.
      runtime.trim(this.deps.config.speed.cachedUsersPerPartition, this.ipKeepFrom(runtime), { users: changes.signals, ips: changes.ips }, Date.now());
      previous.push(runtime.lastCommit);
      runtime.lastCommit = this.commit(runtime, part.nextOffset, commands, summarizeBatch(changes), started, gate);
    }
    // At most one commit per partition waits behind the one running.
    await Promise.all(previous.map((p) => p.catch(() => undefined)));
  }

  /**
   * A gate for this round's commits: opened by the next round once its reads are sent, or on
   * the next turn of the event loop when no round follows at once (live traffic: no wait).
   */
  private holdCommits(): Promise<void> {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.releaseHeldCommits = open;
    setImmediate(open);
    return gate;
  }

  private loadContext() {
    const { redis, keys, config } = this.deps;
    return {
      redis,
      keys,
      settings: config.rules,
      partitions: config.kafka.eventPartitions,
      snapshotEvery: config.speed.snapshotEvery,
      onIncompleteState: () => this.deps.metrics.incompleteStates.inc(),
    };
  }

  private ipKeepFrom(runtime: PartitionRuntime): number | null {
    const newest = runtime.state.maxEventTs;
    return newest === null ? null : newest - ipClickRetentionMs(this.deps.config.rules);
  }

  /** Submits a batch's commit after the previous one; on failure marks the cache broken. */
  private async commit(runtime: PartitionRuntime, nextOffset: number, commands: Parameters<typeof fencedCommit>[4], batch: BatchSummary, started: number, gate: Promise<void>): Promise<void> {
    const { commitRedis, keys, metrics, logger } = this.deps;
    const expected = runtime.expectedOffset;
    const next = String(nextOffset);
    runtime.expectedOffset = next;
    const fence = { offsetKey: keys.speedOffset(runtime.partition), epochKey: keys.speedEpoch(runtime.partition), epoch: runtime.epoch };
    try {
      await runtime.lastCommit;
      await gate;
      await fencedCommit(commitRedis, fence, expected, next, commands);
    } catch (err) {
      runtime.broken = true;
      if (err instanceof OffsetFenceError) metrics.fenced.inc();
      // A new owner's epoch is a handover (a rebalance): expected, and counted by the metric.
      if (err instanceof OffsetFenceError && err.ownerChanged) logger.info({ partition: runtime.partition, found: err.found }, 'partition taken over by another instance; its commit was fenced');
      else logger.warn({ partition: runtime.partition, err }, 'commit failed; the partition reloads from Redis');
      return;
    }
    this.afterCommit(runtime, batch, started);
  }

  private afterCommit(runtime: PartitionRuntime, batch: BatchSummary, started: number): void {
    const { metrics } = this.deps;
    const now = Date.now();
    for (const at of batch.receivedAt) metrics.eventToView.observe((now - at) / 1000);
    for (const [status, n] of Object.entries(batch.byStatus)) if (n > 0) metrics.events.inc({ status }, n);
    if (batch.late > 0) metrics.lateEvents.inc(batch.late);
    if (batch.segmentEntries > 0) metrics.segmentChanges.inc({ change: 'entered' }, batch.segmentEntries);
    if (batch.segmentExits > 0) metrics.segmentChanges.inc({ change: 'left' }, batch.segmentExits);
    metrics.processed.inc(batch.events);
    metrics.batchEvents.observe(batch.events);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    if (batch.analytics > 0) this.deps.outbox.drain(runtime.partition, runtime.epoch);
  }

  /**
   * After a failed commit: waits for the commits in flight, then rebuilds the partition's cache
   * from Redis and moves the fetch back to the stored offset. When another instance took the
   * partition (its epoch moved), this one stops processing it until the group says otherwise.
   */
  private async recover(broken: PartitionRuntime): Promise<PartitionRuntime> {
    await broken.lastCommit.catch(() => undefined);
    const storedEpoch = await this.deps.redis.get(this.deps.keys.speedEpoch(broken.partition));
    if (storedEpoch !== broken.epoch) {
      this.deps.logger.warn({ partition: broken.partition, epoch: broken.epoch, storedEpoch }, 'partition taken by another instance; not processing it');
      this.runtimes.delete(broken.partition);
      return broken;
    }
    const runtime = await this.rebuild(broken.partition, broken.epoch);
    this.deps.seek(broken.partition, Number(runtime.expectedOffset ?? 0));
    return runtime;
  }

  /** A fresh cache of a partition from Redis: its stored offset and watermark; users load lazily. */
  private async rebuild(partition: number, epoch: string): Promise<PartitionRuntime> {
    const { redis, keys, config } = this.deps;
    const [offset, stateJson, since] = await redis.mget(keys.speedOffset(partition), keys.speedPartition(partition), keys.knownUsersSince(partition));
    const state = stateJson ? parsePartitionState(JSON.parse(stateJson)) : createPartitionState();
    const now = Date.now();
    const directory = new UserDirectory(since ?? null, offset === null, now, config.speed.userTtlMs);
    directory.load(await redis.mgetBuffer(...UserDirectory.days(now, config.speed.userTtlMs).map((d) => keys.knownUsers(partition, d))));
    const runtime = new PartitionRuntime(partition, epoch, offset ?? null, state, config.rules.dedupeHorizonMs, directory);
    this.runtimes.set(partition, runtime);
    return runtime;
  }

  private async sendDeadLetters(partition: number, deadLetters: readonly DeadLetter[]): Promise<void> {
    const topic = this.deps.topics.events;
    await this.deps.deadLetters.send(
      deadLetters.map((d) => ({
        key: `${topic}:${partition}:${d.offset}`,
        value: JSON.stringify({ topic, partition, offset: d.offset, reason: d.reason, payload: d.payload, failed_at: Date.now() }),
      })),
    );
    this.deps.metrics.deadLetters.inc(deadLetters.length);
    this.deps.logger.warn({ partition, count: deadLetters.length, first: deadLetters[0] }, 'messages sent to the dead-letter topic');
  }
}

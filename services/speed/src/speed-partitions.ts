import type { Redis } from 'ioredis';
import { createPartitionState, ipClickRetentionMs, parsePartitionState } from '@sigflow/core';
import type { SigflowConfig } from '@sigflow/config';
import type { Topics } from '@sigflow/events';
import type { EventProducer, PartitionBatch, PartitionHandler } from '@sigflow/kafka';
import { fencedCommit, OffsetFenceError, type StoreKeys } from '@sigflow/store';
import type { Logger } from '@sigflow/observability';
import { PartitionRuntime } from './partition-runtime.js';
import { loadRoundState } from './batch-loader.js';
import { BatchChanges, collectRoundChanges } from './batch-changes.js';
import { alignRound, type AlignedPart } from './round-alignment.js';
import { buildPartitionCommit } from './partition-commit.js';
import { decodeBatch, type DeadLetter } from './decode-batch.js';
import type { AnalyticsOutbox } from './analytics-outbox.js';
import type { ShapleyTableCache } from './shapley-table-cache.js';
import type { SpeedMetrics } from './speed-metrics.js';

export interface SpeedPartitionsDeps {
  readonly config: SigflowConfig;
  readonly redis: Redis;
  readonly keys: StoreKeys;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly metrics: SpeedMetrics;
  readonly shapley: ShapleyTableCache;
  readonly deadLetters: EventProducer;
  readonly outbox: AnalyticsOutbox;
  /** Moves a partition's next fetch (after a failed commit, back to the stored offset). */
  readonly seek: (partition: number, offset: number) => void;
}

/**
 * The speed layer's partitions: on assignment it takes the partition's owner epoch and resumes
 * at the offset stored in Redis with the views; per batch it loads what the cache lacks, runs
 * the rules, and submits ONE fenced commit (views, state, dedupe hashes, outbox, next offset).
 * Commits of a partition run in order; the next batch is processed while one is in flight.
 */
export class SpeedPartitions implements PartitionHandler {
  private readonly runtimes = new Map<number, PartitionRuntime>();

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
    if ([...this.runtimes.values()].some(waiting)) await this.records([]);
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
    const fetched = new Set<number>();
    for (const batch of batches) {
      const runtime = this.runtimes.get(batch.partition);
      if (!runtime || runtime.broken || recovered.has(batch.partition)) continue;
      const { messages, deadLetters } = decodeBatch(batch);
      runtime.pending.messages.push(...messages);
      runtime.pending.deadLetters.push(...deadLetters);
      runtime.pending.fetchedNext = batch.nextOffset;
      this.deps.metrics.lag.set({ partition: String(batch.partition) }, Math.max(0, batch.highWatermark - batch.nextOffset));
      fetched.add(batch.partition);
    }
    const owned = [...this.runtimes.values()].filter((r) => !r.broken);
    const aligned = alignRound(new Map(owned.map((r) => [r.partition, r.pending])), fetched, (p) => Number(this.runtimes.get(p)?.expectedOffset ?? 0));
    if (aligned.size === 0) return;
    const works = [...aligned].map(([p, part]) => ({ runtime: this.runtimes.get(p) as PartitionRuntime, messages: part.messages, changes: new BatchChanges() }));
    const foreign = await loadRoundState(this.loadContext(), works.map((w) => ({ runtime: w.runtime, events: w.messages.map((m) => m.event) })), owned);
    collectRoundChanges({ settings: this.deps.config.rules, shapley: this.deps.shapley.current() }, works, owned, foreign);
    const previous: Promise<void>[] = [];
    for (const { runtime, changes } of works) {
      const part = aligned.get(runtime.partition) as AlignedPart;
      const commands = buildPartitionCommit({ keys: this.deps.keys, settings: this.deps.config.rules, speed: this.deps.config.speed, now: Date.now() }, runtime, changes);
      if (part.deadLetters.length > 0) {
        // Before the commit: a crash in between re-sends them (the dead-letter topic is at-least-once).
        await this.sendDeadLetters(runtime.partition, part.deadLetters);
        commands.push(['HINCRBY', this.deps.keys.speedCounters(runtime.partition), 'dlq', part.deadLetters.length]);
      }
      runtime.trim(this.deps.config.speed.cachedUsersPerPartition, this.ipKeepFrom(runtime));
      previous.push(runtime.lastCommit);
      runtime.lastCommit = this.commit(runtime, part.nextOffset, commands, changes, started);
    }
    // At most one commit per partition waits behind the one running.
    await Promise.all(previous.map((p) => p.catch(() => undefined)));
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
  private async commit(runtime: PartitionRuntime, nextOffset: number, commands: Parameters<typeof fencedCommit>[4], changes: BatchChanges, started: number): Promise<void> {
    const { redis, keys, metrics, logger } = this.deps;
    const expected = runtime.expectedOffset;
    const next = String(nextOffset);
    runtime.expectedOffset = next;
    const fence = { offsetKey: keys.speedOffset(runtime.partition), epochKey: keys.speedEpoch(runtime.partition), epoch: runtime.epoch };
    try {
      await runtime.lastCommit;
      await fencedCommit(redis, fence, expected, next, commands);
    } catch (err) {
      runtime.broken = true;
      if (err instanceof OffsetFenceError) metrics.fenced.inc();
      logger.warn({ partition: runtime.partition, err }, 'commit failed; the partition reloads from Redis');
      return;
    }
    this.afterCommit(runtime, changes, started);
  }

  private afterCommit(runtime: PartitionRuntime, changes: BatchChanges, started: number): void {
    const { metrics } = this.deps;
    const now = Date.now();
    for (const at of changes.receivedAt) metrics.eventToView.observe((now - at) / 1000);
    let late = 0;
    const byStatus = { valid: 0, invalid: 0, duplicate: 0 };
    for (const o of changes.outcomes) {
      byStatus[o.status]++;
      if (o.late) late++;
    }
    for (const [status, n] of Object.entries(byStatus)) if (n > 0) metrics.events.inc({ status }, n);
    if (late > 0) metrics.lateEvents.inc(late);
    metrics.processed.inc(changes.outcomes.length);
    metrics.batchEvents.observe(changes.outcomes.length);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    if (changes.analytics.length > 0) this.deps.outbox.drain(runtime.partition, runtime.epoch);
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
    const [offset, stateJson] = await redis.mget(keys.speedOffset(partition), keys.speedPartition(partition));
    const state = stateJson ? parsePartitionState(JSON.parse(stateJson)) : createPartitionState();
    const runtime = new PartitionRuntime(partition, epoch, offset ?? null, state, config.rules.dedupeHorizonMs);
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

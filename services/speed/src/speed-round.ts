import v8 from 'node:v8';
import { ipClickRetentionMs } from '@sigflow/core';
import type { SigflowConfig } from '@sigflow/config';
import type { PartitionFetch } from '@sigflow/kafka/data-path';
import type { RedisClient, StoreKeys } from '@sigflow/store';
import type { Logger } from '@sigflow/observability';
import type { AnalyticsOutbox } from './analytics-outbox.js';
import type { DeadLetterPublisher } from './dead-letters.js';
import { decodeFetch } from './fetch-decoding.js';
import type { OwnedPartition } from './owned-partition.js';
import { CACHE_SHARE_OF_HEAP_LIMIT, CacheBudget, cacheBudgetBytes } from './cache-budget.js';
import { buildPartitionCommit } from './partition-commit.js';
import type { PartitionOwnership } from './partition-ownership.js';
import { applyErasures, type PrivacyErasures } from './privacy-erasures.js';
import { alignRound } from './round-alignment.js';
import { RoundChanges, summarizeRound, type RoundSummary } from './round-changes.js';
import { collectRoundChanges } from './round-rules.js';
import { loadContextOf, loadRoundState } from './round-state-loader.js';
import type { AlignedPart } from './round-types.js';
import type { SegmentSetCache } from './segment-set-cache.js';
import type { ShapleyTableCache } from './shapley-table-cache.js';
import type { SpeedMetrics } from './speed-metrics.js';

export interface RoundDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly logger: Logger;
  readonly metrics: SpeedMetrics;
  readonly shapley: ShapleyTableCache;
  readonly segments: SegmentSetCache;
  readonly privacy: PrivacyErasures;
  readonly deadLetters: DeadLetterPublisher;
  readonly outbox: AnalyticsOutbox;
}

/** One owned partition's part of a round, and what it changed. */
interface PartWork {
  readonly owned: OwnedPartition;
  readonly part: AlignedPart;
  readonly changes: RoundChanges;
}

/**
 * The users' cache's budget under the heap limit this process runs with (cut, with a warning
 * naming the flag, when the setting asks for more than its share); the bytes go to a gauge.
 */
function cacheBudgetOf({ config, logger, metrics }: RoundDeps): CacheBudget {
  const heapLimit = v8.getHeapStatistics().heap_size_limit;
  const { cacheHeapMb, cachedUsers } = config.speed;
  const budget = cacheBudgetBytes(cacheHeapMb, heapLimit);
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  if (budget.clamped) {
    logger.warn(
      { cacheHeapMb, heapLimitMb: mib(heapLimit), budgetMb: mib(budget.bytes) },
      `SIGFLOW_SPEED_CACHE_HEAP_MB is more than ${CACHE_SHARE_OF_HEAP_LIMIT * 100} % of V8's heap limit: the cache keeps to ${mib(budget.bytes)} MiB; start with --max-old-space-size=${Math.ceil(cacheHeapMb / CACHE_SHARE_OF_HEAP_LIMIT)} to give it the whole budget`,
    );
  }
  metrics.cacheBudgetBytes.set(budget.bytes);
  return new CacheBudget(budget.bytes, cachedUsers);
}

/** A round's phases, each timed from the end of the one before into `sigflow_speed_round_phase_seconds_total`. */
class RoundPhases {
  constructor(
    private readonly seconds: SpeedMetrics['roundPhaseSeconds'],
    private last: number,
  ) {}

  ended(phase: 'intake' | 'load' | 'rules' | 'commit'): void {
    const now = performance.now();
    this.seconds.inc({ phase }, (now - this.last) / 1000);
    this.last = now;
  }
}

/**
 * A round of the speed layer: what one fetch of the owned partitions brought, processed
 * together. intake (decode, drop deleted people's events) -> align the partitions in event time
 * -> load what the caches lack -> apply the shared rules -> build each partition's commit ->
 * submit it to the partition's commit chain. A round's commits wait until the next round has
 * sent its reads, so Redis applies them while that round is processed (the caches keep what
 * they write).
 */
export class SpeedRound {
  /** Opens the gate of the last round's commits (`holdCommits`). */
  private releaseHeldCommits: () => void = () => undefined;
  private readonly cacheBudget: CacheBudget;

  constructor(
    private readonly deps: RoundDeps,
    private readonly ownership: PartitionOwnership,
  ) {
    this.cacheBudget = cacheBudgetOf(deps);
  }

  /**
   * Runs a round; resolves with the partitions to fetch again from another offset (rebuilt
   * after a broken commit chain). Any failure before its commits are submitted (Redis
   * unreachable while loading, say) leaves the caches ahead of Redis: every partition's chain
   * is then marked broken (rebuilt from Redis next round) and the error goes up to the consumer.
   */
  async run(fetches: readonly PartitionFetch[]): Promise<ReadonlyMap<number, number>> {
    try {
      return await this.process(fetches);
    } catch (err) {
      this.ownership.breakAll();
      throw err;
    }
  }

  /** Whether a round must run although nothing was fetched: held messages, a broken chain, an erasure. */
  waiting(): boolean {
    const waits = ({ cache, committer }: OwnedPartition) =>
      committer.broken || cache.pending.messages.length > 0 || cache.pending.deadLetters.length > 0 || cache.pending.fetchedNext > Number(committer.expectedOffset ?? 0);
    return this.ownership.all.some(waits) || this.deps.privacy.waiting(this.ownership.partitions);
  }

  private async process(fetches: readonly PartitionFetch[]): Promise<ReadonlyMap<number, number>> {
    const started = performance.now();
    const phases = new RoundPhases(this.deps.metrics.roundPhaseSeconds, started);
    const { seeks, recovered } = await this.recoverBroken();
    applyErasures(this.deps, this.ownership.all);
    const fetched = this.intake(fetches, recovered);
    const works = this.align(fetched);
    phases.ended('intake');
    if (works.length === 0) return seeks;
    await this.applyRules(works, phases);
    await this.submit(works, started);
    phases.ended('commit');
    return seeks;
  }

  /** Rebuilds every partition whose chain broke; their records of this round came from before the seek. */
  private async recoverBroken(): Promise<{ seeks: Map<number, number>; recovered: Set<number> }> {
    const seeks = new Map<number, number>();
    const recovered = new Set<number>();
    for (const owned of this.ownership.all) {
      if (!owned.committer.broken) continue;
      recovered.add(owned.partition);
      const rebuilt = await this.ownership.recover(owned);
      if (rebuilt) seeks.set(owned.partition, rebuilt.fetchFrom);
    }
    return { seeks, recovered };
  }

  /** Decodes each fetch into its partition's pending messages; a deleted person's events are dropped (counted). */
  private intake(fetches: readonly PartitionFetch[], recovered: ReadonlySet<number>): Set<number> {
    const fetched = new Set<number>();
    for (const fetch of fetches) {
      const owned = this.ownership.of(fetch.partition);
      if (!owned || owned.committer.broken || recovered.has(fetch.partition)) continue;
      const { pending } = owned.cache;
      const { messages, deadLetters } = decodeFetch(fetch);
      // A loop, not push(...spread): a fetch can hold tens of thousands of messages.
      let dropped = 0;
      for (const m of messages) {
        if (this.deps.privacy.drops(m.event.user_id)) dropped++;
        else pending.messages.push(m);
      }
      if (dropped > 0) this.deps.metrics.tombstonedEvents.inc(dropped);
      for (const d of deadLetters) pending.deadLetters.push(d);
      const lag = Math.max(0, fetch.highWatermark - fetch.nextOffset);
      pending.fetchedNext = fetch.nextOffset;
      pending.caughtUp = lag === 0;
      this.deps.metrics.lag.set({ partition: String(fetch.partition) }, lag);
      fetched.add(fetch.partition);
    }
    return fetched;
  }

  /** Each partition's part of the round, aligned in event time (`alignRound`). */
  private align(fetched: ReadonlySet<number>): PartWork[] {
    const owned = this.ownership.all.filter((o) => !o.committer.broken);
    const aligned = alignRound(new Map(owned.map((o) => [o.partition, o.cache.pending])), fetched, (p) => Number(this.ownership.of(p)?.committer.expectedOffset ?? 0));
    return [...aligned].map(([p, part]) => ({ owned: this.ownership.of(p) as OwnedPartition, part, changes: new RoundChanges() }));
  }

  /** Loads what the caches lack (the last round's commits go out behind these reads), then runs the rules. */
  private async applyRules(works: readonly PartWork[], phases: RoundPhases): Promise<void> {
    const { config, redis, keys, metrics } = this.deps;
    const owned = this.ownership.all.filter((o) => !o.committer.broken).map((o) => o.cache);
    const context = loadContextOf(config, redis, keys, () => metrics.incompleteStates.inc());
    const loading = loadRoundState(context, works.map((w) => ({ cache: w.owned.cache, events: w.part.messages.map((m) => m.event) })), owned);
    this.releaseHeldCommits();
    const foreign = await loading;
    phases.ended('load');
    const rules = { settings: config.rules, shapley: this.deps.shapley.current(), segments: this.deps.segments.current() };
    collectRoundChanges(rules, works.map((w) => ({ cache: w.owned.cache, messages: w.part.messages, changes: w.changes })), owned, foreign);
    phases.ended('rules');
  }

  /** Builds and submits each partition's commit; at most one commit per partition waits behind the one running. */
  private async submit(works: readonly PartWork[], started: number): Promise<void> {
    const { config, keys } = this.deps;
    const previous: Promise<void>[] = [];
    const gate = this.holdCommits();
    const cachedUsers = Math.ceil(this.usersKept() / Math.max(1, this.ownership.all.length));
    for (const { owned, part, changes } of works) {
      const { cache, committer } = owned;
      if (part.deadLetters.length > 0) await this.deps.deadLetters.send(owned.partition, part.deadLetters);
      changes.deadLetters = part.deadLetters.length;
      const now = Date.now();
      const commands = buildPartitionCommit({ keys, settings: config.rules, speed: config.speed, now }, cache, changes);
      // What this commit writes stays cached: the next round's reads run before the commit.
      cache.trim(cachedUsers, this.ipKeepFrom(owned), { users: changes.signals, ips: changes.ips }, now);
      previous.push(committer.settled());
      const summary = summarizeRound(changes);
      void committer.submit({ commands, nextOffset: part.nextOffset, gate }).then((applied) => applied && this.afterCommit(owned, summary, started));
    }
    await Promise.all(previous);
  }

  /** The users the process may keep now (its cache's heap budget); the estimate goes to a gauge. */
  private usersKept(): number {
    const cached = this.ownership.all.reduce((n, o) => n + o.cache.users.size, 0);
    const users = this.cacheBudget.users(cached);
    this.deps.metrics.cacheBytesPerUser.set(this.cacheBudget.estimatedBytesPerUser);
    return users;
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

  private ipKeepFrom({ cache }: OwnedPartition): number | null {
    const newest = cache.state.maxEventTs;
    return newest === null ? null : newest - ipClickRetentionMs(this.deps.config.rules);
  }

  private afterCommit(owned: OwnedPartition, round: RoundSummary, started: number): void {
    const { metrics } = this.deps;
    const now = Date.now();
    for (const at of round.receivedAt) metrics.eventToView.observe((now - at) / 1000);
    for (const [status, n] of Object.entries(round.byStatus)) if (n > 0) metrics.events.inc({ status }, n);
    if (round.late > 0) metrics.lateEvents.inc(round.late);
    if (round.segmentEntries > 0) metrics.segmentChanges.inc({ change: 'entered' }, round.segmentEntries);
    if (round.segmentExits > 0) metrics.segmentChanges.inc({ change: 'left' }, round.segmentExits);
    metrics.processed.inc(round.events);
    metrics.roundEvents.observe(round.events);
    metrics.roundSeconds.observe((performance.now() - started) / 1000);
    if (round.analytics > 0) this.deps.outbox.drain(owned.partition, owned.committer.epoch);
  }
}

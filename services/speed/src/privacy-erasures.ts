import { type RedisClient, eraseSpeedStateDirectly, fencedCommit, OffsetFenceError, readSpeedErasures, speedErasureCommands, type StoreKeys } from '@sigflow/store';
import { TombstoneSet } from '@sigflow/privacy';
import type { Logger } from '@sigflow/observability';
import type { PartitionRuntime } from './partition-runtime.js';
import type { SpeedMetrics } from './speed-metrics.js';

/**
 * The speed layer's side of a person's deletion. It keeps the tombstones (events of a deleted
 * person are dropped before the rules see them, and counted), and picks up the erasures asked of
 * the partitions it owns (`StoreKeys.speedErasures`): each is queued here until the partition's
 * next round, which drops the person from the cache and writes the erasure as a fenced commit
 * of the partition, behind the commits already submitted and ahead of any later one.
 */
export class PrivacyErasures {
  readonly tombstones: TombstoneSet;
  private readonly queued = new Map<number, Set<string>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    salt: string,
  ) {
    this.tombstones = new TombstoneSet(redis, keys, salt);
  }

  /** Whether the events of `userId` are dropped (a tombstone). */
  drops(userId: string): boolean {
    return this.tombstones.isDeleted(userId);
  }

  /** Reads new tombstones and the erasures asked of `owned`; returns whether any erasure is queued. */
  async refresh(owned: readonly number[]): Promise<boolean> {
    await this.tombstones.refresh();
    if (owned.length === 0) return false;
    for (const [partition, users] of await readSpeedErasures(this.redis, this.keys, owned)) {
      let set = this.queued.get(partition);
      if (!set) this.queued.set(partition, (set = new Set()));
      for (const u of users) {
        // Dropped from now on, even before the next tombstone refresh.
        this.tombstones.add(u);
        set.add(u);
      }
    }
    return this.queued.size > 0;
  }

  /** Whether an erasure waits for one of `partitions`. */
  waiting(partitions: Iterable<number>): boolean {
    for (const p of partitions) if (this.queued.has(p)) return true;
    return false;
  }

  /** Takes the people queued for erasure in `partition`. */
  take(partition: number): string[] {
    const set = this.queued.get(partition);
    this.queued.delete(partition);
    return set ? [...set] : [];
  }

  /** Forgets what was queued for a partition given up (its next owner reads the requests). */
  forget(partition: number): void {
    this.queued.delete(partition);
  }
}

/** What an erasure commit needs of the speed layer. */
export interface ErasureDeps {
  readonly privacy: PrivacyErasures;
  /** The fenced commits' connection. */
  readonly commitRedis: RedisClient;
  readonly keys: StoreKeys;
  readonly metrics: SpeedMetrics;
  readonly logger: Logger;
  /** The segments in force: an erased person leaves their member sets too. */
  readonly segments?: { ids(): readonly string[] };
}

/**
 * Applies the erasures queued for owned partitions, at the start of a round: each person leaves
 * the cache and the pending messages at once, and the erasure joins the partition's chain of
 * commits as a fenced commit of its own (same offset): behind the commits already submitted,
 * which may still write the person's state, and ahead of every later one, which cannot. A
 * partition whose cache is broken keeps its erasures for the round after its rebuild.
 */
export function applyErasures(deps: ErasureDeps, runtimes: Iterable<PartitionRuntime>): void {
  for (const runtime of runtimes) {
    if (runtime.broken) continue;
    const users = deps.privacy.take(runtime.partition);
    if (users.length === 0) continue;
    const gone = new Set(users);
    for (const u of users) runtime.users.delete(u);
    const before = runtime.pending.messages.length;
    runtime.pending.messages = runtime.pending.messages.filter((m) => !gone.has(m.event.user_id));
    if (runtime.pending.messages.length < before) deps.metrics.tombstonedEvents.inc(before - runtime.pending.messages.length);
    runtime.lastCommit = commitErasure(deps, runtime, users, runtime.lastCommit);
  }
}

async function commitErasure(deps: ErasureDeps, runtime: PartitionRuntime, users: readonly string[], previous: Promise<void>): Promise<void> {
  const { commitRedis, keys, metrics, logger } = deps;
  const expected = runtime.expectedOffset;
  const fence = { offsetKey: keys.speedOffset(runtime.partition), epochKey: keys.speedEpoch(runtime.partition), epoch: runtime.epoch };
  try {
    await previous;
    // Nothing committed yet: no state of anyone is stored; the requests only need their answer.
    if (expected === null) for (const u of users) await eraseSpeedStateDirectly(commitRedis, keys, runtime.partition, u);
    else await fencedCommit(commitRedis, fence, expected, expected, speedErasureCommands(keys, runtime.partition, users, deps.segments?.ids() ?? []));
  } catch (err) {
    // The requests stay in Redis: the rebuilt partition erases them again.
    runtime.broken = true;
    if (err instanceof OffsetFenceError) metrics.fenced.inc();
    logger.warn({ partition: runtime.partition, err }, 'erasure commit failed; the partition reloads from Redis and the erasure runs again');
    return;
  }
  metrics.erasures.inc(users.length);
  logger.info({ partition: runtime.partition, people: users.length }, 'erased the speed state of deleted people');
}

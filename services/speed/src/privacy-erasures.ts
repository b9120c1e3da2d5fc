import type { RedisClient, StoreKeys } from '@sigflow/store';
import { eraseSpeedStateDirectly, readSpeedErasures, speedErasureCommands } from '@sigflow/store/ops';
import { TombstoneSet } from '@sigflow/privacy';
import type { Logger } from '@sigflow/observability';
import type { OwnedPartition } from './owned-partition.js';
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
  /** A direct write while a partition has nothing committed (no state of anyone is stored). */
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly metrics: SpeedMetrics;
  readonly logger: Logger;
  /** The segments in force: an erased person leaves their member sets too. */
  readonly segments?: { ids(): readonly string[] };
}

/**
 * Applies the erasures queued for owned partitions, at the start of a round: each person leaves
 * the cache and the pending messages at once, and the erasure joins the partition's commit
 * chain as a commit of its own (same offset): behind the commits already submitted, which may
 * still write the person's state, and ahead of every later one, which cannot. A partition whose
 * chain is broken keeps its erasures for the round after its rebuild; a failed erasure commit
 * breaks the chain, and the rebuilt partition erases again (the requests stay in Redis).
 */
export function applyErasures(deps: ErasureDeps, partitions: Iterable<OwnedPartition>): void {
  for (const { partition, cache, committer } of partitions) {
    if (committer.broken) continue;
    const users = deps.privacy.take(partition);
    if (users.length === 0) continue;
    const gone = new Set(users);
    for (const u of users) cache.users.delete(u);
    const before = cache.pending.messages.length;
    cache.pending.messages = cache.pending.messages.filter((m) => !gone.has(m.event.user_id));
    if (cache.pending.messages.length < before) deps.metrics.tombstonedEvents.inc(before - cache.pending.messages.length);
    const commands = speedErasureCommands(deps.keys, partition, users, deps.segments?.ids() ?? []);
    // Nothing committed yet: no state of anyone is stored; the requests only need their answer.
    const unfenced = async () => {
      for (const u of users) await eraseSpeedStateDirectly(deps.redis, deps.keys, partition, u);
    };
    void committer.submit({ commands, nextOffset: null, unfenced }).then((applied) => {
      if (!applied) return;
      deps.metrics.erasures.inc(users.length);
      deps.logger.info({ partition, people: users.length }, 'erased the speed state of deleted people');
    });
  }
}

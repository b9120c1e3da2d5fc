import type { RedisClient, StoreKeys } from '@sigflow/store';
import { fencedCommit, OffsetFenceError } from '@sigflow/store/speed-state';
import type { RedisCommand } from '@sigflow/store/views';
import type { Logger } from '@sigflow/observability';
import type { SpeedMetrics } from './speed-metrics.js';

/** What a partition's commits need: their own Redis connection, the keys, metrics and the log. */
export interface CommitterDeps {
  /** Without auto-pipelining: a round's reads must not wait behind the last round's commit. */
  readonly commitRedis: RedisClient;
  readonly keys: StoreKeys;
  readonly metrics: SpeedMetrics;
  readonly logger: Logger;
}

/** One commit of a partition: its writes, and the offset it moves to (null: it keeps the offset). */
export interface PartitionCommitRequest {
  readonly commands: readonly RedisCommand[];
  readonly nextOffset: number | null;
  /** Held until this resolves (the next round's reads go first). */
  readonly gate?: Promise<void>;
  /** Instead of a fenced commit while nothing is committed yet (an erasure: no state is stored). */
  readonly unfenced?: () => Promise<void>;
}

/**
 * The commit chain of one owned partition: the owner epoch it holds, the offset its next commit
 * expects in Redis, the commits in flight (one after another) and whether the chain broke. Every
 * write of the partition's state (the rounds, the erasures) is submitted here, fenced by offset
 * and epoch; a failed one breaks the chain, and the partition must be rebuilt from Redis.
 */
export class PartitionCommitter {
  /** The offset the next commit expects in Redis: the last submitted commit's next offset. */
  expectedOffset: string | null;
  /** Set when a commit failed: the partition's cache no longer matches Redis. */
  broken = false;
  private last: Promise<boolean> = Promise.resolve(true);

  constructor(
    readonly partition: number,
    /** The owner epoch this instance holds for the partition. */
    readonly epoch: string,
    storedOffset: string | null,
    private readonly deps: CommitterDeps,
  ) {
    this.expectedOffset = storedOffset;
  }

  /** Resolves once every commit submitted so far is answered (never rejects). */
  settled(): Promise<void> {
    return this.last.then(() => undefined);
  }

  /** Chains a commit behind the ones submitted; resolves true once applied, false when it failed (the chain broke). */
  submit(request: PartitionCommitRequest): Promise<boolean> {
    const expected = this.expectedOffset;
    const next = request.nextOffset === null ? expected : String(request.nextOffset);
    this.expectedOffset = next;
    const previous = this.last;
    this.last = this.write(previous, request, expected, next);
    return this.last;
  }

  private async write(previous: Promise<boolean>, request: PartitionCommitRequest, expected: string | null, next: string | null): Promise<boolean> {
    const { commitRedis, keys } = this.deps;
    const fence = { offsetKey: keys.speedOffset(this.partition), epochKey: keys.speedEpoch(this.partition), epoch: this.epoch };
    try {
      // Behind a failed commit the chain is broken: this one would fail its fence too.
      if (!(await previous)) return false;
      await request.gate;
      if (next === null) await request.unfenced?.();
      else await fencedCommit(commitRedis, fence, expected, next, request.commands);
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  private fail(err: unknown): void {
    const { metrics, logger } = this.deps;
    this.broken = true;
    if (err instanceof OffsetFenceError) metrics.fenced.inc();
    // A new owner's epoch is a handover (a rebalance): expected, and counted by the metric.
    if (err instanceof OffsetFenceError && err.ownerChanged) logger.info({ partition: this.partition, found: err.found }, 'partition taken over by another instance; its commit was fenced');
    else logger.warn({ partition: this.partition, err }, 'commit failed; the partition reloads from Redis');
  }
}

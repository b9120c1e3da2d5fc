import type { RedisClient, StoreKeys } from '@sigflow/store';
import { fencedOutboxTrim } from '@sigflow/store/speed-state';
import type { EventProducer } from '@sigflow/kafka';
import type { Logger } from '@sigflow/observability';

/** Messages produced per drain step. */
const DRAIN_CHUNK = 1_000;

/**
 * Publishes each owned partition's committed `analytics.v1` messages (the transactional
 * outbox), then removes them, only while this instance still holds the partition's owner epoch:
 * a previous owner (a zombie after a rebalance) can still publish, never trim what the new
 * owner has not published. So every message is published at least once; each carries its
 * conversion's event id for idempotent consumers.
 */
export class AnalyticsOutbox {
  private readonly running = new Map<number, Promise<void>>();
  private readonly again = new Set<number>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly producer: EventProducer,
    private readonly logger: Logger,
  ) {}

  /** Starts (or queues one more) drain of a partition's outbox; never two at once per partition. */
  drain(partition: number, epoch: string): void {
    if (this.running.has(partition)) {
      this.again.add(partition);
      return;
    }
    const run = this.drainAll(partition, epoch)
      .catch((err: unknown) => this.logger.warn({ err, partition }, 'analytics outbox drain failed; retried on the next commit'))
      .finally(() => {
        this.running.delete(partition);
        if (this.again.delete(partition)) this.drain(partition, epoch);
      });
    this.running.set(partition, run);
  }

  /** Resolves when no drain of the partition runs (before giving it up). */
  async settled(partition: number): Promise<void> {
    this.again.delete(partition);
    await this.running.get(partition);
  }

  private async drainAll(partition: number, epoch: string): Promise<void> {
    const key = this.keys.speedOutbox(partition);
    for (;;) {
      const entries = await this.redis.lrange(key, 0, DRAIN_CHUNK - 1);
      if (entries.length === 0) return;
      await this.producer.send(entries.map((e) => JSON.parse(e) as { key: string; value: string }));
      const owned = await fencedOutboxTrim(this.redis, this.keys.speedEpoch(partition), key, epoch, entries.length);
      if (!owned) {
        this.logger.info({ partition }, 'outbox now belongs to another owner; stopped draining');
        return;
      }
      if (entries.length < DRAIN_CHUNK) return;
    }
  }
}

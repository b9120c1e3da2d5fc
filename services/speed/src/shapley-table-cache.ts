import type { RedisClient, StoreKeys } from '@sigflow/store';
import { parseShapleyTable, type ShapleyTable } from '@sigflow/core';
import type { Logger } from '@sigflow/observability';

/**
 * The latest Shapley coalition table the batch layer published. The speed layer applies it
 * to every conversion and records its version; it polls the version key (cheap) and loads
 * the table only when the version changes. Until one is published, conversions use the
 * equal split over channels and say so (`shapley_version: null`, fallback `no_table`).
 */
export class ShapleyTableCache {
  private table: ShapleyTable | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly logger: Logger,
  ) {}

  current(): ShapleyTable | null {
    return this.table;
  }

  /** Loads the published table if its version differs from the one held. */
  async refresh(): Promise<void> {
    const version = await this.redis.get(this.keys.shapleyVersion());
    if (version === null || version === this.table?.version) return;
    const json = await this.redis.get(this.keys.shapleyTable());
    if (json === null) return;
    try {
      this.table = parseShapleyTable(JSON.parse(json));
      this.logger.info({ version: this.table.version }, 'Shapley table loaded');
    } catch (err) {
      // Keep applying the table we have: a bad publication must not stop attribution.
      this.logger.error({ err, version }, 'published Shapley table is invalid; keeping the previous one');
    }
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.logger.warn({ err }, 'Shapley table refresh failed'));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

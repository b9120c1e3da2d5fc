import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { SigflowConfig } from '@sigflow/config';
import type { StoreKeys } from '@sigflow/store';

/** What the route handlers share. */
export interface ApiContext {
  readonly config: SigflowConfig;
  /** Hot path (signals, profiles) and small reads. */
  readonly redis: Redis;
  /** Analyst reads with large replies (windowed views, reconciliation). */
  readonly analyticsRedis: Redis;
  readonly keys: StoreKeys;
  /** The batch layer's BullMQ queue. */
  readonly queue: Queue;
  readonly now: () => number;
  /** Reconciliation reads at most this many campaign-hours (two hashes each) per request. */
  readonly maxCampaignHours: number;
}

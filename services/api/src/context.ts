import type { RedisClient, StoreKeys } from '@sigflow/store';
import type { BiddingAnswerCache } from '@sigflow/store/bidding';
import type { ClosedHourReads } from '@sigflow/store/views';
import type { Queue } from 'bullmq';
import type { KafkaClient } from '@sigflow/kafka';
import type { SigflowConfig } from '@sigflow/config';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OpsRecorder } from '@sigflow/ops-log';
import type { ArchiveStorage } from '@sigflow/archive';

/** What the route handlers share. */
export interface ApiContext {
  readonly config: SigflowConfig;
  /** Hot path (signals, profiles) and small reads. */
  readonly redis: RedisClient;
  /** Analyst reads with large replies (windowed views, reconciliation). */
  readonly analyticsRedis: RedisClient;
  /** The view hashes of closed hours the analyst reads keep in this process (`api.closedHoursCached`). */
  readonly closedHours: ClosedHourReads;
  readonly keys: StoreKeys;
  /** Campaigns' bidding answers, kept in memory and invalidated by Redis (a bidder's read). */
  readonly biddingAnswers: BiddingAnswerCache;
  /** The batch layer's BullMQ queue. */
  readonly queue: Queue;
  readonly now: () => number;
  /** Reconciliation reads at most this many campaign-hours (two hashes each) per request. */
  readonly maxCampaignHours: number;
  /** Kafka admin client: a person's export waits for the archiver to catch up. None: it does not wait. */
  readonly kafka?: KafkaClient;
  /** Ops decisions and tombstones are appended here (the ops topic) once Redis has them, before the answer. */
  readonly ops: OpsRecorder;
  /**
   * The Parquet archive: the local folder, or the S3 bucket with this process's cache of copies
   * (a person's export, the reprocess preview).
   */
  readonly archive: ArchiveStorage;
}

/** A route group: a fastify plugin typed by its TypeBox schemas, given the shared context. */
export type RoutePlugin = FastifyPluginAsyncTypebox<{ ctx: ApiContext }>;
/** The fastify instance a route group registers on. */
export type RouteApp = Parameters<RoutePlugin>[0];

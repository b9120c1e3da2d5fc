import type { BiddingAnswerCache, ClosedHourReads, RedisClient, StoreKeys } from '@sigflow/store';
import type { Queue } from 'bullmq';
import type { Kafka } from 'kafkajs';
import type { SigflowConfig } from '@sigflow/config';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

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
  readonly kafka?: Kafka;
}

/** A route group: a fastify plugin typed by its TypeBox schemas, given the shared context. */
export type RoutePlugin = FastifyPluginAsyncTypebox<{ ctx: ApiContext }>;
/** The fastify instance a route group registers on. */
export type RouteApp = Parameters<RoutePlugin>[0];

import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { type RedisClient, createRedis, StoreKeys, deleteKeysWithPrefix, redisAnswers } from '@sigflow/store';
import { windowViewCommands, type WindowViewKeyspace } from '@sigflow/store/views';
import type { Queue } from 'bullmq';
import { openBatchQueue } from '@sigflow/batch-jobs';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { userPartition } from '@sigflow/events';
import type { AttributionDelta, ChannelSpend, HeatmapIncrement, PageActivityIncrement, ViewDeltas, WindowMetrics } from '@sigflow/core';
import { createLogger } from '@sigflow/observability';
import { waitForTrue } from '@sigflow/test-support';
import { buildApi, type ApiDeps } from '../src/index.js';
import { requestRedisOptions } from '../src/redis-connections.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const keysByRole = { reader: 'test-reader-key', analyst: 'test-analyst-key', ops: 'test-ops-key' } as const;

/** A config with its own Redis prefix and one key per role. */
export function testConfig(env: Record<string, string> = {}): SigflowConfig {
  return loadConfig({
    ...process.env,
    SIGFLOW_REDIS_PREFIX: `t-api-${randomUUID().slice(0, 8)}`,
    SIGFLOW_API_KEYS: Object.entries(keysByRole)
      .map(([role, key]) => `${key}:${role}`)
      .join(','),
    ...env,
  });
}

export interface TestApi {
  app: FastifyInstance;
  redis: RedisClient;
  queue: Queue;
  keys: StoreKeys;
  config: SigflowConfig;
  close(): Promise<void>;
}

/** The API over a real Redis; `close` also deletes every key of the config's prefix. */
export async function startTestApi(config: SigflowConfig, extra: Partial<ApiDeps> = {}): Promise<TestApi> {
  // The request connection as the server opens it (server.ts).
  const redis = createRedis(config.redis, requestRedisOptions(config));
  const queueRedis = createRedis(config.redis, { enableAutoPipelining: false, maxRetriesPerRequest: null });
  const queue = openBatchQueue(config, queueRedis);
  // As a deployment's readiness probe (`/readyz`) waits before traffic: a first request queued
  // behind the connection's opening on a saturated machine could otherwise meet the shipped
  // command timeout (`SIGFLOW_API_REDIS_TIMEOUT_MS`).
  await waitForTrue('the request connection to answer', () => redisAnswers(redis, 1_000), 30_000);
  const app = await buildApi({ config, redis, queue, logger: createLogger('api-test', 'silent'), ...extra });
  return {
    app,
    redis,
    queue,
    keys: new StoreKeys(config.redis.keyPrefix),
    config,
    async close() {
      await app.close();
      await queue.close();
      await deletePrefix(redis, config.redis.keyPrefix);
      redis.disconnect();
      queueRedis.disconnect();
    },
  };
}

export const deletePrefix = deleteKeysWithPrefix;

/** The key of a user's signals, in its Kafka partition's keyspace. */
export function signalsKey(api: { keys: StoreKeys; config: SigflowConfig }, userId: string): string {
  return api.keys.signals(userPartition(userId, api.config.kafka.eventPartitions), userId);
}

/** View deltas by hand (windowViewCommands reads only the windowed parts). */
export function deltas(parts: { windowMetrics?: WindowMetrics[]; spend?: ChannelSpend[]; attribution?: AttributionDelta[]; heatmap?: HeatmapIncrement[]; pageActivity?: PageActivityIncrement[] }): ViewDeltas {
  return {
    windowMetrics: parts.windowMetrics ?? [],
    spend: parts.spend ?? [],
    attribution: parts.attribution ?? [],
    heatmap: parts.heatmap ?? [],
    pageActivity: parts.pageActivity ?? [],
    invalidTraffic: [],
    eventCounts: [],
    counts: { events: 0, duplicates: 0, late: 0, invalid: 0 },
  };
}

/** Writes view deltas with the one writer both layers use. */
export async function writeViews(redis: RedisClient, space: WindowViewKeyspace, d: ViewDeltas): Promise<void> {
  const pipe = redis.pipeline();
  for (const [command, ...args] of windowViewCommands(space, d, 3_600)) pipe.call(command, ...args);
  const results = (await pipe.exec()) ?? [];
  for (const [err] of results) if (err) throw err;
}

/** Makes `version` the served batch version of `hour`. */
export async function setBatchHour(redis: RedisClient, keys: StoreKeys, hour: number, version: string, shapleyVersion: string | null = null): Promise<void> {
  await redis.hset(
    keys.batchHours(),
    String(hour),
    JSON.stringify({ version, computedAt: hour + 2 * HOUR, asOf: hour + 2 * HOUR, rows: 1, duplicates: 0, shapleyVersion, markovVersion: null, computedBy: 'test' }),
  );
}

/** Windows of one campaign and ad, each minute of [from, to) with the same counts. */
export function minuteMetrics(campaign: string, ad: string, from: number, to: number, counts: Partial<Omit<WindowMetrics, 'windowStart' | 'campaign_id' | 'ad_id'>>): WindowMetrics[] {
  const rows: WindowMetrics[] = [];
  for (let t = from; t < to; t += MIN) {
    rows.push({ windowStart: t, campaign_id: campaign, ad_id: ad, impressions: 0, clicks: 0, invalidImpressions: 0, invalidClicks: 0, ...counts });
  }
  return rows;
}

export function withKey(role: keyof typeof keysByRole | null): Record<string, string> {
  return role ? { 'x-api-key': keysByRole[role] } : {};
}

/** Listens on a free port and counts the requests that reach fastify (the fast paths answer without it). */
export async function listening(api: TestApi): Promise<{ base: string; reachedFastify: () => number }> {
  let reached = 0;
  api.app.addHook('onRequest', (_request, _reply, done) => {
    reached++;
    done();
  });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  return { base: `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`, reachedFastify: () => reached };
}

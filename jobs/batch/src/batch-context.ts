import path from 'node:path';
import { type RedisClient, StoreKeys } from '@sigflow/store';
import type { SigflowConfig } from '@sigflow/config';
import type { RuleSettings } from '@sigflow/core';
import { topicsFor } from '@sigflow/events';

/**
 * Everything a batch job works with. Its knobs are `config.batch` (defaults and variables in
 * `@sigflow/config`); a test that wants another value passes another configuration.
 */
export interface BatchContext {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  /** Archive root (absolute). */
  readonly root: string;
  /** The events topic (archive watermarks are per partition of it). */
  readonly topic: string;
  readonly settings: RuleSettings;
}

export function createBatchContext(config: SigflowConfig, redis: RedisClient): BatchContext {
  return {
    config,
    redis,
    keys: new StoreKeys(config.redis.keyPrefix),
    root: path.resolve(config.archiver.dir),
    topic: topicsFor(config.kafka.topicPrefix).events,
    settings: config.rules,
  };
}

/** A TTL in ms as the whole seconds Redis EXPIRE takes (at least 1). */
export function ttlSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

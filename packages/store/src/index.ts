// The store itself: the Redis client and its cluster-safe commands, the key layout, errors and
// key hygiene. Each domain has its own entry point: @sigflow/store/speed-state, /views, /batch,
// /segments-alerts, /bidding, /ops.
export {
  StoreKeys,
  field,
  fieldParts,
  FIELD_SEPARATOR,
  windowMetricFields,
  spendFields,
} from './store-keys.js';

export { createRedis, redisAnswers, isCluster, duplicateClient } from './redis-client.js';
export type { RedisClient } from './redis-client.js';
export { slotSafePipeline, scanKeys, unlinkKeys, getKeys } from './cluster-commands.js';

export { ReadLimitError } from './errors.js';
export { deleteKeysWithPrefix } from './key-cleanup.js';
export { keyBound } from './key-bounds.js';
export { DefinitionLimitError, StoreLayoutError } from './errors.js';


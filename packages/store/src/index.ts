export { StoreKeys, hourStart, field, fieldParts, FIELD_SEPARATOR, windowMetricFields } from './store-keys.js';
export { windowViewCommands } from './view-commands.js';
export type { RedisCommand, WindowViewKeyspace } from './view-commands.js';
export { fencedCommit, OffsetFenceError } from './fenced-commit.js';
export { createRedis } from './redis-client.js';

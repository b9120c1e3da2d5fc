import type { RedisClient } from '../redis-client.js';
import type { StoreKeys } from '../store-keys.js';

/** Records the events topic's partition count Kafka gave (`StoreKeys.eventPartitions`). */
export async function recordEventPartitions(redis: RedisClient, keys: StoreKeys, partitions: number): Promise<void> {
  await redis.set(keys.eventPartitions(), String(partitions));
}

/** The recorded partition count of the events topic, or null when none is (or it is not a count). */
export async function recordedEventPartitions(redis: RedisClient, keys: StoreKeys): Promise<number | null> {
  const stored = await redis.get(keys.eventPartitions());
  const count = Number(stored);
  return stored !== null && Number.isSafeInteger(count) && count > 0 ? count : null;
}

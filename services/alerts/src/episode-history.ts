import type { RedisClient, StoreKeys } from '@sigflow/store';
import { applyWithAlertsLease, deliveryId } from '@sigflow/store/segments-alerts';
import type { RedisCommand } from '@sigflow/store/views';

/**
 * Keeps the newest `keep` episodes: older ones leave the history with their deliveries, in one
 * leased step.
 */
export async function trimEpisodes(redis: RedisClient, keys: StoreKeys, holder: string, keep: number): Promise<void> {
  const excess = (await redis.zcard(keys.alertEpisodesByTime())) - keep;
  if (excess <= 0) return;
  const old = await redis.zrange(keys.alertEpisodesByTime(), 0, excess - 1);
  const commands: RedisCommand[] = [['ZREM', keys.alertEpisodesByTime(), ...old], ['HDEL', keys.alertEpisodes(), ...old], ['HDEL', keys.alertDeliveries(), ...old.flatMap((id) => [deliveryId(id, 'fired'), deliveryId(id, 'resolved')])]];
  await applyWithAlertsLease(redis, keys, holder, commands);
}

import type { RedisClient, StoreKeys } from '@sigflow/store';
import { readLayerHashes, speedPartitions, type RedisCommand } from '@sigflow/store/views';
import { compareCampaigns, reconciledModel, type RecordedComparison } from '@sigflow/serving';

/**
 * Compares one hour of one batch version with the speed views of the same hour, with the
 * serving reconciliation itself (`compareCampaigns` of `@sigflow/serving`: diff = speed - batch),
 * and returns the commands that (re)write `batchChanges(hour, version)`, one field per campaign
 * that either side has. The version need not be serving yet (it is compared while written).
 */
export async function hourChangeCommands(
  redis: RedisClient,
  keys: StoreKeys,
  hour: number,
  version: string,
  batchCampaigns: readonly string[],
  shapleyVersion: string | null,
  ttlSeconds: number,
  partitions: number,
): Promise<{ commands: RedisCommand[]; changes: RecordedComparison[] }> {
  const speedCampaigns = (await Promise.all(speedPartitions(partitions).map((p) => redis.smembers(keys.campaigns(p))))).flat();
  const campaigns = [...new Set([...batchCampaigns, ...speedCampaigns])].sort();
  const hashes = await readLayerHashes(redis, keys, { hour, partitions, version, campaigns, model: reconciledModel });
  const changes = [...compareCampaigns(hashes, true)].map(
    ([campaignId, comparison]): RecordedComparison => ({ campaignId, hourStart: hour, version, shapleyVersion, model: reconciledModel, ...comparison }),
  );
  const key = keys.batchChanges(hour, version);
  const commands: RedisCommand[] = [['DEL', key]];
  for (const c of changes) commands.push(['HSET', key, c.campaignId, JSON.stringify(c)]);
  if (changes.length > 0) commands.push(['EXPIRE', key, ttlSeconds]);
  return { commands, changes };
}

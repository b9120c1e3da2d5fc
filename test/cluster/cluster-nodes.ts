// The local Redis Cluster's nodes as the cluster suites kill and restart them.
import fs from 'node:fs';
import path from 'node:path';
import { isCluster, type RedisClient } from '@sigflow/store';
import { clusterDir, readClusterEnv } from '../../infra/cluster/up.mjs';
import { redisCli } from '../../infra/cluster/redis-cluster.mjs';

export const redisDir = path.join(clusterDir, 'redis');

export function clusterAuth(): { user: string; password: string } {
  const env = readClusterEnv();
  return { user: env['SIGFLOW_REDIS_USERNAME']!, password: env['SIGFLOW_REDIS_PASSWORD']! };
}

export function pidIn(file: string): number {
  return Number(fs.readFileSync(file, 'utf8').trim());
}

/** The port of the master serving a hash slot (from `CLUSTER SLOTS` of a live node). */
export async function masterOfSlot(redis: RedisClient, slot: number): Promise<number | undefined> {
  if (!isCluster(redis)) throw new Error('not a cluster client');
  for (const node of redis.nodes('master')) {
    try {
      const slots = (await node.cluster('SLOTS')) as unknown as [number, number, [string, number, ...unknown[]], ...unknown[]][];
      const range = slots.find(([from, to]) => slot >= from && slot <= to);
      if (range) return Number(range[2][1]);
    } catch {
      // a killed node: ask the next one
    }
  }
  return undefined;
}

/** The ports of the replicas of the master on `port` (from `CLUSTER NODES` of that master). */
export function replicasOf(port: number): number[] {
  const lines = redisCli(port, ['cluster', 'nodes'], clusterAuth()).trim().split('\n');
  const self = lines.find((l) => l.split(' ')[2]?.includes('myself'))?.split(' ')[0];
  return lines.filter((l) => l.split(' ')[3] === self).map((l) => Number(/:(\d+)@/.exec(l.split(' ')[1] ?? '')?.[1]));
}

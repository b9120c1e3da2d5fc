// `npm run test:cluster`: the Redis Cluster loses a master and its replica together (SIGKILL
// both, both restarted empty: no persistence), under traffic, with every service running as
// `npm start` runs it. The cluster serves again at once, but the slots of that master are
// empty: the speed partitions whose keys were there (the deleted person's among them), the ops
// decisions and the batch views' keys there. Judged as the single Redis's row (lib/redis-loss-run.ts): every view equals
// the truth, every decision is in force, the deleted person stays deleted.
import { afterAll, describe, expect, it } from 'vitest';
import { clusterInfo, redisClusterPorts, redisNodeLayout, startRedisNode } from '../../infra/cluster/redis-cluster.mjs';
import { partitionOf } from '@sigflow/kafka';
import { readStoreMarker } from '@sigflow/store/ops';
import type { Scenario } from '../support/scenario.js';
import { faultScenario, sleep, timeUntil } from '../reliability/faults/lib/fault-run.js';
import { redisLossRun, removeLeftovers, type RedisLossLeftovers } from '../reliability/faults/lib/redis-loss-run.js';
import { clusterAuth, masterOfSlot, pidIn, redisDir, replicasOf } from './cluster-nodes.js';

/** The master holding the deleted person's partition, and the guarded keys it holds (ops decisions, markers, partitions). */
async function masterOfPerson(s: Scenario, userId: string): Promise<{ port: number; keys: string[] }> {
  const slotOf = async (key: string) => Number(await s.redis.call('CLUSTER', 'KEYSLOT', key));
  const port = await masterOfSlot(s.redis, await slotOf(s.keys.speedOffset(partitionOf(userId, s.partitions.length))));
  if (port === undefined) throw new Error(`no master serves the partition of ${userId}`);
  const guarded = [s.keys.storeMarker(), ...s.keys.storeSlotMarkers(), ...s.partitions.map((p) => s.keys.speedOffset(p))];
  const held = await Promise.all(guarded.map(async (key) => ((await masterOfSlot(s.redis, await slotOf(key))) === port ? key : null)));
  return { port, keys: held.filter((k): k is string => k !== null) };
}

describe('cluster: a master and its replica lost together', () => {
  const left: RedisLossLeftovers = {};
  let restore: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await restore?.();
    await removeLeftovers(left);
  });

  it('both restarted empty under traffic: views, ops decisions and deletions come back', { timeout: 420_000 }, () =>
    faultScenario(
      'Redis Cluster lost a master and its replica (SIGKILL both, restarted empty)',
      async (row) => {
        let markerBefore: string | undefined;
        let scenario: Scenario | undefined;
        const lose = async (s: Scenario, deletedUser: string) => {
          scenario = s;
          markerBefore = (await readStoreMarker(s.redis, s.keys))?.id;
          const victim = await masterOfPerson(s, deletedUser);
          const replicas = replicasOf(victim.port);
          expect(replicas).toHaveLength(1);
          const nodes = [victim.port, ...replicas];
          restore = async () => {
            for (const port of nodes) await startRedisNode(redisDir, port, clusterAuth());
            await timeUntil('cluster state ok on every node', async () => redisClusterPorts.every((p) => clusterInfo(p, clusterAuth())?.cluster_state === 'ok'), 60_000, 250);
          };
          for (const port of nodes) process.kill(pidIn(redisNodeLayout(redisDir, port).pidFile), 'SIGKILL');
          await sleep(1_000);
          // The master first: it comes back as the master of its slots (its nodes.conf), empty.
          await restore();
          restore = undefined;
          return { killedMasterPort: victim.port, killedReplicaPorts: replicas, keysLost: victim.keys.map((k) => k.slice(k.indexOf(':') + 1)) };
        };
        await redisLossRun(row, { name: 'c-slots-loss', seed: 101, redisEnv: {}, lose, producer: { inFlight: 1, retries: 30, timeoutMs: 10_000 } }, left);
        // The services saw the loss: the store was marked again (under a new id).
        expect(markerBefore).toEqual(expect.any(String));
        expect((await readStoreMarker(scenario!.redis, scenario!.keys))?.id).not.toBe(markerBefore);
      },
      'cluster',
    ));
});

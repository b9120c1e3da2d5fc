// Redis without persistence killed (SIGKILL) and restarted empty under traffic, with every
// service running as `npm start` runs it (lib/redis-loss-run.ts says what is judged). The
// Redis Cluster's row, a master and its replica lost, is test/cluster/redis-slots-loss.test.ts.
import { afterAll, describe, it } from 'vitest';
import { faultScenario, sleep } from './lib/fault-run.js';
import { redisLossRun, removeLeftovers, type RedisLossLeftovers } from './lib/redis-loss-run.js';
import { OwnRedis } from './lib/servers.js';

describe('faults: Redis loses its data', () => {
  let redis: OwnRedis | undefined;
  const left: RedisLossLeftovers = {};
  afterAll(async () => {
    await removeLeftovers(left);
    await redis?.destroy();
  });

  it('killed and restarted empty under traffic: views, ops decisions and deletions come back', { timeout: 360_000 }, () =>
    faultScenario('Redis lost its data (no persistence, SIGKILL)', async (row) => {
      const own = await OwnRedis.start({ persistence: false });
      redis = own;
      const lose = async () => {
        await own.kill();
        await sleep(1_000);
        await own.start();
        return {};
      };
      await redisLossRun(row, { name: 'f-redis-loss', seed: 97, redisEnv: { SIGFLOW_REDIS_URL: own.url }, lose }, left);
    }));
});

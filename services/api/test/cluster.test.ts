import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkClusterLifecycle, childPids, waitForTrue } from '@sigflow/test-support';
import { createRedis, StoreKeys } from '@sigflow/store';
import { loadConfig } from '@sigflow/config';
import { userPartition } from '@sigflow/events';
import { freePort } from '../../../infra/lib/process.mjs';

// The built entry point, as `npm start` runs it (the package's test script builds first).
const entry = new URL('../dist/main.js', import.meta.url).pathname;

describe('API as a cluster of 2 processes', () => {
  const prefix = `t-api-cluster-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: prefix });
  const redis = createRedis(config.redis);
  const keys = new StoreKeys(prefix);
  let port: number;
  let primary: ChildProcess;
  let exited: Promise<number | null>;
  let output = '';

  /** Starts the API without configured keys: the primary generates one key for every worker. */
  const start = async () => {
    output = '';
    primary = spawn(process.execPath, [entry], {
      env: { ...process.env, SIGFLOW_REDIS_PREFIX: prefix, SIGFLOW_API_PORT: String(port), SIGFLOW_API_PROCESSES: '2', SIGFLOW_API_KEYS: '', SIGFLOW_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    primary.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => primary.once('exit', resolve));
    await waitForTrue('the API to log its generated key', () => /#key=([\w-]+)/.test(output), 30_000, 100);
  };
  const devKey = () => /#key=([\w-]+)/.exec(output)?.[1] as string;

  beforeAll(async () => {
    port = await freePort();
    const user = 'cluster-user';
    await redis.lpush(keys.signals(userPartition(user, config.kafka.eventPartitions), user), JSON.stringify({ event_id: 'e1', type: 'page_view', ts: 1, invalid: false, reason: null, late: false }));
    await start();
  }, 60_000);

  afterAll(async () => {
    if (primary.exitCode === null) primary.kill('SIGKILL');
    const found = await redis.keys(`${prefix}:*`);
    if (found.length > 0) await redis.del(...found);
    redis.disconnect();
  });

  it('serves every worker with the one generated key and answers /metrics with the sum over both', async () => {
    expect(childPids(primary.pid!)).toHaveLength(2);
    // 20 requests on fresh connections: the primary hands connections to both workers in turn.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        fetch(`http://127.0.0.1:${port}/v1/users/cluster-user/signals`, { headers: { 'x-api-key': devKey(), connection: 'close' } }).then(async (res) => ({
          status: res.status,
          count: ((await res.json()) as { count: number }).count,
        })),
      ),
    );
    expect(answers).toEqual(new Array(20).fill({ status: 200, count: 1 }));
    const refused = await fetch(`http://127.0.0.1:${port}/v1/users/cluster-user/signals`, { headers: { 'x-api-key': 'not-the-key', connection: 'close' } });
    expect(refused.status).toBe(401);
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } })).text();
      expect(text).toMatch(/^sigflow_api_request_seconds_count\{route="\/v1\/users\/:userId\/signals",method="GET",status="200",service="api"\} 20$/m);
    }
  });

  it('finishes and exits with its workers on SIGTERM, and its workers follow a primary killed with -9', async () => {
    await checkClusterLifecycle({ current: () => ({ primary, exited }), start, workers: 2 });
  }, 90_000);
});

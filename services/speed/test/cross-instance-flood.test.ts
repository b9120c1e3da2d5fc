import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userPartition, type SigflowEvent } from '@sigflow/events';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { createRedis, type RedisClient } from '@sigflow/store';
import { waitUntil } from '@sigflow/test-support';
import { SpeedLayer } from '../src/index.js';
import { startSpeedRun, type SpeedRun } from './helpers.js';

const T0 = Date.UTC(2026, 10, 28, 9, 0, 0);
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const IP = '203.0.113.77';

// The IP flood rule spans partitions: an instance reads what the partitions it does not own
// committed for a clicking IP (one MGET per partition). Two speed layers share a group here,
// one partition each; with a threshold of 3, three clicks from the IP in one partition make the
// IP's first click in the other a flood, which only that read can tell.
describe('the IP flood rule across speed instances', () => {
  let run: SpeedRun;
  let second: SpeedLayer;
  let secondRedis: RedisClient;
  const owned = async (registry: ReturnType<typeof createMetricsRegistry>) =>
    [...(await registry.getSingleMetricAsString('sigflow_speed_owned_partitions')).matchAll(/partition="(\d+)"[^}]*\} 1$/gm)].length;

  beforeAll(async () => {
    run = await startSpeedRun('xflood', { SIGFLOW_SPEED_INSTANCE_ID: 'xflood-a', SIGFLOW_RULE_FLOOD_THRESHOLD: '3' });
    const config = { ...run.config, speed: { ...run.config.speed, instanceId: 'xflood-b' } };
    secondRedis = createRedis(config.redis);
    const registry = createMetricsRegistry('speed');
    second = new SpeedLayer({ config, kafka: run.kafka, redis: secondRedis, logger: createLogger('speed-test-b', 'warn'), registry });
    await second.start();
    await waitUntil('one partition on each instance', async () => [await owned(run.registry), await owned(registry)], ([a, b]) => a === 1 && b === 1, 60_000);
  });
  afterAll(async () => {
    await second?.stop();
    secondRedis?.disconnect();
    await run?.close();
  });

  const userIn = (partition: number, tag: string) => Array.from({ length: 50 }, (_, i) => `xflood-${tag}-${i}`).find((u) => userPartition(u, 2) === partition) as string;
  const ad = { campaign_id: 'c-x', ad_id: 'a-x', channel: 'search', ip: IP, user_agent: UA } as const;
  const event = (n: number, type: 'impression' | 'click', user: string, ts: number): SigflowEvent => ({ event_id: `${run.id}-${n}`, type, user_id: user, ts, ...ad });
  const send = (events: SigflowEvent[]) => run.producer.send(events.map((e) => ({ key: e.user_id, value: JSON.stringify({ ...e, received_at: T0 + 3_600_000 }) })));
  const counter = async (partition: number, name: string) => Number((await run.redis.hget(run.keys.speedCounters(partition), name)) ?? 0);

  it("counts a click as a flood from the IP's clicks another instance committed", async () => {
    const [first, other] = [userIn(0, 'p0'), userIn(1, 'p1')];
    await send([event(1, 'impression', first, T0), ...[1, 2, 3].map((s) => event(10 + s, 'click', first, T0 + s * 1_000))]);
    await waitUntil('the first partition committed its clicks', () => counter(0, 'events'), (n) => n >= 4);
    expect(await counter(0, 'invalid:flood')).toBe(0);

    await send([event(2, 'impression', other, T0 + 3_500), event(20, 'click', other, T0 + 4_000), event(21, 'click', other, T0 + 70_000)]);
    await waitUntil('the second partition committed its events', () => counter(1, 'events'), (n) => n >= 3);
    // The click at 4 s follows 3 of the IP's clicks within 60 s (all in the other partition);
    // the one at 70 s follows only that one.
    expect(await counter(1, 'invalid:flood')).toBe(1);
  });
});

// `npm run jobs -- migrate` on what an earlier release left: a store whose decisions lived only
// in Redis (v0.1.0: no ops topic, no marker) and an events topic made with 3 partitions. The
// budget reaches the ops topic, the store is marked at this release's layout, the topic keeps its
// count; a second run changes nothing; a store written by a newer release is refused, unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, OpsTopic } from '@sigflow/kafka';
import { createRedis, StoreKeys, type RedisClient } from '@sigflow/store';
import { changeBudget } from '@sigflow/store/bidding';
import { readStoreMarker } from '@sigflow/store/ops';
import { runCli } from '../src/cli-commands.js';
import { endTestRun, testConfig, T0 } from './helpers.js';

const capture = () => {
  const lines: string[] = [];
  return { lines, out: { log: (l: string) => void lines.push(l), error: (l: string) => void lines.push(`ERR ${l}`), progress: () => undefined } };
};

describe('jobs migrate', () => {
  const run = testConfig('migrate', { SIGFLOW_EVENT_PARTITIONS: '' });
  const { config } = run;
  const keys = new StoreKeys(config.redis.keyPrefix);
  const kafka = createKafka(config.kafka);
  const topics = topicsFor(config.kafka.topicPrefix);
  let redis: RedisClient;
  beforeAll(async () => {
    redis = createRedis(config.redis);
    // The events topic as an earlier release made it (3 partitions, no ops topic yet), and a budget in Redis alone.
    await kafka.withAdmin((admin) => admin.createTopics({ topics: [topics.events], partitions: 3, replicas: 1 }));
    const by = { key: 'k-1', role: 'ops' };
    await changeBudget(redis, keys, 'c1', { dailyBudgetMicros: 5_000_000, timeZone: 'UTC', targetRoas: 1, updatedAt: T0, updatedBy: by }, { at: T0, by });
  });
  afterAll(async () => {
    await deleteTopics(kafka, Object.values(topics));
    await endTestRun({ ...run, redis });
  });

  it('moves what only Redis held into the ops topic, marks the store and keeps the topic’s partitions; again, it changes nothing', async () => {
    expect(config.kafka.eventPartitions).not.toBe(3);
    const first = capture();
    expect(await runCli(['migrate'], config, first.out)).toBe(0);
    expect(first.lines).toEqual([
      `topics: ${topics.events} has 3 partitions (kept; SIGFLOW_EVENT_PARTITIONS says ${config.kafka.eventPartitions} for a new topic)`,
      `store ${keys.storeMarker()}: not marked (a release before v0.2.0, or a new store) -> layout 2 (this release's: 2)`,
    ]);
    const topic = new OpsTopic(kafka, topics.ops);
    const records = await topic.readLatest();
    await topic.close();
    expect(records.filter((r) => r.kind === 'budget').map((r) => [r.id, (r.value as { dailyBudgetMicros: number }).dailyBudgetMicros])).toEqual([['c1', 5_000_000]]);
    expect(records.filter((r) => r.kind === 'budget-change')).toHaveLength(1);
    const marker = await readStoreMarker(redis, keys);

    const again = capture();
    expect(await runCli(['migrate'], config, again.out)).toBe(0);
    expect(again.lines[1]).toBe(`store ${keys.storeMarker()}: layout 2 -> layout 2 (this release's: 2)`);
    expect(await readStoreMarker(redis, keys)).toEqual(marker);
  });

  it('refuses a store written by a newer release, naming both layouts, and changes nothing', async () => {
    await redis.hset(keys.storeMarker(), { id: 'newer', layout: '9', at: '1' });
    const refused = capture();
    expect(await runCli(['migrate'], config, refused.out)).toBe(1);
    expect(refused.lines).toEqual([expect.stringMatching(/^ERR the store \(.*\) is in key layout 9, written by a newer release; this one reads layouts up to 2/)]);
    expect(await redis.hgetall(keys.storeMarker())).toEqual({ id: 'newer', layout: '9', at: '1' });
  });
});

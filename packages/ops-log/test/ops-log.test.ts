// The ops log against a real broker and Redis: a store whose decisions lived only in Redis seeds
// the topic once; a store that then loses everything gets every decision back exactly (budgets
// and their log, a segment with its id and version, an alert rule, a tombstone, the models),
// from whichever process saw the loss first, and every process runs its own hooks.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { topicsFor, type OpsRecord } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, OpsTopic } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { createRedis, StoreKeys, type RedisClient } from '@sigflow/store';
import { readShapleyTable } from '@sigflow/store/batch';
import { changeBudget, readBudget, readBudgetChanges } from '@sigflow/store/bidding';
import { readStoreMarker, recordTombstone } from '@sigflow/store/ops';
import { putAlertRule, putSegmentDefinition, readAlertRule, readSegmentDefinition, readSegmentsVersion, type StoredAlertRule } from '@sigflow/store/segments-alerts';
import { OpsLog } from '../src/index.js';

const T = Date.UTC(2026, 10, 20, 12);
const by = { key: 'k-1', role: 'ops' };

describe('ops log (real Kafka and Redis)', () => {
  const prefix = `t-opslog-${randomUUID().slice(0, 8)}`;
  const config = loadConfig({ ...process.env, SIGFLOW_REDIS_PREFIX: prefix, SIGFLOW_TOPIC_PREFIX: `${prefix}-` });
  const keys = new StoreKeys(prefix);
  const kafka = createKafka(config.kafka);
  const logger = createLogger('ops-log-test', 'silent');
  let redis: RedisClient;
  const logs: OpsLog[] = [];
  const open = (hook?: (records: readonly OpsRecord[]) => Promise<void>) => {
    const log = new OpsLog({ config, redis, logger, checkEveryMs: 60_000, ...(hook ? { onStoreLoss: [hook] } : {}) });
    logs.push(log);
    return log;
  };
  const lose = async () => {
    const found = await redis.keys(`${prefix}:*`);
    if (found.length > 0) await redis.del(...found);
  };
  const rule: StoredAlertRule = {
    name: 'ctr-drop',
    metric: 'ctr',
    condition: { op: 'drop_pct', threshold: 50 },
    for: 3,
    description: 'CTR halves',
    webhook: { url: 'https://hooks.example/alerts', secret: 's3cret' },
    createdAt: T,
    updatedAt: T,
  } as StoredAlertRule;

  beforeAll(async () => {
    redis = createRedis(config.redis);
    await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), { eventPartitions: 1 });
    // What a deployment decided before the ops topic existed: in Redis alone.
    await changeBudget(redis, keys, 'c1', { dailyBudgetMicros: 5_000_000, timeZone: 'UTC', targetRoas: 1, updatedAt: T, updatedBy: by }, { at: T, by });
    await changeBudget(redis, keys, 'c1', { dailyBudgetMicros: 7_000_000, timeZone: 'Europe/Berlin', targetRoas: 2, updatedAt: T + 1, updatedBy: by }, { at: T + 1, by });
    await putSegmentDefinition(redis, keys, { name: 'engaged', rule: { all: [{ feature: 'engagement_score', op: '>=', value: 3 }] }, description: 'd', now: T, newId: 'seg-1', max: 10 });
    await putSegmentDefinition(redis, keys, { name: 'engaged', rule: { all: [{ feature: 'engagement_score', op: '>=', value: 4 }] }, description: 'd2', now: T + 5, newId: 'seg-unused', max: 10 });
    await putAlertRule(redis, keys, rule, 10);
    await recordTombstone(redis, keys, 'hash-of-a-person', Date.now() - 1_000, config.limits.retentionMs);
    await redis.set(keys.shapleyTable(), JSON.stringify({ version: 's1', values: { search: 0.5 } }));
  });
  afterAll(async () => {
    for (const log of logs) await log.close();
    await lose();
    redis.disconnect();
    await deleteTopics(kafka, Object.values(topicsFor(config.kafka.topicPrefix)));
  });

  it('restores exactly what the store lost, once, from the topic the first check seeded', async () => {
    const before = {
      budget: await readBudget(redis, keys, 'c1'),
      changes: await readBudgetChanges(redis, keys, 'c1', 10),
      segment: await readSegmentDefinition(redis, keys, 'engaged'),
      rule: await readAlertRule(redis, keys, 'ctr-drop'),
      shapley: await readShapleyTable(redis, keys),
    };
    expect(before.changes).toHaveLength(2);
    expect(before.segment).toMatchObject({ id: 'seg-1', version: 2 });

    const hooks: number[] = [];
    const first = open(async (records) => void hooks.push(records.length));
    expect(await first.checkStore()).toBe(true); // no marker yet: it seeds the topic and marks the store
    const marker = await readStoreMarker(redis, keys);
    expect(marker?.id).toEqual(expect.any(String));
    expect(await first.checkStore()).toBe(false);

    await lose();
    const second = open(async (records) => void hooks.push(-records.length));
    // Both notice at once; one restores under the lease, the other waits for it.
    expect(await Promise.all([first.checkStore(), second.checkStore()])).toEqual([true, true]);
    expect((await readStoreMarker(redis, keys))?.id).not.toBe(marker?.id);
    expect(await readBudget(redis, keys, 'c1')).toEqual(before.budget);
    expect(await readBudgetChanges(redis, keys, 'c1', 10)).toEqual(before.changes);
    expect(await readSegmentDefinition(redis, keys, 'engaged')).toEqual(before.segment);
    expect(await readSegmentsVersion(redis, keys)).toBeGreaterThan(0);
    expect(await readAlertRule(redis, keys, 'ctr-drop')).toEqual(before.rule);
    expect(await readShapleyTable(redis, keys)).toEqual(before.shapley);
    expect(await redis.zscore(keys.tombstones(), 'hash-of-a-person')).not.toBeNull();
    // The seeded records: 1 budget, 2 log entries, 1 segment, 1 rule, 1 model, 1 tombstone.
    expect(hooks.sort()).toEqual([-7, 7, 7].sort());
  });

  it('records a change before it is read back, and never overwrites what Redis holds', async () => {
    const log = open();
    await log.record([{ kind: 'alert-rule', id: 'ctr-drop', at: T + 9, value: { ...rule, description: 'newer' } }]);
    // Redis has the rule: a check that finds the store whole writes nothing.
    expect(await log.checkStore()).toBe(false);
    expect((await readAlertRule(redis, keys, 'ctr-drop'))?.description).toBe('CTR halves');
    await lose();
    expect(await log.checkStore()).toBe(true);
    expect((await readAlertRule(redis, keys, 'ctr-drop'))?.description).toBe('newer');
  });

  it('a loss of one slot (a cluster master lost with its replica) is a loss: its decisions come back, every process sees it', async () => {
    const first = open();
    const hooks: number[] = [];
    const other = open(async (records) => void hooks.push(records.length));
    expect([await first.checkStore(), await other.checkStore()]).toEqual([false, false]);
    const before = { budget: await readBudget(redis, keys, 'c1'), changes: await readBudgetChanges(redis, keys, 'c1', 10) };
    expect(before.budget?.dailyBudgetMicros).toBe(7_000_000);
    const marker = await readStoreMarker(redis, keys);
    // Every key of the {budget} slot, its copy of the marker among them; nothing else.
    const slot = await redis.keys(`${prefix}:{budget}:*`);
    expect(slot).toContain(`${prefix}:{budget}:meta:store`);
    await redis.del(...slot);
    expect(await first.checkStore()).toBe(true);
    expect(await other.checkStore()).toBe(true);
    expect(hooks).toHaveLength(1);
    expect((await readStoreMarker(redis, keys))?.id).not.toBe(marker?.id);
    expect(await readBudget(redis, keys, 'c1')).toEqual(before.budget);
    expect(await readBudgetChanges(redis, keys, 'c1', 10)).toEqual(before.changes);
  });

  it('a migration stopped before its marker: what only Redis holds reaches the topic, nothing twice', async () => {
    // A rule only Redis holds (as a release before the ops topic wrote it), and no marker yet.
    await putAlertRule(redis, keys, { ...rule, name: 'ctr-drop-2', createdAt: T + 20, updatedAt: T + 20 } as StoredAlertRule, 10);
    await redis.del(keys.storeMarker(), ...keys.storeSlotMarkers());
    expect(await open().checkStore()).toBe(true);
    expect((await readStoreMarker(redis, keys))?.layout).toBe(2);
    const topic = new OpsTopic(kafka, topicsFor(config.kafka.topicPrefix).ops);
    const latest = await topic.readLatest();
    await topic.close();
    expect(latest.filter((r) => r.kind === 'alert-rule').map((r) => r.id).sort()).toEqual(['ctr-drop', 'ctr-drop-2']);
    // The budget's two log entries, once each, though their keys are drawn anew from Redis's log.
    expect(latest.filter((r) => r.kind === 'budget-change').map((r) => r.at).sort()).toEqual([T, T + 1]);
  });

  it('a store marked before the copies existed (layout 1) gets them and is not taken for a loss; a copy lost after is', async () => {
    await lose();
    await redis.hset(keys.storeMarker(), { id: 'marked-at-layout-1', layout: '1', at: '1' });
    const hooks: number[] = [];
    const log = open(async () => void hooks.push(1));
    expect(await log.checkStore()).toBe(false);
    expect(hooks).toEqual([]);
    expect(await readStoreMarker(redis, keys)).toEqual({ id: 'marked-at-layout-1', layout: 2, at: 1 });
    const copies = keys.storeSlotMarkers();
    // One copy in each slot of the budgets, segments, alert rules, models, batch switch, tombstones and batch queue.
    expect(copies).toHaveLength(7);
    expect(await Promise.all(copies.map((k) => redis.get(k)))).toEqual(copies.map(() => 'marked-at-layout-1'));
    await redis.del(keys.storeMarker().replace(':meta:store', ':meta:store:{' + keys.tombstones() + '}'));
    expect(await log.checkStore()).toBe(true);
    expect(hooks).toEqual([1]);
  });

  it('refuses to start against a store in a key layout this release does not know, and changes nothing', async () => {
    await lose();
    await redis.hset(keys.storeMarker(), { id: 'from-a-newer-release', layout: '99', at: '1' });
    const hooks: number[] = [];
    const log = open(async () => void hooks.push(1));
    await expect(log.watch()).rejects.toThrow(/key layout 99, written by a newer release; this one reads layouts up to 2/);
    expect(hooks).toEqual([]);
    expect(await redis.hgetall(keys.storeMarker())).toEqual({ id: 'from-a-newer-release', layout: '99', at: '1' });
    expect(await Promise.all(keys.storeSlotMarkers().map((k) => redis.exists(k)))).toEqual(keys.storeSlotMarkers().map(() => 0));
  });
});

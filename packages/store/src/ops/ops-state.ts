import { randomUUID } from 'node:crypto';
import type { OpsRecord } from '@sigflow/events';
import type { SegmentDefinition } from '@sigflow/core';
import type { RedisClient } from '../redis-client.js';
import type { StoreKeys } from '../store-keys.js';
import { budgetChangesKept, parseStoredBudget, type BudgetChange, type KeyIdentity, type StoredBudget } from '../bidding/budgets.js';
import { readSegmentDefinitions } from '../segments-alerts/segment-definitions.js';
import { readAlertRules, type StoredAlertRule } from '../segments-alerts/alert-store.js';
import { readMarkovModel, readShapleyTable, type PublishedMarkovModel, type PublishedShapleyTable } from '../batch/batch-views.js';
import { slotSafePipeline } from '../cluster-commands.js';
import { execAll } from '../pipeline-replies.js';

// ---- the records of each decision, as its writer appends them to the ops topic ----

/** A campaign's budget set (null: removed) and the change-log entry of that change. */
export function budgetRecords(campaignId: string, before: StoredBudget | null, after: StoredBudget | null, change: { at: number; by: KeyIdentity }): OpsRecord[] {
  const entry = { campaignId, at: change.at, by: change.by, before, after };
  return [
    { kind: 'budget', id: campaignId, at: change.at, value: after },
    { kind: 'budget-change', id: `${campaignId}:${change.at}:${randomUUID().slice(0, 8)}`, at: change.at, value: entry },
  ];
}

/** A segment's definition as stored (null: removed). */
export function segmentRecord(name: string, definition: SegmentDefinition | null, at: number): OpsRecord {
  return { kind: 'segment', id: name, at, value: definition };
}

/** An alert rule (null: removed). */
export function alertRuleRecord(name: string, rule: StoredAlertRule | null, at: number): OpsRecord {
  return { kind: 'alert-rule', id: name, at, value: rule };
}

/** A published attribution model. */
export function modelRecord(model: 'shapley' | 'markov', published: PublishedShapleyTable | PublishedMarkovModel, at: number): OpsRecord {
  return { kind: 'model', id: model, at, value: published };
}

/** A person's deletion: the salted hash of the id, never the id. */
export function tombstoneRecord(hash: string, at: number): OpsRecord {
  return { kind: 'tombstone', id: hash, at, value: { at } };
}

// ---- a store that lost its data: what is restored, only where it is missing ----

/** Counts of what {@link applyOpsRecords} wrote, by kind. */
export type AppliedOps = Partial<Record<OpsRecord['kind'], number>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Writes the decisions of `records` (the latest of each key) that Redis lacks: budgets, each
 * campaign's change log (when the campaign has none), segment definitions (with their ids and
 * versions, moving the definitions' version so caches reload), alert rules, published models,
 * and tombstones within the retention. What Redis holds is never overwritten: a record is only
 * ever older than or equal to Redis's copy, whose writer appended it first. Schedules are the
 * batch queue's (`@sigflow/batch-jobs`). Returns what it wrote.
 */
export async function applyOpsRecords(redis: RedisClient, keys: StoreKeys, records: readonly OpsRecord[], options: { now: number; retentionMs: number }): Promise<AppliedOps> {
  const pipe = slotSafePipeline(redis);
  // What each queued command restores when it writes (null: not counted).
  const counted: (OpsRecord['kind'] | null)[] = [];
  const queue = (kind: OpsRecord['kind'] | null, add: () => void) => {
    add();
    counted.push(kind);
  };
  const changes = new Map<string, Record<string, unknown>[]>();
  for (const r of records) {
    const v = r.value;
    if (v === null) continue;
    if (r.kind === 'budget' && parseStoredBudget(JSON.stringify(v))) queue('budget', () => pipe.hsetnx(keys.budgets(), r.id, JSON.stringify(v)));
    else if (r.kind === 'alert-rule' && isObject(v)) queue('alert-rule', () => pipe.hsetnx(keys.alertRules(), r.id, JSON.stringify(v)));
    else if (r.kind === 'tombstone' && r.at >= options.now - options.retentionMs) queue('tombstone', () => pipe.zadd(keys.tombstones(), 'NX', r.at, r.id));
    else if (r.kind === 'model' && isObject(v) && typeof v['version'] === 'string') {
      if (r.id === 'shapley') {
        queue('model', () => pipe.set(keys.shapleyTable(), JSON.stringify(v), 'NX'));
        queue(null, () => pipe.set(keys.shapleyVersion(), String(v['version']), 'NX'));
      } else if (r.id === 'markov') queue('model', () => pipe.set(keys.markovModel(), JSON.stringify(v), 'NX'));
    } else if (r.kind === 'budget-change' && isObject(v) && typeof v['campaignId'] === 'string') {
      const list = changes.get(v['campaignId']) ?? [];
      list.push(v);
      changes.set(v['campaignId'], list);
    }
  }
  const applied: AppliedOps = {};
  const count = (kind: OpsRecord['kind'], n: number) => {
    if (n > 0) applied[kind] = (applied[kind] ?? 0) + n;
  };
  const replies = counted.length > 0 ? await execAll(pipe) : [];
  counted.forEach((kind, i) => {
    // HSETNX and ZADD NX answer 1 when they wrote, SET NX 'OK'.
    if (kind !== null && (replies[i] === 1 || replies[i] === 'OK')) count(kind, 1);
  });
  count('budget-change', await restoreBudgetLogs(redis, keys, changes));
  count('segment', await restoreSegments(redis, keys, records.filter((r) => r.kind === 'segment' && r.value !== null)));
  return applied;
}

/** Each campaign's change log that Redis lacks, rebuilt from its records, newest first and capped. */
async function restoreBudgetLogs(redis: RedisClient, keys: StoreKeys, changes: Map<string, Record<string, unknown>[]>): Promise<number> {
  let restored = 0;
  for (const [campaignId, entries] of changes) {
    const key = keys.budgetChanges(campaignId);
    if ((await redis.exists(key)) === 1) continue;
    const newestFirst = entries.sort((a, b) => Number(b['at']) - Number(a['at'])).slice(0, budgetChangesKept);
    await redis.rpush(key, ...newestFirst.map(({ at, by, before, after }) => JSON.stringify({ before, at, by, after })));
    restored += newestFirst.length;
  }
  return restored;
}

/** Segment definitions Redis lacks, with their ids, versions and creation times; the version moves once. */
async function restoreSegments(redis: RedisClient, keys: StoreKeys, records: readonly OpsRecord[]): Promise<number> {
  let restored = 0;
  for (const r of records) {
    const d = r.value as Partial<SegmentDefinition>;
    if (typeof d.id !== 'string' || typeof d.version !== 'number' || typeof d.createdAt !== 'number') continue;
    const meta = `${d.id}\t${d.version}\t${d.createdAt}`;
    if ((await redis.hsetnx(keys.segmentMeta(), r.id, meta)) === 0) continue;
    await redis.hset(keys.segmentDefinitions(), r.id, JSON.stringify({ rule: d.rule, description: d.description ?? '', updatedAt: d.updatedAt ?? r.at }));
    restored++;
  }
  if (restored > 0) await redis.incr(keys.segmentsVersion());
  return restored;
}

/**
 * The decisions Redis holds now, as records: what a deployment that kept its decisions only in
 * Redis appends to the ops topic once (the topic is empty), so that a later loss loses nothing.
 */
export async function opsRecordsOfStore(redis: RedisClient, keys: StoreKeys, now: number): Promise<OpsRecord[]> {
  const records: OpsRecord[] = [];
  for (const [campaignId, json] of Object.entries(await redis.hgetall(keys.budgets()))) {
    const budget = parseStoredBudget(json);
    if (budget) records.push({ kind: 'budget', id: campaignId, at: budget.updatedAt, value: budget });
    for (const entry of (await redis.lrange(keys.budgetChanges(campaignId), 0, -1)).reverse()) {
      const change = JSON.parse(entry) as BudgetChange;
      records.push({ kind: 'budget-change', id: `${campaignId}:${change.at}:${randomUUID().slice(0, 8)}`, at: change.at, value: { campaignId, ...change } });
    }
  }
  for (const d of (await readSegmentDefinitions(redis, keys)).definitions) records.push(segmentRecord(d.name, d, d.updatedAt));
  for (const rule of await readAlertRules(redis, keys)) records.push(alertRuleRecord(rule.name, rule, rule.updatedAt));
  const shapley = await readShapleyTable(redis, keys);
  if (shapley) records.push(modelRecord('shapley', shapley, shapley.trainedAt ?? now));
  const markov = await readMarkovModel(redis, keys);
  if (markov) records.push(modelRecord('markov', markov, markov.to));
  const flat = await redis.zrange(keys.tombstones(), 0, -1, 'WITHSCORES');
  for (let i = 0; i + 1 < flat.length; i += 2) records.push(tombstoneRecord(flat[i] as string, Number(flat[i + 1])));
  return records;
}

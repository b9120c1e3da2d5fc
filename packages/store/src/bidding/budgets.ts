import type { RedisClient } from '../redis-client.js';
import { budgetProblem, type Budget } from '@sigflow/core';
import { LuaScript } from '../lua-script.js';
import type { StoreKeys } from '../store-keys.js';

/** Who made a change: the key named by a digest of it (never the secret) and its role. */
export interface KeyIdentity {
  readonly key: string;
  readonly role: string;
}

/** A campaign's budget as stored: the budget, and when and by whom it was last set. */
export interface StoredBudget extends Budget {
  readonly updatedAt: number;
  readonly updatedBy: KeyIdentity;
}

/** One entry of a campaign's budget log: the budget before and after (null: none), when, by whom. */
export interface BudgetChange {
  readonly at: number;
  readonly by: KeyIdentity;
  readonly before: StoredBudget | null;
  readonly after: StoredBudget | null;
}

/** Budget changes kept per campaign (the newest). */
export const budgetChangesKept = 1_000;

/** Parses a stored budget; null for a missing or unusable one (a budget core refuses is not served). */
export function parseStoredBudget(json: string | null | undefined): StoredBudget | null {
  if (!json) return null;
  try {
    const v = JSON.parse(json) as Partial<StoredBudget>;
    const budget = { dailyBudgetMicros: v.dailyBudgetMicros as number, timeZone: v.timeZone as string, targetRoas: v.targetRoas as number };
    if (budgetProblem(budget) !== null || typeof v.updatedAt !== 'number') return null;
    const by = v.updatedBy ?? { key: '', role: '' };
    return { ...budget, updatedAt: v.updatedAt, updatedBy: { key: String(by.key), role: String(by.role) } };
  } catch {
    return null;
  }
}

/**
 * Sets (ARGV[2] a budget's JSON) or removes (ARGV[2] = '') one campaign's budget and logs the
 * change with the budget it replaced, in one atomic step. KEYS = budgets, the campaign's log;
 * ARGV = campaign id, budget JSON or '', the change without `before` (a JSON object), entries kept.
 * Returns the replaced budget's JSON, or false.
 */
const changeScript = new LuaScript(`
local before = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
redis.call('LPUSH', KEYS[2], '{"before":' .. (before or 'null') .. ',' .. string.sub(ARGV[3], 2))
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return before or false
`);

/**
 * Sets a campaign's budget (null: removes it) and logs the change, atomically; returns the budget
 * it replaced (null: none).
 */
export async function changeBudget(redis: RedisClient, keys: StoreKeys, campaignId: string, budget: StoredBudget | null, change: { at: number; by: KeyIdentity }): Promise<StoredBudget | null> {
  const entry = JSON.stringify({ at: change.at, by: change.by, after: budget });
  const before = await changeScript.run(redis, [keys.budgets(), keys.budgetChanges(campaignId)], [
    campaignId,
    budget === null ? '' : JSON.stringify(budget),
    entry,
    budgetChangesKept,
  ]);
  return typeof before === 'string' ? parseStoredBudget(before) : null;
}

/** A campaign's budget, null when it has none. */
export async function readBudget(redis: RedisClient, keys: StoreKeys, campaignId: string): Promise<StoredBudget | null> {
  return parseStoredBudget(await redis.hget(keys.budgets(), campaignId));
}

/** Every campaign's budget (unusable entries left out). */
export async function readBudgets(redis: RedisClient, keys: StoreKeys): Promise<Map<string, StoredBudget>> {
  const all = await redis.hgetall(keys.budgets());
  const budgets = new Map<string, StoredBudget>();
  for (const [campaignId, json] of Object.entries(all)) {
    const budget = parseStoredBudget(json);
    if (budget) budgets.set(campaignId, budget);
  }
  return budgets;
}

/** A campaign's budget changes, newest first, at most `limit`. */
export async function readBudgetChanges(redis: RedisClient, keys: StoreKeys, campaignId: string, limit: number): Promise<BudgetChange[]> {
  const entries = await redis.lrange(keys.budgetChanges(campaignId), 0, limit - 1);
  const changes: BudgetChange[] = [];
  for (const json of entries) {
    try {
      const v = JSON.parse(json) as { at: number; by: KeyIdentity; before: unknown; after: unknown };
      changes.push({ at: v.at, by: v.by, before: parseStoredBudget(JSON.stringify(v.before)), after: parseStoredBudget(JSON.stringify(v.after)) });
    } catch {
      // An entry that is not JSON is skipped (nothing writes one).
    }
  }
  return changes;
}

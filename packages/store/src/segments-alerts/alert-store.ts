import type { RedisClient } from '../redis-client.js';
import type { AlertRule, AlertSeriesState } from '@sigflow/core';
import { DefinitionLimitError } from '../errors.js';
import { holdLease, releaseLease } from '../lease.js';
import { LuaScript } from '../lua-script.js';
import { field, type StoreKeys } from '../store-keys.js';
import type { RedisCommand } from '../views/view-commands.js';

/** Where an alert rule's episodes are delivered. */
export interface AlertWebhook {
  readonly url: string;
  /** Key of the HMAC-SHA256 signature of each delivery (never served back). */
  readonly secret: string;
}

/** An alert rule as stored. */
export interface StoredAlertRule extends AlertRule {
  readonly name: string;
  readonly description: string;
  readonly webhook: AlertWebhook;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One delivery of an episode's firing or resolution to the rule's webhook. */
export interface AlertDelivery {
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastError: string | null;
  /** Wall clock of the successful attempt, or of the last one when failed. */
  readonly at: number | null;
  /** HTTP status of the last answer (null: none, e.g. a timeout). */
  readonly status: number | null;
}

/** An alert episode: fired once at a window close, resolved once. */
export interface AlertEpisode {
  readonly id: string;
  readonly rule: string;
  readonly campaign: string;
  readonly metric: AlertRule['metric'];
  readonly condition: AlertRule['condition'];
  readonly for: number;
  readonly state: 'firing' | 'resolved';
  /** Start of the window that made it fire, its value and the trailing hour's. */
  readonly firedWindow: number;
  readonly firedValue: number | null;
  readonly firedTrailing: number | null;
  /** Wall clock when it fired. */
  readonly firedAt: number;
  readonly resolvedWindow: number | null;
  readonly resolvedValue: number | null;
  readonly resolvedAt: number | null;
}

/** The kinds of deliveries of an episode. */
export type DeliveryKind = 'fired' | 'resolved';

/** Sets a rule, refusing a new one beyond ARGV[3]. KEYS = rules; ARGV = name, JSON, max. */
const putScript = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
`);

/** Removes a rule and its series. KEYS = rules, series; ARGV = name. */
const deleteScript = new LuaScript(`
local n = redis.call('HDEL', KEYS[1], ARGV[1])
local prefix = ARGV[1] .. '\\t'
for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(f, 1, #prefix) == prefix then redis.call('HDEL', KEYS[2], f) end
end
return n
`);

/** Creates or replaces a rule; true when it is new. Throws {@link DefinitionLimitError} beyond `max` rules. */
export async function putAlertRule(redis: RedisClient, keys: StoreKeys, rule: StoredAlertRule, max: number): Promise<boolean> {
  const n = Number(await putScript.run(redis, [keys.alertRules()], [rule.name, JSON.stringify(rule), max]));
  if (n < 0) throw new DefinitionLimitError(`at most ${max} alert rules may be defined (SIGFLOW_ALERTS_MAX_RULES)`);
  return n === 1;
}

/** Removes a rule (and where its series stood); false when there was none. */
export async function deleteAlertRule(redis: RedisClient, keys: StoreKeys, name: string): Promise<boolean> {
  return Number(await deleteScript.run(redis, [keys.alertRules(), keys.alertSeries()], [name])) > 0;
}

/** Every rule, by name. */
export async function readAlertRules(redis: RedisClient, keys: StoreKeys): Promise<StoredAlertRule[]> {
  const all = await redis.hgetall(keys.alertRules());
  return Object.keys(all)
    .sort()
    .map((name) => JSON.parse(all[name] as string) as StoredAlertRule);
}

/** One rule, or null. */
export async function readAlertRule(redis: RedisClient, keys: StoreKeys, name: string): Promise<StoredAlertRule | null> {
  const json = await redis.hget(keys.alertRules(), name);
  return json ? (JSON.parse(json) as StoredAlertRule) : null;
}

/** The field of a series in {@link StoreKeys.alertSeries}. */
export function alertSeriesField(rule: string, campaign: string): string {
  return field(rule, campaign);
}

/** A series as stored: its state and the id of its open episode. */
export interface StoredAlertSeries extends AlertSeriesState {
  readonly episode: string | null;
}

/** Every series' state, by `${rule}\t${campaign}`, and the last window evaluated (null: none yet). */
export async function readAlertEvaluation(redis: RedisClient, keys: StoreKeys): Promise<{ series: Map<string, StoredAlertSeries>; evaluated: number | null }> {
  const [series, evaluated] = await Promise.all([redis.hgetall(keys.alertSeries()), redis.get(keys.alertsEvaluated())]);
  return { series: new Map(Object.entries(series).map(([f, v]) => [f, JSON.parse(v) as StoredAlertSeries])), evaluated: evaluated === null ? null : Number(evaluated) };
}

/** The id of an episode's delivery (a BullMQ job id too). */
export function deliveryId(episodeId: string, kind: DeliveryKind): string {
  return `${episodeId}-${kind}`;
}

/** Takes or renews the alerts evaluation lease; true when `holder` holds it. */
export async function holdAlertsLease(redis: RedisClient, keys: StoreKeys, holder: string, ms: number): Promise<boolean> {
  return holdLease(redis, keys.alertsLease(), holder, ms);
}

/** Gives the alerts evaluation lease up if `holder` holds it. */
export async function releaseAlertsLease(redis: RedisClient, keys: StoreKeys, holder: string): Promise<void> {
  await releaseLease(redis, keys.alertsLease(), holder);
}

/**
 * Applies commands only while `holder` holds the lease. KEYS[1] = lease, then the commands'
 * keys; ARGV[1] = holder, ARGV[2] = JSON [[name, key index, args...], ...]. Returns 0 when
 * another holder has the lease (nothing written).
 */
const leasedScript = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for _, c in ipairs(cjson.decode(ARGV[2])) do
  local args = { c[1], KEYS[c[2]] }
  for i = 3, #c do args[#args + 1] = c[i] end
  redis.call(unpack(args))
end
return 1
`);

/** Applies `commands` (keys under the `{alerts}` tag) atomically, only while `holder` holds the lease. */
export async function applyWithAlertsLease(redis: RedisClient, keys: StoreKeys, holder: string, commands: readonly RedisCommand[]): Promise<boolean> {
  const list: string[] = [keys.alertsLease()];
  const index = new Map<string, number>();
  const encoded = commands.map(([name, key, ...args]) => {
    let at = index.get(String(key));
    if (at === undefined) {
      list.push(String(key));
      index.set(String(key), (at = list.length));
    }
    return [name, at, ...args.map(String)];
  });
  return Number(await leasedScript.run(redis, list, [holder, JSON.stringify(encoded)])) === 1;
}

/** The ids of deliveries committed but not queued yet (the evaluator queues them after each commit). */
export async function readAlertOutbox(redis: RedisClient, keys: StoreKeys): Promise<string[]> {
  return redis.smembers(keys.alertOutbox());
}

/** Removes queued deliveries from the outbox. */
export async function ackAlertOutbox(redis: RedisClient, keys: StoreKeys, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await redis.srem(keys.alertOutbox(), ...ids);
}

/** The states of some deliveries, by id (absent: none recorded). */
export async function readAlertDeliveries(redis: RedisClient, keys: StoreKeys, ids: readonly string[]): Promise<Map<string, AlertDelivery>> {
  const states = new Map<string, AlertDelivery>();
  if (ids.length === 0) return states;
  const values = await redis.hmget(keys.alertDeliveries(), ...ids);
  ids.forEach((id, i) => {
    const json = values[i];
    if (json) states.set(id, JSON.parse(json) as AlertDelivery);
  });
  return states;
}

/** Records the state of one delivery. */
export async function writeAlertDelivery(redis: RedisClient, keys: StoreKeys, id: string, delivery: AlertDelivery): Promise<void> {
  await redis.hset(keys.alertDeliveries(), id, JSON.stringify(delivery));
}

/** An episode with its deliveries. */
export interface AlertEpisodeView extends AlertEpisode {
  readonly deliveries: Partial<Record<DeliveryKind, AlertDelivery>>;
}

/** One episode, or null. */
export async function readAlertEpisode(redis: RedisClient, keys: StoreKeys, id: string): Promise<AlertEpisode | null> {
  const json = await redis.hget(keys.alertEpisodes(), id);
  return json ? (JSON.parse(json) as AlertEpisode) : null;
}

/** The newest `limit` episodes (newest first), each with its deliveries. */
export async function readAlertEpisodes(redis: RedisClient, keys: StoreKeys, limit: number): Promise<AlertEpisodeView[]> {
  const ids = await redis.zrevrange(keys.alertEpisodesByTime(), 0, limit - 1);
  if (ids.length === 0) return [];
  const deliveryIds = ids.flatMap((id) => [deliveryId(id, 'fired'), deliveryId(id, 'resolved')]);
  const [episodes, deliveries] = await Promise.all([redis.hmget(keys.alertEpisodes(), ...ids), redis.hmget(keys.alertDeliveries(), ...deliveryIds)]);
  const views: AlertEpisodeView[] = [];
  ids.forEach((_, i) => {
    const json = episodes[i];
    if (!json) return;
    const fired = deliveries[2 * i];
    const resolved = deliveries[2 * i + 1];
    views.push({
      ...(JSON.parse(json) as AlertEpisode),
      deliveries: {
        ...(fired ? { fired: JSON.parse(fired) as AlertDelivery } : {}),
        ...(resolved ? { resolved: JSON.parse(resolved) as AlertDelivery } : {}),
      },
    });
  });
  return views;
}

/** Splits a {@link deliveryId} into its episode and kind. */
export function parseDeliveryId(id: string): { episodeId: string; kind: DeliveryKind } | null {
  const m = /^(.+)-(fired|resolved)$/.exec(id);
  return m ? { episodeId: m[1] as string, kind: m[2] as DeliveryKind } : null;
}

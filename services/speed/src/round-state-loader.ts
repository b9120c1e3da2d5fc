import type { SigflowConfig } from '@sigflow/config';
import { type RedisClient, type StoreKeys, slotSafePipeline } from '@sigflow/store';
import { readStoredUserStates, type StoredUserState } from '@sigflow/store/speed-state';
import { createIpState, parseIpState, restoreUserState, type EventKey, type RuleSettings } from '@sigflow/core';
import { floodIpOf, type ReceivedEvent } from '@sigflow/events';
import type { CachedUser, PartitionCache } from './partition-cache.js';
import type { ForeignClicks } from './round-types.js';

/** What a round needs from Redis besides the partitions' caches. */
export interface LoadContext {
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly settings: RuleSettings;
  /** Partitions of the events topic (the IP flood rule reads the others'). */
  readonly partitions: number;
  /** Signals read back for a user not in memory: the most a snapshot can be behind. */
  readonly snapshotEvery: number;
  /** Told when a user's stored state was incomplete (its snapshot or log lost apart). */
  readonly onIncompleteState: (userId: string) => void;
}

/** The load context of a speed layer with these settings, keys and Redis. */
export function loadContextOf(config: SigflowConfig, redis: RedisClient, keys: StoreKeys, onIncompleteState: LoadContext['onIncompleteState']): LoadContext {
  return { redis, keys, settings: config.rules, partitions: config.kafka.eventPartitions, snapshotEvery: config.speed.snapshotEvery, onIncompleteState };
}

type Step = (results: unknown[], at: number) => number;

/** Loads the users of a round's part that are not in memory: their snapshot plus newer signals (none for a user the directory does not list). */
async function loadUsers(ctx: LoadContext, cache: PartitionCache, events: readonly ReceivedEvent[]): Promise<void> {
  const missing = new Set<string>();
  for (const e of events) if (!cache.users.has(e.user_id)) missing.add(e.user_id);
  if (missing.size === 0) return;
  const ids = [...missing];
  // Users the directory does not list have nothing stored: no read.
  const toRead = ids.filter((u) => cache.directory.mayHaveState(u));
  const read = await readStoredUserStates(ctx.redis, ctx.keys, cache.partition, toRead, ctx.snapshotEvery);
  const stored = new Map<string, StoredUserState>(toRead.map((u, i) => [u, read[i] as StoredUserState]));
  for (const u of ids) {
    const { snapshot, logLength, newest } = stored.get(u) ?? nothingStored;
    const restored = restoreUserState(snapshot, logLength, newest, ctx.settings);
    if (!restored.complete) ctx.onIncompleteState(u);
    cache.users.set(u, cachedUserOf(restored));
  }
}

/** A user as the cache holds it, from its restored state. */
function cachedUserOf(restored: ReturnType<typeof restoreUserState>): CachedUser {
  return { user: restored.user, signals: restored.signals, sinceSnapshot: restored.sinceSnapshot, hasSnapshot: restored.snapshotAt > 0, ttlAt: restored.snapshotAt };
}

const nothingStored: StoredUserState = { snapshot: null, logLength: 0, newest: [] };

function queueDedupe(pipe: ReturnType<RedisClient['pipeline']>, ctx: LoadContext, cache: PartitionCache, events: readonly ReceivedEvent[]): Step {
  const hours = cache.dedupe.missingHours(events.map((e) => e.ts));
  for (const h of hours) pipe.getBuffer(ctx.keys.seenEvents(cache.partition, h));
  return (results, at) => {
    for (const h of hours) cache.dedupe.load(h, results[at++] as Buffer | null);
    return at;
  };
}

/** Click IPs of a round's events. */
function clickIps(events: readonly ReceivedEvent[]): string[] {
  const ips = new Set<string>();
  for (const e of events) {
    const ip = e.type === 'click' ? floodIpOf(e) : undefined;
    if (ip !== undefined) ips.add(ip);
  }
  return [...ips];
}

/** Queues one MGET of `keys` (one partition's: a slot's, so a cluster takes it too); none when empty. */
function queueMget(pipe: ReturnType<RedisClient['pipeline']>, keys: string[]): void {
  if (keys.length > 0) pipe.mget(keys);
}

/**
 * The IP states a round needs: in every partition this instance owns, the state of each IP
 * that clicks in the round (read from Redis where not in memory: the partitions count each
 * other's clicks in memory); from every other partition, the clicks it committed for those IPs.
 * One MGET per partition: a round's clicks come from hundreds of IPs.
 */
function queueIps(pipe: ReturnType<RedisClient['pipeline']>, ctx: LoadContext, owned: readonly PartitionCache[], ips: readonly string[], foreign: ForeignClicks): Step {
  const missing = owned.map((cache) => ips.filter((ip) => !cache.ips.has(ip)));
  owned.forEach((cache, i) => queueMget(pipe, (missing[i] as string[]).map((ip) => ctx.keys.ipState(cache.partition, ip))));
  const ownedSet = new Set(owned.map((r) => r.partition));
  const others = Array.from({ length: ctx.partitions }, (_, q) => q).filter((q) => !ownedSet.has(q));
  for (const q of others) queueMget(pipe, ips.map((ip) => ctx.keys.ipState(q, ip)));
  return (results, at) => {
    const mgetReplies = (count: number) => (count === 0 ? [] : (results[at++] as (string | null)[]));
    owned.forEach((cache, i) => {
      const list = missing[i] as string[];
      const replies = mgetReplies(list.length);
      list.forEach((ip, k) => {
        const json = replies[k];
        cache.ips.set(ip, json ? parseIpState(JSON.parse(json)) : createIpState());
      });
    });
    const elsewhere = others.map(() => mgetReplies(ips.length));
    ips.forEach((ip, k) => {
      const lists: EventKey[][] = [];
      for (const replies of elsewhere) {
        const json = replies[k];
        if (json) lists.push(parseIpState(JSON.parse(json)).recentClicks);
      }
      if (lists.length > 0) foreign.set(ip, lists);
    });
    return at;
  };
}

/** One partition's events of a round, with its cache. */
export interface RoundPart {
  readonly cache: PartitionCache;
  readonly events: readonly ReceivedEvent[];
}

/**
 * Brings what a fetch round needs into the caches of the partitions it touches, in one round
 * trip (per partition a script for its users, and one pipeline for the rest, sent together),
 * and only what is missing: users not in memory (snapshot + the signals after it), dedupe hour
 * buckets not loaded yet, the owned partitions' state of each clicking IP. Returns what the
 * partitions this instance does not own committed for those IPs (the IP flood spans partitions).
 */
export async function loadRoundState(ctx: LoadContext, parts: readonly RoundPart[], owned: readonly PartitionCache[]): Promise<ForeignClicks> {
  const foreign: ForeignClicks = new Map();
  const users = Promise.all(parts.map((p) => loadUsers(ctx, p.cache, p.events)));
  const pipe = slotSafePipeline(ctx.redis);
  const steps = parts.map((p) => queueDedupe(pipe, ctx, p.cache, p.events));
  steps.push(queueIps(pipe, ctx, owned, clickIps(parts.flatMap((p) => p.events)), foreign));
  if (pipe.length === 0) {
    await users;
    return foreign;
  }
  const [replies] = await Promise.all([pipe.exec(), users]);
  const results = (replies ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  let at = 0;
  for (const step of steps) at = step(results, at);
  return foreign;
}

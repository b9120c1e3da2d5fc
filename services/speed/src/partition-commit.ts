import { currentWatermark, encodeUserSnapshot, HOUR_MS, ipClickRetentionMs, type RuleSettings } from '@sigflow/core';
import type { SpeedConfig } from '@sigflow/config';
import type { StoreKeys } from '@sigflow/store';
import { speedKeyspace } from '@sigflow/store/batch';
import { segmentViewCommands } from '@sigflow/store/segments-alerts';
import { windowViewCommands, type RedisCommand } from '@sigflow/store/views';
import type { PartitionCache } from './partition-cache.js';
import type { RoundChanges } from './round-changes.js';
import { dayStart, UserDirectory } from './user-directory.js';

/** Where one partition's commit writes, and the settings that shape it. */
export interface CommitContext {
  readonly keys: StoreKeys;
  readonly settings: RuleSettings;
  readonly speed: SpeedConfig;
  /** Wall clock of the commit (snapshot TTL refreshes). */
  readonly now: number;
}

/**
 * Adds `words + values` as several commands of at most `chunk` values each: the commit runs
 * in a Lua script, whose `unpack` takes a few thousand arguments at most.
 */
function pushChunked(commands: RedisCommand[], words: [string, string, ...string[]], values: readonly (string | number)[], chunk = 1_000): void {
  for (let i = 0; i < values.length; i += chunk) {
    const command: RedisCommand = [...words];
    const end = Math.min(values.length, i + chunk);
    for (let j = i; j < end; j++) command.push(values[j] as string | number);
    commands.push(command);
  }
}

/**
 * Each user's new signals (one LPUSH per user); a snapshot of the user's state once its log has
 * grown `snapshotEvery` past the last one (the snapshot plus the newer signals is the durable
 * state: core's `restoreUserState`), which is also when the log is trimmed to its cap; and the
 * keys' TTL, set on a user's first signals and refreshed when a quarter of it has passed.
 */
function userCommands(ctx: CommitContext, cache: PartitionCache, changes: RoundChanges): RedisCommand[] {
  const { keys, speed, now } = ctx;
  const commands: RedisCommand[] = [];
  const ttl = String(speed.userTtlMs);
  for (const [userId, { cached, entries }] of changes.signals) {
    const list = keys.signals(cache.partition, userId);
    // LPUSH in arrival order leaves the newest signal at the head.
    pushChunked(commands, ['LPUSH', list], entries);
    cached.signals += entries.length;
    cached.sinceSnapshot += entries.length;
    // Memberships are durable through the snapshot only: a round that changed them writes one.
    if (cached.sinceSnapshot >= speed.snapshotEvery || changes.segments.snapshotUsers.has(userId)) {
      if (cached.signals > speed.signalsCap) {
        commands.push(['LTRIM', list, 0, speed.signalsCap - 1]);
        cached.signals = speed.signalsCap;
      }
      commands.push(['SET', keys.userSnapshot(cache.partition, userId), encodeUserSnapshot({ user: cached.user, signals: cached.signals, writtenAt: now }), 'PX', ttl]);
      commands.push(['PEXPIRE', list, ttl]);
      cache.directory.written(userId);
      cached.sinceSnapshot = 0;
      cached.hasSnapshot = true;
      cached.ttlAt = now;
    } else if (cached.ttlAt === 0 || now - cached.ttlAt > speed.userTtlMs / 4) {
      commands.push(['PEXPIRE', list, ttl]);
      if (cached.hasSnapshot) commands.push(['PEXPIRE', keys.userSnapshot(cache.partition, userId), ttl]);
      cache.directory.written(userId);
      cached.ttlAt = now;
    }
  }
  return commands;
}

/** `PEXPIRE key` when the cache's expiry clock says its TTL is due. */
function pushExpiry(commands: RedisCommand[], ctx: CommitContext, cache: PartitionCache, key: string, ttlMs: number): void {
  const ms = cache.expiries.due(key, ttlMs, ctx.now);
  if (ms !== null) commands.push(['PEXPIRE', key, String(ms)]);
}

/**
 * The users of this round as the partition's most recently seen (scored by the commit's wall
 * clock), the list trimmed to the newest `speed.recentUsers`: what the dashboard's user panel
 * offers to look up. Its TTL follows the users' own.
 */
function recentUserCommands(ctx: CommitContext, cache: PartitionCache, changes: RoundChanges): RedisCommand[] {
  const { keys, speed, now } = ctx;
  if (speed.recentUsers === 0 || changes.signals.size === 0) return [];
  const key = keys.recentUsers(cache.partition);
  const commands: RedisCommand[] = [];
  const members: (string | number)[] = [];
  // Only the round's last `recentUsers` users can stay in the list: the others are not sent.
  const users = [...changes.signals.keys()].slice(-speed.recentUsers);
  for (const userId of users) members.push(now, userId);
  pushChunked(commands, ['ZADD', key], members, 2_000);
  commands.push(['ZREMRANGEBYRANK', key, 0, -(speed.recentUsers + 1)]);
  pushExpiry(commands, ctx, cache, key, speed.userTtlMs);
  return commands;
}

/** The partition's state of each IP that clicked: read by the other partitions too. */
function ipCommands(ctx: CommitContext, cache: PartitionCache, changes: RoundChanges): RedisCommand[] {
  const { settings } = ctx;
  // An IP's state only matters as long as its clicks are kept.
  const ttl = String(ipClickRetentionMs(settings));
  const commands: RedisCommand[] = [];
  for (const ip of changes.ips) commands.push(['SET', ctx.keys.ipState(cache.partition, ip), JSON.stringify(cache.ips.get(ip)), 'PX', ttl]);
  return commands;
}

/** The dedupe hashes remembered by this round, appended per hour bucket. */
function dedupeCommands(ctx: CommitContext, cache: PartitionCache): RedisCommand[] {
  const commands: RedisCommand[] = [];
  const ttl = ctx.settings.dedupeHorizonMs + HOUR_MS;
  for (const [hour, bytes] of cache.dedupe.takePending()) {
    const key = ctx.keys.seenEvents(cache.partition, hour);
    commands.push(['APPEND', key, bytes]);
    pushExpiry(commands, ctx, cache, key, ttl);
  }
  return commands;
}

/** The signals to review per hour (store's `signalReviews`), kept as long as the signals. */
function reviewCommands(ctx: CommitContext, cache: PartitionCache, changes: RoundChanges): RedisCommand[] {
  const commands: RedisCommand[] = [];
  for (const [hour, lines] of changes.reviews) {
    const key = ctx.keys.signalReviews(cache.partition, hour);
    commands.push(['APPEND', key, lines]);
    pushExpiry(commands, ctx, cache, key, ctx.speed.userTtlMs);
  }
  return commands;
}

/**
 * Today's bucket of the user directory gets the users whose keys' TTL this commit set; it
 * outlives those keys by a day. The first commit of a partition records where the directory
 * starts.
 */
function directoryCommands(ctx: CommitContext, cache: PartitionCache): RedisCommand[] {
  const { keys, speed, now } = ctx;
  const { hashes, since } = cache.directory.take();
  const commands: RedisCommand[] = [];
  if (hashes) {
    const key = keys.knownUsers(cache.partition, dayStart(now));
    commands.push(['APPEND', key, hashes]);
    pushExpiry(commands, ctx, cache, key, UserDirectory.bucketTtlMs(speed.userTtlMs));
  }
  if (since !== null) commands.push(['SET', keys.knownUsersSince(cache.partition), since]);
  return commands;
}

/**
 * Segment entries and exits per window, each day's net change and the members: size hashes live
 * as long as the speed views plus the membership TTL (exits are written that far ahead), member
 * sets as long as the users' state.
 */
function segmentCommands(ctx: CommitContext, cache: PartitionCache, changes: RoundChanges): RedisCommand[] {
  const sizesMs = ctx.speed.viewTtlMs + ctx.settings.segmentMembershipTtlMs;
  return segmentViewCommands(ctx.keys, cache.partition, changes.segments, { sizesMs, daysMs: sizesMs, membersMs: ctx.speed.userTtlMs });
}

/** Reconciliation causes per hour, counters, listings, watermark and the analytics outbox. */
function partitionCommands(ctx: CommitContext, cache: PartitionCache, changes: RoundChanges, counts: { events: number; duplicates: number; late: number }): RedisCommand[] {
  const { keys } = ctx;
  const p = cache.partition;
  const commands: RedisCommand[] = [];
  const hours = new Set<string>();
  for (const [f, n] of changes.quality) {
    const tab = f.indexOf('\t');
    const hour = Number(f.slice(0, tab));
    hours.add(String(hour));
    commands.push(['HINCRBY', keys.speedQuality(p, hour), f.slice(tab + 1), n]);
  }
  for (const hour of hours) pushExpiry(commands, ctx, cache, keys.speedQuality(p, Number(hour)), ctx.speed.viewTtlMs);
  changes.bump(changes.counters, 'events', counts.events);
  changes.bump(changes.counters, 'duplicates', counts.duplicates);
  changes.bump(changes.counters, 'late', counts.late);
  changes.bump(changes.counters, 'dlq', changes.deadLetters);
  for (const [name, n] of changes.counters) if (n !== 0) commands.push(['HINCRBY', keys.speedCounters(p), name, n]);
  commands.push(['SET', keys.speedPartition(p), JSON.stringify(cache.state)]);
  const watermark = currentWatermark(cache.state, ctx.settings);
  if (watermark !== null) commands.push(['SET', keys.speedWatermark(p), watermark]);
  pushChunked(commands, ['SADD', keys.campaigns(p)], changes.newCampaigns);
  pushChunked(commands, ['SADD', keys.pages(p)], changes.newPages);
  if (changes.pageUrls.size > 0) {
    commands.push(['HSET', keys.pageUrls(p), ...[...changes.pageUrls].flat()]);
    pushExpiry(commands, ctx, cache, keys.pageUrls(p), ctx.speed.viewTtlMs);
  }
  pushChunked(commands, ['RPUSH', keys.speedOutbox(p)], changes.analytics.map((m) => JSON.stringify(m)));
  return commands;
}

/**
 * Every write of one partition's atomic commit of a round, built from its collected changes: folded
 * view increments (one command per field), user signals and snapshots, recent users, IP states, dedupe
 * hashes, signals to review, reconciliation causes, counters (dead letters sent among them), watermark, listings and the outbox; the TTL of a
 * view, bucket or listing key only when the cache's expiry clock says it is due. Pure
 * apart from moving the partition cache's bookkeeping (signal counts, pending dedupe hashes,
 * TTLs set) forward.
 */
export function buildPartitionCommit(ctx: CommitContext, cache: PartitionCache, changes: RoundChanges): RedisCommand[] {
  const deltas = changes.views.deltas();
  return [
    ...windowViewCommands(speedKeyspace(ctx.keys, cache.partition), deltas, (key) => cache.expiries.dueSeconds(key, ctx.speed.viewTtlMs, ctx.now)),
    ...userCommands(ctx, cache, changes),
    // After userCommands: it lists the users written.
    ...directoryCommands(ctx, cache),
    ...recentUserCommands(ctx, cache, changes),
    ...ipCommands(ctx, cache, changes),
    ...dedupeCommands(ctx, cache),
    ...reviewCommands(ctx, cache, changes),
    ...segmentCommands(ctx, cache, changes),
    ...partitionCommands(ctx, cache, changes, deltas.counts),
  ];
}

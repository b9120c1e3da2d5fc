import { currentWatermark, encodeUserSnapshot, foldOutcomes, ipClickRetentionMs, type RuleSettings } from '@sigflow/core';
import type { SpeedConfig } from '@sigflow/config';
import { segmentViewCommands, speedKeyspace, windowViewCommands, type RedisCommand, type StoreKeys } from '@sigflow/store';
import type { BatchChanges } from './batch-changes.js';
import type { PartitionRuntime } from './partition-runtime.js';
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
  for (let i = 0; i < values.length; i += chunk) commands.push([...words, ...values.slice(i, i + chunk)]);
}

/**
 * Each user's new signals (one LPUSH per user); a snapshot of the user's state once its log has
 * grown `snapshotEvery` past the last one (the snapshot plus the newer signals is the durable
 * state: core's `restoreUserState`), which is also when the log is trimmed to its cap; and the
 * keys' TTL, set on a user's first signals and refreshed when a quarter of it has passed.
 */
function userCommands(ctx: CommitContext, runtime: PartitionRuntime, changes: BatchChanges): RedisCommand[] {
  const { keys, speed, now } = ctx;
  const commands: RedisCommand[] = [];
  const ttl = String(speed.userTtlMs);
  for (const [userId, { cached, entries }] of changes.signals) {
    const list = keys.signals(runtime.partition, userId);
    const snapshotKey = keys.userSnapshot(runtime.partition, userId);
    // LPUSH in arrival order leaves the newest signal at the head.
    pushChunked(commands, ['LPUSH', list], entries);
    cached.signals += entries.length;
    cached.sinceSnapshot += entries.length;
    // Memberships are durable through the snapshot only: a batch that changed them writes one.
    if (cached.sinceSnapshot >= speed.snapshotEvery || changes.segments.snapshotUsers.has(userId)) {
      if (cached.signals > speed.signalsCap) {
        commands.push(['LTRIM', list, 0, speed.signalsCap - 1]);
        cached.signals = speed.signalsCap;
      }
      commands.push(['SET', snapshotKey, encodeUserSnapshot({ user: cached.user, signals: cached.signals, writtenAt: now }), 'PX', ttl]);
      commands.push(['PEXPIRE', list, ttl]);
      runtime.directory.written(userId);
      cached.sinceSnapshot = 0;
      cached.hasSnapshot = true;
      cached.ttlAt = now;
    } else if (cached.ttlAt === 0 || now - cached.ttlAt > speed.userTtlMs / 4) {
      commands.push(['PEXPIRE', list, ttl]);
      if (cached.hasSnapshot) commands.push(['PEXPIRE', snapshotKey, ttl]);
      runtime.directory.written(userId);
      cached.ttlAt = now;
    }
  }
  return commands;
}

/** `PEXPIRE key` when the runtime's expiry clock says its TTL is due. */
function pushExpiry(commands: RedisCommand[], ctx: CommitContext, runtime: PartitionRuntime, key: string, ttlMs: number): void {
  const ms = runtime.expiries.due(key, ttlMs, ctx.now);
  if (ms !== null) commands.push(['PEXPIRE', key, String(ms)]);
}

/**
 * The users of this batch as the partition's most recently seen (scored by the commit's wall
 * clock), the list trimmed to the newest `speed.recentUsers`: what the dashboard's user panel
 * offers to look up. Its TTL follows the users' own.
 */
function recentUserCommands(ctx: CommitContext, runtime: PartitionRuntime, changes: BatchChanges): RedisCommand[] {
  const { keys, speed, now } = ctx;
  if (speed.recentUsers === 0 || changes.signals.size === 0) return [];
  const key = keys.recentUsers(runtime.partition);
  const commands: RedisCommand[] = [];
  const members: (string | number)[] = [];
  // Only the batch's last `recentUsers` users can stay in the list: the others are not sent.
  const users = [...changes.signals.keys()].slice(-speed.recentUsers);
  for (const userId of users) members.push(now, userId);
  pushChunked(commands, ['ZADD', key], members, 2_000);
  commands.push(['ZREMRANGEBYRANK', key, 0, -(speed.recentUsers + 1)]);
  pushExpiry(commands, ctx, runtime, key, speed.userTtlMs);
  return commands;
}

/** The partition's state of each IP that clicked: read by the other partitions too. */
function ipCommands(ctx: CommitContext, runtime: PartitionRuntime, changes: BatchChanges): RedisCommand[] {
  const { settings } = ctx;
  // An IP's state only matters as long as its clicks are kept.
  const ttl = String(ipClickRetentionMs(settings));
  const commands: RedisCommand[] = [];
  for (const ip of changes.ips) commands.push(['SET', ctx.keys.ipState(runtime.partition, ip), JSON.stringify(runtime.ips.get(ip)), 'PX', ttl]);
  return commands;
}

/** The dedupe hashes remembered by this batch, appended per hour bucket. */
function dedupeCommands(ctx: CommitContext, runtime: PartitionRuntime): RedisCommand[] {
  const commands: RedisCommand[] = [];
  const ttl = ctx.settings.dedupeHorizonMs + 3_600_000;
  for (const [hour, bytes] of runtime.dedupe.takePending()) {
    const key = ctx.keys.seenEvents(runtime.partition, hour);
    commands.push(['APPEND', key, bytes]);
    pushExpiry(commands, ctx, runtime, key, ttl);
  }
  return commands;
}

/**
 * Today's bucket of the user directory gets the users whose keys' TTL this commit set; it
 * outlives those keys by a day. The first commit of a partition records where the directory
 * starts.
 */
function directoryCommands(ctx: CommitContext, runtime: PartitionRuntime): RedisCommand[] {
  const { keys, speed, now } = ctx;
  const { hashes, since } = runtime.directory.take();
  const commands: RedisCommand[] = [];
  if (hashes) {
    const key = keys.knownUsers(runtime.partition, dayStart(now));
    commands.push(['APPEND', key, hashes]);
    pushExpiry(commands, ctx, runtime, key, UserDirectory.bucketTtlMs(speed.userTtlMs));
  }
  if (since !== null) commands.push(['SET', keys.knownUsersSince(runtime.partition), since]);
  return commands;
}

/**
 * Segment entries and exits per window, each day's net change and the members: size hashes live
 * as long as the speed views plus the membership TTL (exits are written that far ahead), member
 * sets as long as the users' state.
 */
function segmentCommands(ctx: CommitContext, runtime: PartitionRuntime, changes: BatchChanges): RedisCommand[] {
  const sizesMs = ctx.speed.viewTtlMs + ctx.settings.segmentMembershipTtlMs;
  return segmentViewCommands(ctx.keys, runtime.partition, changes.segments, { sizesMs, daysMs: sizesMs, membersMs: ctx.speed.userTtlMs });
}

/** Reconciliation causes per hour, counters, listings, watermark and the analytics outbox. */
function partitionCommands(ctx: CommitContext, runtime: PartitionRuntime, changes: BatchChanges, counts: { events: number; duplicates: number; late: number }): RedisCommand[] {
  const { keys } = ctx;
  const p = runtime.partition;
  const commands: RedisCommand[] = [];
  const hours = new Set<string>();
  for (const [f, n] of changes.quality) {
    const tab = f.indexOf('\t');
    const hour = Number(f.slice(0, tab));
    hours.add(String(hour));
    commands.push(['HINCRBY', keys.speedQuality(p, hour), f.slice(tab + 1), n]);
  }
  for (const hour of hours) pushExpiry(commands, ctx, runtime, keys.speedQuality(p, Number(hour)), ctx.speed.viewTtlMs);
  changes.bump(changes.counters, 'events', counts.events);
  changes.bump(changes.counters, 'duplicates', counts.duplicates);
  changes.bump(changes.counters, 'late', counts.late);
  for (const [name, n] of changes.counters) if (n !== 0) commands.push(['HINCRBY', keys.speedCounters(p), name, n]);
  commands.push(['SET', keys.speedPartition(p), JSON.stringify(runtime.state)]);
  const watermark = currentWatermark(runtime.state, ctx.settings);
  if (watermark !== null) commands.push(['SET', keys.speedWatermark(p), watermark]);
  pushChunked(commands, ['SADD', keys.campaigns(p)], changes.newCampaigns);
  pushChunked(commands, ['SADD', keys.pages(p)], changes.newPages);
  if (changes.pageUrls.size > 0) {
    commands.push(['HSET', keys.pageUrls(p), ...[...changes.pageUrls].flat()]);
    pushExpiry(commands, ctx, runtime, keys.pageUrls(p), ctx.speed.viewTtlMs);
  }
  pushChunked(commands, ['RPUSH', keys.speedOutbox(p)], changes.analytics.map((m) => JSON.stringify(m)));
  return commands;
}

/**
 * Every write of one partition batch's atomic commit, built from its collected changes: folded
 * view increments (one command per field), user signals and snapshots, recent users, IP states, dedupe
 * hashes, reconciliation causes, counters, watermark, listings and the outbox; the TTL of a
 * view, bucket or listing key only when the runtime's expiry clock says it is due. Pure
 * apart from moving the partition cache's bookkeeping (signal counts, pending dedupe hashes,
 * TTLs set) forward.
 */
export function buildPartitionCommit(ctx: CommitContext, runtime: PartitionRuntime, changes: BatchChanges): RedisCommand[] {
  const deltas = foldOutcomes(changes.outcomes);
  return [
    ...windowViewCommands(speedKeyspace(ctx.keys, runtime.partition), deltas, (key) => runtime.expiries.dueSeconds(key, ctx.speed.viewTtlMs, ctx.now)),
    ...userCommands(ctx, runtime, changes),
    // After userCommands: it lists the users written.
    ...directoryCommands(ctx, runtime),
    ...recentUserCommands(ctx, runtime, changes),
    ...ipCommands(ctx, runtime, changes),
    ...dedupeCommands(ctx, runtime),
    ...segmentCommands(ctx, runtime, changes),
    ...partitionCommands(ctx, runtime, changes, deltas.counts),
  ];
}

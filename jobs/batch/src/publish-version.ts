import { randomBytes } from 'node:crypto';
import { batchKeyspace, batchVersionKeysKey, switchBatchHours, type BatchHourEntry, type BatchSwitchResult } from '@sigflow/store/batch';
import { windowViewHashes, type RedisCommand, type ViewHashWrite } from '@sigflow/store/views';
import { ttlSeconds, type BatchContext } from './batch-context.js';
import { batchWatermarkCandidate } from './batch-watermark.js';
import { hourChangeCommands } from './hour-changes.js';
import type { HourViews } from './hour-views.js';
import { sendCommands } from './redis-commands.js';

/**
 * The commands that write a new version's view hashes (keys that do not exist yet): one HSET per
 * hash and up to `fieldsPerCommand` fields of `windowViewHashes` (the fields and values its
 * increments would leave on empty hashes: the hour's deltas are folded, each field is written
 * once), then each hash's EXPIRE.
 */
export function freshViewCommands(hashes: readonly ViewHashWrite[], ttl: number, fieldsPerCommand = 500): RedisCommand[] {
  const commands: RedisCommand[] = [];
  for (const { key, fields } of hashes) {
    for (let i = 0; i < fields.length; i += 2 * fieldsPerCommand) commands.push(['HSET', key, ...fields.slice(i, i + 2 * fieldsPerCommand)]);
  }
  for (const { key } of hashes) commands.push(['EXPIRE', key, ttl]);
  return commands;
}

/** A new version id: when its computation started reading, and a random tail. */
export function newVersion(asOf: number): string {
  return `v${asOf}-${randomBytes(3).toString('hex')}`;
}

/** One hour written as a new version, not yet serving. */
export interface WrittenHour {
  readonly hourStart: number;
  readonly entry: Omit<BatchHourEntry, 'computedAt'>;
  /** Every key of the version (the key set included). */
  readonly keys: string[];
  readonly views: HourViews;
}

/** What the hour's entry says about how it was computed. */
export interface VersionInfo {
  readonly version: string;
  readonly asOf: number;
  readonly computedBy: string;
  readonly shapleyVersion: string | null;
  readonly markovVersion: string | null;
  /** The `isbot` version the bot rule used (core's `isbotVersion`). */
  readonly isbotVersion: string;
}

/**
 * Writes all keys of one hour's new version (views through the store's `windowViewHashes`,
 * quality, what changed against the speed view, the key set) with the pending TTL. Nothing
 * reads them until {@link switchHours}; a job that fails here leaves the serving version as it was.
 */
export async function writeHourVersion(ctx: BatchContext, views: HourViews, info: VersionInfo): Promise<WrittenHour> {
  const { redis, keys } = ctx;
  const { version } = info;
  const h = views.hourStart;
  const ttl = ttlSeconds(ctx.config.batch.pendingTtlMs);
  const commands = freshViewCommands(windowViewHashes(batchKeyspace(keys, version), views.deltas), ttl);
  const qualityKey = keys.batchQuality(h, version);
  for (const [f, n] of views.quality) commands.push(['HSET', qualityKey, f, n]);
  if (views.quality.size > 0) commands.push(['EXPIRE', qualityKey, ttl]);
  const campaigns = [...new Set(views.deltas.windowMetrics.map((m) => m.campaign_id))];
  const pages = [...new Set([...views.deltas.heatmap, ...views.deltas.pageActivity].map((x) => x.page_id))];
  if (campaigns.length > 0) commands.push(['SADD', keys.batchCampaigns(), ...campaigns]);
  if (pages.length > 0) commands.push(['SADD', keys.batchPages(), ...pages]);
  await sendCommands(redis, commands);

  const changes = await hourChangeCommands(redis, keys, h, version, campaigns, info.shapleyVersion, ttl, ctx.config.kafka.eventPartitions);
  await sendCommands(redis, changes.commands);

  const written = new Set<string>();
  for (const c of [...commands, ...changes.commands]) {
    if (c[0] === 'HINCRBY' || c[0] === 'HINCRBYFLOAT' || c[0] === 'HSET') written.add(String(c[1]));
  }
  const setKey = batchVersionKeysKey(keys, h, version);
  const keyList = [...written];
  const setCommands: RedisCommand[] = [];
  for (let i = 0; i < keyList.length; i += 500) setCommands.push(['SADD', setKey, ...keyList.slice(i, i + 500)]);
  setCommands.push(['SADD', setKey, setKey], ['EXPIRE', setKey, ttl]);
  await sendCommands(redis, setCommands);
  return {
    hourStart: h,
    keys: [...keyList, setKey],
    views,
    entry: {
      version,
      asOf: info.asOf,
      rows: views.deltas.counts.events,
      duplicates: views.deltas.counts.duplicates,
      shapleyVersion: info.shapleyVersion,
      markovVersion: info.markovVersion,
      isbotVersion: info.isbotVersion,
      computedBy: info.computedBy,
    },
  };
}

async function expireKeys(ctx: BatchContext, keys: readonly string[], seconds: number): Promise<void> {
  await sendCommands(
    ctx.redis,
    keys.map((k) => ['EXPIRE', k, seconds] as RedisCommand),
  );
}

/**
 * Switches written hours in: gives their keys the serving TTL, then ONE atomic script updates
 * `batchHours`, clears their dirty marks (unless a file landed since `asOf`) and sets the batch
 * watermark; then the replaced versions' keys get the short TTL (readers mid-flight still see
 * them). With no hours it only advances the watermark.
 */
export async function switchHours(ctx: BatchContext, asOf: number, hours: readonly WrittenHour[], now = Date.now()): Promise<BatchSwitchResult[]> {
  const { redis, keys } = ctx;
  const { viewTtlMs, oldVersionTtlMs } = ctx.config.batch;
  await expireKeys(ctx, hours.flatMap((h) => h.keys), ttlSeconds(viewTtlMs));
  const candidate = await batchWatermarkCandidate(redis, keys, {
    archive: ctx.archive,
    topic: ctx.topic,
    settings: ctx.settings,
    newlyComputed: hours.map((h) => h.hourStart),
  });
  const results = await switchBatchHours(
    redis,
    keys,
    asOf,
    candidate,
    hours.map((h) => ({ hourStart: h.hourStart, entry: { ...h.entry, computedAt: now } })),
  );
  for (const r of results) {
    if (r.replaced && r.previous && r.previous.version !== '') {
      const setKey = batchVersionKeysKey(keys, r.hourStart, r.previous.version);
      const previousKeys = await redis.smembers(setKey);
      await expireKeys(ctx, [...previousKeys, setKey], ttlSeconds(oldVersionTtlMs));
    } else if (!r.replaced) {
      const mine = hours.find((h) => h.hourStart === r.hourStart);
      if (mine) await expireKeys(ctx, mine.keys, ttlSeconds(oldVersionTtlMs));
    }
  }
  return results;
}

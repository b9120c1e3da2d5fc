import type { RedisClient } from '../redis-client.js';
import { ReadLimitError } from '../errors.js';
import { execAll, hgetallFlat } from '../pipeline-replies.js';
import { field, FIELD_SEPARATOR, type StoreKeys } from '../store-keys.js';
import { HOUR_MS } from '@sigflow/core';
import { forEachField, type HashReply } from '../views/view-replies.js';
import { speedPartitions } from '../views/view-readers.js';
import { getKeys, slotSafePipeline } from '../cluster-commands.js';

const DAY_MS = 86_400_000;

/** A segment's size at the end of one window, and its entries and exits in it. */
export interface SegmentSizeWindow {
  readonly windowStart: number;
  readonly size: number;
  readonly entered: number;
  readonly left: number;
  /** `batch` for hours a batch recompute wrote, else `speed`. */
  readonly source: 'speed' | 'batch';
}

/** A batch recompute of one segment-hour, as recorded. */
export interface SegmentBatchHour {
  readonly computedAt: number;
  readonly segmentVersion: number;
  readonly definitionsVersion: number;
  readonly computedBy: string;
}

/** What {@link readSegmentSizes} reads. */
export interface SegmentSizesQuery {
  readonly segmentId: string;
  /** Whole windows: [from, to), multiples of `windowMs`. */
  readonly from: number;
  readonly to: number;
  readonly windowMs: number;
  readonly partitions: number;
  /** Hashes one read may touch at most. */
  readonly maxKeys: number;
}

const floorTo = (t: number, unit: number) => t - (((t % unit) + unit) % unit);

function speedDeltas(replies: readonly HashReply[], hourCount: number, partitions: number): Map<number, { in: number; out: number }> {
  const deltas = new Map<number, { in: number; out: number }>();
  for (let p = 0; p < partitions; p++) {
    for (let h = 0; h < hourCount; h++) {
      forEachField(replies[p * hourCount + h] as HashReply, (f, v) => {
        const [ws, kind] = f.split(FIELD_SEPARATOR) as [string, 'in' | 'out'];
        const d = deltas.get(Number(ws)) ?? { in: 0, out: 0 };
        d[kind] += Number(v);
        deltas.set(Number(ws), d);
      });
    }
  }
  return deltas;
}

function batchWindows(replies: readonly HashReply[]): Map<number, Record<string, number>> {
  const windows = new Map<number, Record<string, number>>();
  for (const reply of replies) {
    forEachField(reply, (f, v) => {
      const [ws, name] = f.split(FIELD_SEPARATOR) as [string, string];
      const w = windows.get(Number(ws)) ?? {};
      w[name] = Number(v);
      windows.set(Number(ws), w);
    });
  }
  return windows;
}

/**
 * A segment's size per window over [from, to) (DESIGN.md "Segments"), in one round trip. The
 * speed layer's size at the end of window W is the sum of every day's net change before W's day
 * plus the entries minus exits of that day's windows up to W, summed over the partitions; hours
 * a batch recompute wrote are served from it (`source: 'batch'`).
 */
export async function readSegmentSizes(redis: RedisClient, keys: StoreKeys, q: SegmentSizesQuery): Promise<{ windows: SegmentSizeWindow[]; batchHours: Map<number, SegmentBatchHour> }> {
  const parts = speedPartitions(q.partitions);
  const firstHour = floorTo(floorTo(q.from, HOUR_MS), DAY_MS);
  const hourCount = Math.max(0, Math.ceil((q.to - firstHour) / HOUR_MS));
  const rangeHours = Math.max(0, Math.ceil((q.to - floorTo(q.from, HOUR_MS)) / HOUR_MS));
  if (parts.length * (hourCount + 1) + rangeHours + 1 > q.maxKeys) throw new ReadLimitError(`this read would touch more than ${q.maxKeys} hashes; ask for a shorter range`);
  const pipe = slotSafePipeline(redis);
  hgetallFlat(pipe, keys.batchSegmentHours(q.segmentId));
  for (const p of parts) hgetallFlat(pipe, keys.speedSegmentDays(p, q.segmentId));
  for (const p of parts) for (let h = 0; h < hourCount; h++) hgetallFlat(pipe, keys.speedSegmentSizes(p, q.segmentId, firstHour + h * HOUR_MS));
  for (let h = 0; h < rangeHours; h++) hgetallFlat(pipe, keys.batchSegmentSizes(q.segmentId, floorTo(q.from, HOUR_MS) + h * HOUR_MS));
  const [hoursReply, ...rest] = (await execAll(pipe)) as HashReply[];
  const batchHours = new Map<number, SegmentBatchHour>();
  forEachField(hoursReply as HashReply, (f, v) => batchHours.set(Number(f), JSON.parse(v) as SegmentBatchHour));
  let size = 0;
  for (const reply of rest.slice(0, parts.length)) forEachField(reply, (day, net) => (Number(day) < firstHour ? (size += Number(net)) : undefined));
  const deltas = speedDeltas(rest.slice(parts.length, parts.length * (1 + hourCount)), hourCount, parts.length);
  const batch = batchWindows(rest.slice(parts.length * (1 + hourCount)));
  const windows: SegmentSizeWindow[] = [];
  for (let ws = firstHour; ws < q.to; ws += q.windowMs) {
    const d = deltas.get(ws) ?? { in: 0, out: 0 };
    size += d.in - d.out;
    if (ws < q.from) continue;
    const b = batchHours.has(floorTo(ws, HOUR_MS)) ? batch.get(ws) : undefined;
    windows.push(b ? { windowStart: ws, size: b['size'] ?? 0, entered: b['in'] ?? 0, left: b['out'] ?? 0, source: 'batch' } : { windowStart: ws, size, entered: d.in, left: d.out, source: 'speed' });
  }
  return { windows, batchHours };
}

/** One member of a segment: when it entered, until when it lasts without a further event. */
export interface SegmentMember {
  readonly userId: string;
  readonly entered: number;
  readonly expiresAt: number;
}

/** What {@link readSegmentMembers} reads. */
export interface SegmentMembersQuery {
  readonly segmentId: string;
  /** `speed`: live members; `batch`: as of the end of the last batch recompute. */
  readonly source: 'speed' | 'batch';
  readonly partitions: number;
  /** Members after this user id (the previous page's cursor); null: from the first. */
  readonly after: string | null;
  readonly limit: number;
  /** Memberships that expired by this event time are left out. */
  readonly asOf: number;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * One page of a segment's members, ordered by user id (Redis' byte order): each partition's set
 * from the cursor on, merged, the first `limit` kept; expired memberships are skipped (they still
 * move the cursor). `next` is the cursor of the following page, null after the last.
 */
export async function readSegmentMembers(redis: RedisClient, keys: StoreKeys, q: SegmentMembersQuery): Promise<{ members: SegmentMember[]; next: string | null }> {
  const sets = q.source === 'batch' ? [[keys.batchSegmentMembers(q.segmentId), keys.batchSegmentMemberInfo(q.segmentId)]] : speedPartitions(q.partitions).map((p) => [keys.speedSegmentMembers(p, q.segmentId), keys.speedSegmentMemberInfo(p, q.segmentId)]);
  const min = q.after === null ? '-' : `(${q.after}`;
  const pages = await Promise.all(sets.map(([set]) => redis.zrangebylex(set as string, min, '+', 'LIMIT', 0, q.limit)));
  const merged = pages.flatMap((ids, i) => ids.map((userId) => ({ userId, info: sets[i]?.[1] as string }))).sort((a, b) => byteOrder(a.userId, b.userId));
  const picked = merged.slice(0, q.limit);
  // More follow when the merge held more than a page, or a partition filled its page.
  const more = merged.length > q.limit || pages.some((ids) => ids.length === q.limit);
  const pipe = slotSafePipeline(redis);
  for (const m of picked) pipe.hget(m.info, m.userId);
  const infos = (await execAll(pipe)) as (string | null)[];
  const members: SegmentMember[] = [];
  picked.forEach((m, i) => {
    const [entered, expiresAt] = (infos[i] ?? '').split(FIELD_SEPARATOR).map(Number) as [number, number];
    if (Number.isFinite(expiresAt) && expiresAt > q.asOf) members.push({ userId: m.userId, entered, expiresAt });
  });
  return { members, next: more && picked.length > 0 ? (picked[picked.length - 1] as { userId: string }).userId : null };
}

/** What the batch members of a segment are as of. */
export interface SegmentBatchMembersState {
  readonly asOf: number;
  readonly segmentVersion: number;
  readonly definitionsVersion: number;
  readonly computedAt: number;
  readonly members: number;
}

/** The batch members' state of a segment, null before any batch recompute. */
export async function readSegmentBatchMembersState(redis: RedisClient, keys: StoreKeys, segmentId: string): Promise<SegmentBatchMembersState | null> {
  const json = await redis.get(keys.batchSegmentMembersState(segmentId));
  return json ? (JSON.parse(json) as SegmentBatchMembersState) : null;
}

/** Fields of a batch segment-size hash. */
export function batchSegmentField(windowStart: number, name: 'size' | 'in' | 'out'): string {
  return field(windowStart, name);
}

/**
 * The speed layer's event-time clock: the newest event time it has seen over every partition
 * (the largest watermark plus the watermark delay); null before it has seen any.
 */
export async function readSpeedClock(redis: RedisClient, keys: StoreKeys, partitions: number, watermarkDelayMs: number): Promise<number | null> {
  const parts = speedPartitions(partitions);
  const values = (await getKeys(redis, parts.map((p) => keys.speedWatermark(p)))).filter((v): v is string => v !== null).map(Number);
  return values.length === 0 ? null : Math.max(...values) + watermarkDelayMs;
}

/**
 * Removes a deleted segment's members (speed and batch) and batch views, so no user id stays
 * behind it; the speed size hashes hold no personal data and expire with their TTL.
 */
export async function dropSegmentViews(redis: RedisClient, keys: StoreKeys, segmentId: string, partitions: number): Promise<void> {
  const hours = await redis.hkeys(keys.batchSegmentHours(segmentId));
  const pipe = slotSafePipeline(redis);
  for (const p of speedPartitions(partitions)) pipe.del(keys.speedSegmentMembers(p, segmentId), keys.speedSegmentMemberInfo(p, segmentId), keys.speedSegmentDays(p, segmentId));
  pipe.del(keys.batchSegmentMembers(segmentId), keys.batchSegmentMemberInfo(segmentId), keys.batchSegmentMembersState(segmentId), keys.batchSegmentHours(segmentId));
  for (const h of hours) pipe.del(keys.batchSegmentSizes(segmentId, Number(h)));
  await execAll(pipe);
}

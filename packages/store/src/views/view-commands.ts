import { foldCampaignWindows, type CampaignWindowMetrics, type ViewDeltas } from '@sigflow/core';
import { hourStart } from '@sigflow/core';
import { field, spendFields, windowMetricFields } from '../store-keys.js';

/** One Redis command as its words, e.g. `['HINCRBY', key, field, 1]`. */
export type RedisCommand = [string, ...(string | number | Buffer)[]];

/**
 * Where windowed views live: the speed keyspace, or one version of the batch keyspace. Both
 * layers write the same fields through {@link windowViewCommands}, so readers parse one shape.
 */
export interface WindowViewKeyspace {
  metrics(campaignId: string, hourStart: number): string;
  /** The per-campaign rollup of `metrics` (fields `${windowStart}\t${metric}`). */
  campaignMetrics(campaignId: string, hourStart: number): string;
  /** Channel spend (fields `${windowStart}\t${channel}\t${spend|invalid_spend|clicks}`). */
  spend(campaignId: string, hourStart: number): string;
  attribution(model: string, hourStart: number): string;
  heatmap(pageId: string, hourStart: number): string;
  pageActivity(pageId: string, hourStart: number): string;
  /** Custom events (fields `${windowStart}\t${name}\t${outcome}`). */
  eventCounts(hourStart: number): string;
}

const metricFieldEntries = Object.entries(windowMetricFields) as [keyof typeof windowMetricFields, string][];
const spendFieldEntries = Object.entries(spendFields) as [keyof typeof spendFields, string][];

/** One hash of a view and the fields written into it, as `[field, value, field, value, ...]`. */
export interface ViewHashWrite {
  readonly key: string;
  /** Values are floats (attribution: HINCRBYFLOAT), else integers (HINCRBY). */
  readonly float: boolean;
  readonly fields: (string | number)[];
}

/**
 * The writes of folded view deltas per hash, in the order the hashes are first touched: window
 * metrics per ad and their per-campaign rollup, channel spend, attribution, heatmap, page
 * activity, custom event counts; counts that are 0 are left out (attribution's conversions are always written). A
 * hash's key is built once per (name, hour), not per row. Folded deltas (one row per fold key,
 * as core's folds give them) write each field of a hash at most once.
 */
export function windowViewHashes(space: WindowViewKeyspace, deltas: ViewDeltas): ViewHashWrite[] {
  const hashes = new Map<string, ViewHashWrite>();
  const hashOf = (keyOf: (name: string, hour: number) => string, float: boolean) => {
    const keys = new Map<string, Map<number, ViewHashWrite>>();
    return (name: string, windowStart: number): (string | number)[] => {
      const hour = hourStart(windowStart);
      let byHour = keys.get(name);
      if (!byHour) keys.set(name, (byHour = new Map()));
      let hash = byHour.get(hour);
      if (!hash) {
        const key = keyOf(name, hour);
        hash = hashes.get(key) ?? { key, float, fields: [] };
        hashes.set(key, hash);
        byHour.set(hour, hash);
      }
      return hash.fields;
    };
  };
  const metrics = hashOf((c, h) => space.metrics(c, h), false);
  for (const m of deltas.windowMetrics) pushMetrics(metrics(m.campaign_id, m.windowStart), m, m.windowStart, m.ad_id);
  const campaignMetrics = hashOf((c, h) => space.campaignMetrics(c, h), false);
  for (const m of foldCampaignWindows(deltas.windowMetrics)) pushMetrics(campaignMetrics(m.campaign_id, m.windowStart), m, m.windowStart);
  const spend = hashOf((c, h) => space.spend(c, h), false);
  for (const m of deltas.spend) {
    const fields = spend(m.campaign_id, m.windowStart);
    for (const [name, metric] of spendFieldEntries) if (m[name] !== 0) fields.push(field(m.windowStart, m.channel, metric), m[name]);
  }
  const attribution = hashOf((model, h) => space.attribution(model, h), true);
  for (const a of deltas.attribution) {
    const fields = attribution(a.model, a.windowStart);
    fields.push(field(a.windowStart, a.campaign_id, a.channel, 'c'), a.conversions);
    if (a.revenue !== 0) fields.push(field(a.windowStart, a.campaign_id, a.channel, 'r'), a.revenue);
  }
  const heatmap = hashOf((p, h) => space.heatmap(p, h), false);
  for (const h of deltas.heatmap) heatmap(h.page_id, h.windowStart).push(field(h.windowStart, h.element_id), h.clicks);
  const pageActivity = hashOf((p, h) => space.pageActivity(p, h), false);
  for (const a of deltas.pageActivity) pageActivity(a.page_id, a.windowStart).push(field(a.windowStart, ...a.metric), a.count);
  const eventCounts = hashOf((_, h) => space.eventCounts(h), false);
  for (const e of deltas.eventCounts) eventCounts('', e.windowStart).push(field(e.windowStart, e.name, e.outcome), e.count);
  return [...hashes.values()];
}

/** Each non-zero count of `m`, at field `${...fieldPrefix}\t${metric}`. */
function pushMetrics(fields: (string | number)[], m: CampaignWindowMetrics, ...fieldPrefix: (string | number)[]): void {
  for (const [name, metric] of metricFieldEntries) {
    const value = m[name];
    if (value !== 0) fields.push(field(...fieldPrefix, metric), value);
  }
}

/**
 * A touched key's EXPIRE: the seconds to set, or null to leave its TTL as it is (set lately by
 * the same writer).
 */
export type KeyExpiry = (key: string) => number | null;

/**
 * The commands that add folded view deltas to a keyspace ({@link windowViewHashes}): integer
 * counts and spend (micros) with HINCRBY, attribution credits and revenue with HINCRBYFLOAT;
 * every touched key gets `ttl` seconds, or what `ttl` decides for it.
 */
export function windowViewCommands(space: WindowViewKeyspace, deltas: ViewDeltas, ttl: number | KeyExpiry): RedisCommand[] {
  const commands: RedisCommand[] = [];
  const hashes = windowViewHashes(space, deltas);
  for (const { key, float, fields } of hashes) {
    const name = float ? 'HINCRBYFLOAT' : 'HINCRBY';
    for (let i = 0; i < fields.length; i += 2) commands.push([name, key, fields[i] as string, fields[i + 1] as number]);
  }
  for (const { key } of hashes) {
    const seconds = typeof ttl === 'number' ? ttl : ttl(key);
    if (seconds !== null) commands.push(['EXPIRE', key, seconds]);
  }
  return commands;
}

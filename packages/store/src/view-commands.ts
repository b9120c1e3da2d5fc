import { foldCampaignWindows, type CampaignWindowMetrics, type ViewDeltas } from '@sigflow/core';
import { field, hourStart, spendFields, windowMetricFields } from './store-keys.js';

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
}

const metricFieldEntries = Object.entries(windowMetricFields) as [keyof typeof windowMetricFields, string][];

/** HINCRBY of each non-zero count of `m` into `key`, at field `${...fieldPrefix}\t${metric}`. */
function pushMetricIncrements(commands: RedisCommand[], key: string, m: CampaignWindowMetrics, ...fieldPrefix: (string | number)[]): void {
  for (const [name, metric] of metricFieldEntries) {
    const value = m[name];
    if (value !== 0) commands.push(['HINCRBY', key, field(...fieldPrefix, metric), value]);
  }
}

/**
 * A touched key's EXPIRE: the seconds to set, or null to leave its TTL as it is (set lately by
 * the same writer).
 */
export type KeyExpiry = (key: string) => number | null;

/**
 * The commands that add folded view deltas to a keyspace (window metrics per ad and their
 * per-campaign rollup, channel spend, attribution, heatmap, page activity): integer counts and
 * spend (micros) with HINCRBY,
 * attribution credits and revenue with HINCRBYFLOAT; every touched key gets `ttl` seconds, or
 * what `ttl` decides for it.
 */
export function windowViewCommands(space: WindowViewKeyspace, deltas: ViewDeltas, ttl: number | KeyExpiry): RedisCommand[] {
  const commands: RedisCommand[] = [];
  const touched = new Set<string>();
  for (const m of deltas.windowMetrics) {
    const key = space.metrics(m.campaign_id, hourStart(m.windowStart));
    touched.add(key);
    pushMetricIncrements(commands, key, m, m.windowStart, m.ad_id);
  }
  for (const m of foldCampaignWindows(deltas.windowMetrics)) {
    const key = space.campaignMetrics(m.campaign_id, hourStart(m.windowStart));
    touched.add(key);
    pushMetricIncrements(commands, key, m, m.windowStart);
  }
  for (const m of deltas.spend) {
    const key = space.spend(m.campaign_id, hourStart(m.windowStart));
    touched.add(key);
    for (const [name, metric] of Object.entries(spendFields) as [keyof typeof spendFields, string][]) {
      const value = m[name];
      if (value !== 0) commands.push(['HINCRBY', key, field(m.windowStart, m.channel, metric), value]);
    }
  }
  for (const a of deltas.attribution) {
    const key = space.attribution(a.model, hourStart(a.windowStart));
    touched.add(key);
    commands.push(['HINCRBYFLOAT', key, field(a.windowStart, a.campaign_id, a.channel, 'c'), a.conversions]);
    if (a.revenue !== 0) commands.push(['HINCRBYFLOAT', key, field(a.windowStart, a.campaign_id, a.channel, 'r'), a.revenue]);
  }
  for (const h of deltas.heatmap) {
    const key = space.heatmap(h.page_id, hourStart(h.windowStart));
    touched.add(key);
    commands.push(['HINCRBY', key, field(h.windowStart, h.element_id), h.clicks]);
  }
  for (const a of deltas.pageActivity) {
    const key = space.pageActivity(a.page_id, hourStart(a.windowStart));
    touched.add(key);
    commands.push(['HINCRBY', key, field(a.windowStart, ...a.metric), a.count]);
  }
  for (const key of touched) {
    const seconds = typeof ttl === 'number' ? ttl : ttl(key);
    if (seconds !== null) commands.push(['EXPIRE', key, seconds]);
  }
  return commands;
}

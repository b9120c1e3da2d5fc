import type { ViewDeltas } from '@sigflow/core';
import { field, hourStart, windowMetricFields } from './store-keys.js';

/** One Redis command as its words, e.g. `['HINCRBY', key, field, 1]`. */
export type RedisCommand = [string, ...(string | number | Buffer)[]];

/**
 * Where windowed views live: the speed keyspace, or one version of the batch keyspace. Both
 * layers write the same fields through {@link windowViewCommands}, so readers parse one shape.
 */
export interface WindowViewKeyspace {
  metrics(campaignId: string, hourStart: number): string;
  attribution(model: string, hourStart: number): string;
  heatmap(pageId: string, hourStart: number): string;
}

/**
 * The commands that add folded view deltas to a keyspace: integer counts with HINCRBY,
 * attribution credits and revenue with HINCRBYFLOAT; every touched key gets `ttlSeconds`.
 */
export function windowViewCommands(space: WindowViewKeyspace, deltas: ViewDeltas, ttlSeconds: number): RedisCommand[] {
  const commands: RedisCommand[] = [];
  const touched = new Set<string>();
  for (const m of deltas.windowMetrics) {
    const key = space.metrics(m.campaign_id, hourStart(m.windowStart));
    touched.add(key);
    for (const [name, metric] of Object.entries(windowMetricFields) as [keyof typeof windowMetricFields, string][]) {
      const value = m[name];
      if (value !== 0) commands.push(['HINCRBY', key, field(m.windowStart, m.ad_id, metric), value]);
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
  for (const key of touched) commands.push(['EXPIRE', key, ttlSeconds]);
  return commands;
}

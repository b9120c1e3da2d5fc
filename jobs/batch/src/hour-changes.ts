import type { Redis } from 'ioredis';
import { fieldParts, windowMetricFields, type RedisCommand, type StoreKeys } from '@sigflow/store';

/** Windowed totals of one campaign in one hour, as the reconciliation compares them. */
export interface CampaignTotals {
  impressions: number;
  clicks: number;
  invalid_impressions: number;
  invalid_clicks: number;
  /** Attributed conversions and revenue (last_touch: one conversion counts once). */
  conversions: number;
  revenue: number;
}

/**
 * What changed against the speed view for one campaign and hour (JSON in
 * `StoreKeys.batchChanges(hour, version)`): both sides, batch - speed, and the causes each
 * layer counted: late events (speed only: it left them out), duplicates and invalid traffic
 * per reason (both), and the Shapley table the batch version used.
 */
export interface CampaignChange {
  readonly campaign_id: string;
  readonly hour: number;
  readonly version: string;
  readonly speed: CampaignTotals;
  readonly batch: CampaignTotals;
  readonly diff: CampaignTotals;
  readonly causes: {
    readonly late: number;
    readonly duplicates: { readonly speed: number; readonly batch: number };
    readonly invalid: Record<string, { speed: number; batch: number }>;
    readonly shapley_version: { readonly batch: string | null };
  };
}

/** The model whose attributed conversions are compared (every model sums to the same count). */
export const reconciledModel = 'last_touch';

const emptyTotals = (): CampaignTotals => ({
  impressions: 0,
  clicks: 0,
  invalid_impressions: 0,
  invalid_clicks: 0,
  conversions: 0,
  revenue: 0,
});

const metricName: Record<string, keyof CampaignTotals> = {
  [windowMetricFields.impressions]: 'impressions',
  [windowMetricFields.clicks]: 'clicks',
  [windowMetricFields.invalidImpressions]: 'invalid_impressions',
  [windowMetricFields.invalidClicks]: 'invalid_clicks',
};

/** One side (speed or batch) of an hour, read from its hashes. */
interface Side {
  totals: Map<string, CampaignTotals>;
  quality: Map<string, Map<string, number>>;
}

function totalsOf(side: Side, campaign: string): CampaignTotals {
  let t = side.totals.get(campaign);
  if (!t) side.totals.set(campaign, (t = emptyTotals()));
  return t;
}

async function readSide(
  redis: Redis,
  campaigns: readonly string[],
  metricsKey: (campaign: string) => string,
  attributionKey: string,
  qualityKey: string,
): Promise<Side> {
  const side: Side = { totals: new Map(), quality: new Map() };
  const [metrics, attribution, quality] = await Promise.all([
    Promise.all(campaigns.map((c) => redis.hgetall(metricsKey(c)))),
    redis.hgetall(attributionKey),
    redis.hgetall(qualityKey),
  ]);
  campaigns.forEach((campaign, i) => {
    const hash = metrics[i] ?? {};
    if (Object.keys(hash).length === 0) return;
    const t = totalsOf(side, campaign);
    for (const [f, v] of Object.entries(hash)) {
      const name = metricName[fieldParts(f)[2] ?? ''];
      if (name) t[name] += Number(v);
    }
  });
  for (const [f, v] of Object.entries(attribution)) {
    const [, campaign, , kind] = fieldParts(f);
    if (campaign === undefined) continue;
    const t = totalsOf(side, campaign);
    if (kind === 'c') t.conversions += Number(v);
    else if (kind === 'r') t.revenue += Number(v);
  }
  for (const [f, v] of Object.entries(quality)) {
    const [campaign, cause] = fieldParts(f);
    if (campaign === undefined || cause === undefined) continue;
    let q = side.quality.get(campaign);
    if (!q) side.quality.set(campaign, (q = new Map()));
    q.set(cause, (q.get(cause) ?? 0) + Number(v));
  }
  return side;
}

const round = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * Compares one hour of one batch version with the speed views of the same hour and returns the
 * commands that (re)write `batchChanges(hour, version)`, one field per campaign that either side
 * has. `batchCampaigns` are the campaigns the version has metrics for.
 */
export async function hourChangeCommands(
  redis: Redis,
  keys: StoreKeys,
  hour: number,
  version: string,
  batchCampaigns: readonly string[],
  shapleyVersion: string | null,
  ttlSeconds: number,
): Promise<{ commands: RedisCommand[]; changes: CampaignChange[] }> {
  const speedCampaigns = await redis.smembers(keys.campaigns());
  const all = [...new Set([...batchCampaigns, ...speedCampaigns])].sort();
  const [speed, batch] = await Promise.all([
    readSide(redis, all, (c) => keys.speedMetrics(c, hour), keys.speedAttribution(reconciledModel, hour), keys.speedQuality(hour)),
    readSide(redis, batchCampaigns, (c) => keys.batchMetrics(c, hour, version), keys.batchAttribution(reconciledModel, hour, version), keys.batchQuality(hour, version)),
  ]);
  const campaigns = new Set([...speed.totals.keys(), ...batch.totals.keys(), ...speed.quality.keys(), ...batch.quality.keys()]);
  const changes: CampaignChange[] = [];
  for (const campaign of [...campaigns].sort()) {
    const s = speed.totals.get(campaign) ?? emptyTotals();
    const b = batch.totals.get(campaign) ?? emptyTotals();
    const diff = emptyTotals();
    for (const k of Object.keys(diff) as (keyof CampaignTotals)[]) diff[k] = round(b[k] - s[k]);
    const sq = speed.quality.get(campaign) ?? new Map<string, number>();
    const bq = batch.quality.get(campaign) ?? new Map<string, number>();
    let late = 0;
    const invalid: Record<string, { speed: number; batch: number }> = {};
    for (const [cause, n] of sq) {
      if (cause.startsWith('late')) late += n;
      if (cause.startsWith('invalid:')) (invalid[cause.slice(8)] ??= { speed: 0, batch: 0 }).speed += n;
    }
    for (const [cause, n] of bq) if (cause.startsWith('invalid:')) (invalid[cause.slice(8)] ??= { speed: 0, batch: 0 }).batch += n;
    changes.push({
      campaign_id: campaign,
      hour,
      version,
      speed: s,
      batch: b,
      diff,
      causes: {
        late,
        duplicates: { speed: sq.get('duplicates') ?? 0, batch: bq.get('duplicates') ?? 0 },
        invalid,
        shapley_version: { batch: shapleyVersion },
      },
    });
  }
  const key = keys.batchChanges(hour, version);
  const commands: RedisCommand[] = [['DEL', key]];
  for (const c of changes) commands.push(['HSET', key, c.campaign_id, JSON.stringify(c)]);
  if (changes.length > 0) commands.push(['EXPIRE', key, ttlSeconds]);
  return { commands, changes };
}

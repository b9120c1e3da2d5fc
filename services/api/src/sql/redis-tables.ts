import { ReadLimitError } from '@sigflow/store';
import { parseBatchHourEntry } from '@sigflow/store/batch';
import { readSegmentDefinitions, readSegmentSizes } from '@sigflow/store/segments-alerts';
import type { TimeRange } from '@sigflow/store/views';
import type { ReconciliationRow } from '@sigflow/serving';
import type { ApiContext } from '../context.js';
import { BadParameterError } from '../errors.js';
import { reconciliation } from '../views/analytics-queries.js';
import { sqlTable } from './sql-catalogue.js';
import type { RedisTableRow, RedisTableRows } from './redis-table-rows.js';

/** What the Redis tables of a query cover: the request's range and attribution model. */
export interface RedisTableScope {
  readonly range: TimeRange;
  readonly model: string;
}

type Named = Record<string, string | number | boolean | null>;

/** A row in the catalogue's column order. */
function inColumns(table: string, named: Named): RedisTableRow {
  return (sqlTable(table)?.columns ?? []).map((c) => named[c.name] ?? null);
}

/** Every hour the batch layer computed (the `batchHours` hash, one field per hour). */
async function batchHours(ctx: ApiContext): Promise<RedisTableRow[]> {
  const hash = await ctx.redis.hgetall(ctx.keys.batchHours());
  const rows: RedisTableRow[] = [];
  for (const [hour, json] of Object.entries(hash).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const e = parseBatchHourEntry(json);
    if (!e) continue;
    rows.push(
      inColumns('batch_hours', {
        hour_start: Number(hour),
        version: e.version,
        computed_at: e.computedAt,
        as_of: e.asOf,
        rows: e.rows,
        duplicates: e.duplicates,
        shapley_version: e.shapleyVersion,
        markov_version: e.markovVersion,
        isbot_version: e.isbotVersion,
        computed_by: e.computedBy,
      }),
    );
  }
  return rows;
}

const sum = (counts: Record<string, number> | null) => (counts === null ? null : Object.values(counts).reduce((a, b) => a + b, 0));

/** GET /v1/reconciliation's rows (the same function), one per hour and campaign, flattened. */
function reconciliationRow(r: ReconciliationRow, model: string): RedisTableRow {
  const named: Named = {
    hour_start: r.hourStart,
    campaign_id: r.campaignId,
    model,
    batch_version: r.batchVersion,
    batch_computed_at: r.batchComputedAt,
    authoritative: r.authoritative,
    late_events: sum(r.causes.late),
    duplicates_speed: r.causes.duplicates.speed,
    duplicates_batch: r.causes.duplicates.batch,
    signals_corrected: sum(r.causes.signalsCorrected),
    causes: JSON.stringify(r.causes.named),
  };
  const compared = { impressions: r.impressions, clicks: r.clicks, invalid_impressions: r.invalidImpressions, invalid_clicks: r.invalidClicks, conversions: r.conversions, revenue: r.revenue };
  for (const [name, c] of Object.entries(compared)) Object.assign(named, { [`${name}_speed`]: c.speed, [`${name}_batch`]: c.batch, [`${name}_diff`]: c.diff });
  return inColumns('reconciliation', named);
}

/** Every segment's size per window over the range (GET /v1/segments/:name/size per minute). */
async function segmentSizes(ctx: ApiContext, range: TimeRange): Promise<RedisTableRow[]> {
  const windowMs = ctx.config.rules.windowMs;
  const whole = { from: Math.floor(range.from / windowMs) * windowMs, to: Math.ceil(range.to / windowMs) * windowMs };
  const { definitions } = await readSegmentDefinitions(ctx.redis, ctx.keys);
  const rows: RedisTableRow[] = [];
  for (const d of definitions) {
    const query = { segmentId: d.id, ...whole, windowMs, partitions: ctx.config.kafka.eventPartitions, maxKeys: 2 * ctx.maxCampaignHours };
    const { windows } = await readSegmentSizes(ctx.analyticsRedis, ctx.keys, query).catch((err: unknown) => {
      throw err instanceof ReadLimitError ? new BadParameterError('from', `segment_sizes: ${err.message}`) : err;
    });
    for (const w of windows) {
      rows.push(inColumns('segment_sizes', { segment: d.name, segment_version: d.version, window_start: w.windowStart, size: w.size, entered: w.entered, exited: w.left, source: w.source }));
    }
  }
  return rows;
}

/** The rows of the Redis tables `names` (those a query reads), for the scope of its request. */
export async function readRedisTables(ctx: ApiContext, names: readonly string[], scope: RedisTableScope): Promise<RedisTableRows> {
  const rows: Record<string, RedisTableRow[]> = {};
  for (const name of names) {
    if (name === 'batch_hours') rows[name] = await batchHours(ctx);
    else if (name === 'reconciliation') rows[name] = (await reconciliation(ctx, scope.range, null, scope.model)).rows.map((r) => reconciliationRow(r, scope.model));
    else if (name === 'segment_sizes') rows[name] = await segmentSizes(ctx, scope.range);
  }
  return rows;
}

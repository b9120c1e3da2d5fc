import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { hourPartitionPath, publishFile, type StagingArea } from '@sigflow/archive';
import { fieldParts } from '@sigflow/store';
import type { HourViews } from './hour-views.js';

type Cell = string | number;
interface ViewTable {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: 'VARCHAR' | 'BIGINT' | 'DOUBLE' }[];
  readonly rows: readonly Cell[][];
}

/** The folder of one view of one hour: `views/<view>/dt=YYYY-MM-DD/hr=HH`. */
export function viewFolder(root: string, view: string, hourStart: number): string {
  return path.join(root, 'views', view, hourPartitionPath(hourStart));
}

function tablesOf(views: HourViews, version: string): ViewTable[] {
  const d = views.deltas;
  return [
    {
      name: 'window_metrics',
      columns: [
        { name: 'window_start', type: 'BIGINT' },
        { name: 'campaign_id', type: 'VARCHAR' },
        { name: 'ad_id', type: 'VARCHAR' },
        { name: 'impressions', type: 'BIGINT' },
        { name: 'clicks', type: 'BIGINT' },
        { name: 'invalid_impressions', type: 'BIGINT' },
        { name: 'invalid_clicks', type: 'BIGINT' },
        { name: 'version', type: 'VARCHAR' },
      ],
      rows: d.windowMetrics.map((m) => [m.windowStart, m.campaign_id, m.ad_id, m.impressions, m.clicks, m.invalidImpressions, m.invalidClicks, version]),
    },
    {
      name: 'channel_spend',
      columns: [
        { name: 'window_start', type: 'BIGINT' },
        { name: 'campaign_id', type: 'VARCHAR' },
        { name: 'channel', type: 'VARCHAR' },
        { name: 'spend_micros', type: 'BIGINT' },
        { name: 'invalid_spend_micros', type: 'BIGINT' },
        { name: 'clicks', type: 'BIGINT' },
        { name: 'version', type: 'VARCHAR' },
      ],
      rows: d.spend.map((m) => [m.windowStart, m.campaign_id, m.channel, m.spend, m.invalidSpend, m.clicks, version]),
    },
    {
      name: 'attribution',
      columns: [
        { name: 'window_start', type: 'BIGINT' },
        { name: 'model', type: 'VARCHAR' },
        { name: 'campaign_id', type: 'VARCHAR' },
        { name: 'channel', type: 'VARCHAR' },
        { name: 'conversions', type: 'DOUBLE' },
        { name: 'revenue', type: 'DOUBLE' },
        { name: 'version', type: 'VARCHAR' },
      ],
      rows: d.attribution.map((a) => [a.windowStart, a.model, a.campaign_id, a.channel, a.conversions, a.revenue, version]),
    },
    {
      name: 'heatmap',
      columns: [
        { name: 'page_id', type: 'VARCHAR' },
        { name: 'window_start', type: 'BIGINT' },
        { name: 'element_id', type: 'VARCHAR' },
        { name: 'clicks', type: 'BIGINT' },
        { name: 'version', type: 'VARCHAR' },
      ],
      rows: d.heatmap.map((h) => [h.page_id, h.windowStart, h.element_id, h.clicks, version]),
    },
    {
      name: 'page_activity',
      columns: [
        { name: 'page_id', type: 'VARCHAR' },
        { name: 'window_start', type: 'BIGINT' },
        { name: 'metric', type: 'VARCHAR' },
        { name: 'key', type: 'VARCHAR' },
        { name: 'detail', type: 'VARCHAR' },
        { name: 'events', type: 'BIGINT' },
        { name: 'version', type: 'VARCHAR' },
      ],
      // metric view | scroll (key = depth) | form (key = form id, detail = action) | mouse (key = cell x, detail = cell y).
      rows: d.pageActivity.map((a) => [a.page_id, a.windowStart, a.metric[0], String(a.metric[1] ?? ''), String(a.metric[2] ?? ''), a.count, version]),
    },
    {
      name: 'quality',
      columns: [
        { name: 'campaign_id', type: 'VARCHAR' },
        { name: 'cause', type: 'VARCHAR' },
        { name: 'events', type: 'BIGINT' },
        { name: 'version', type: 'VARCHAR' },
      ],
      rows: [...views.quality].map(([f, n]) => {
        const [campaign, cause] = fieldParts(f);
        return [campaign ?? '', cause ?? '', n, version];
      }),
    },
  ];
}

/**
 * Writes one hour's batch views as Parquet for analysts, one file per view and hour
 * (`views/<view>/dt=.../hr=.../data.parquet`), each staged and renamed over the previous
 * version, so a glob over `views/<view>/**` always reads exactly the serving versions.
 */
export async function writeViewParquet(
  conn: DuckDBConnection,
  staging: StagingArea,
  root: string,
  views: HourViews,
  version: string,
): Promise<string[]> {
  const written: string[] = [];
  for (const table of tablesOf(views, version)) {
    const temp = `view_${table.name}`;
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${temp} (${table.columns.map((c) => `${c.name} ${c.type}`).join(', ')})`);
    const appender = await conn.createAppender(temp, 'main', 'temp');
    try {
      for (const row of table.rows) {
        table.columns.forEach((c, i) => {
          const v = row[i] as Cell;
          if (c.type === 'VARCHAR') appender.appendVarchar(String(v));
          else if (c.type === 'BIGINT') appender.appendBigInt(BigInt(v));
          else appender.appendDouble(Number(v));
        });
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    const staged = staging.tempPath();
    await conn.run(`COPY (SELECT * FROM ${temp}) TO $path (FORMAT parquet, COMPRESSION zstd)`, { path: staged });
    const final = path.join(viewFolder(root, table.name, views.hourStart), 'data.parquet');
    await publishFile(staged, final);
    await conn.run(`DROP TABLE ${temp}`);
    written.push(final);
  }
  return written;
}

import path from 'node:path';
import { DOUBLE, DuckDBDataChunk, LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { hourFolderKey, hourPartitionPath, type ArchiveStorage, type StagingArea } from '@sigflow/archive';
import { fieldParts } from '@sigflow/store';
import type { HourViews } from './hour-views.js';

type Cell = string | number;
interface ViewColumn {
  readonly name: string;
  readonly type: 'VARCHAR' | 'BIGINT' | 'DOUBLE';
}
/** One view's rows; every file also has a last column `version` (VARCHAR), the version's id. */
interface ViewTable {
  readonly name: string;
  readonly columns: readonly ViewColumn[];
  readonly rows: readonly Cell[][];
}

/** The folder of one view of one hour: `views/<view>/dt=YYYY-MM-DD/hr=HH`. */
export function viewFolder(root: string, view: string, hourStart: number): string {
  return path.join(root, 'views', view, hourPartitionPath(hourStart));
}

function tablesOf(views: HourViews): ViewTable[] {
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
      ],
      rows: d.windowMetrics.map((m) => [m.windowStart, m.campaign_id, m.ad_id, m.impressions, m.clicks, m.invalidImpressions, m.invalidClicks]),
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
      ],
      rows: d.spend.map((m) => [m.windowStart, m.campaign_id, m.channel, m.spend, m.invalidSpend, m.clicks]),
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
      ],
      rows: d.attribution.map((a) => [a.windowStart, a.model, a.campaign_id, a.channel, a.conversions, a.revenue]),
    },
    {
      name: 'heatmap',
      columns: [
        { name: 'page_id', type: 'VARCHAR' },
        { name: 'window_start', type: 'BIGINT' },
        { name: 'element_id', type: 'VARCHAR' },
        { name: 'clicks', type: 'BIGINT' },
      ],
      rows: d.heatmap.map((h) => [h.page_id, h.windowStart, h.element_id, h.clicks]),
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
      ],
      // metric view | scroll (key = depth) | form (key = form id, detail = action) | mouse (key = cell x, detail = cell y).
      rows: d.pageActivity.map((a) => [a.page_id, a.windowStart, a.metric[0], String(a.metric[1] ?? ''), String(a.metric[2] ?? ''), a.count]),
    },
    {
      name: 'quality',
      columns: [
        { name: 'campaign_id', type: 'VARCHAR' },
        { name: 'cause', type: 'VARCHAR' },
        { name: 'events', type: 'BIGINT' },
      ],
      rows: [...views.quality].map(([f, n]) => {
        const [campaign, cause] = fieldParts(f);
        return [campaign ?? '', cause ?? '', n];
      }),
    },
  ];
}

/**
 * Loads a table's rows into temp table `temp` and returns the select list that gives them back with
 * their types. Every column goes in as DOUBLE, a whole chunk at a time (numbers are copied as
 * one buffer): strings as codes into a dictionary per column that the list looks up, so
 * nothing crosses into DuckDB one value at a time (the appender's call per value and per row
 * was most of the writer's time). Counts and micros are integers below 2^53, exact in a double.
 */
async function loadCoded(conn: DuckDBConnection, temp: string, table: ViewTable): Promise<{ decodedColumns: string; params: Record<string, ReturnType<typeof listValue>> }> {
  const { columns, rows } = table;
  const dictionaries = columns.map((c) => (c.type === 'VARCHAR' ? new Map<string, number>() : null));
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${temp} (${columns.map((c) => `${c.name} DOUBLE`).join(', ')})`);
  const appender = await conn.createAppender(temp, 'main', 'temp');
  try {
    const size = 2048;
    // One chunk refilled for the whole table: each chunk holds native memory until V8 collects
    // its wrapper, which V8 does not count (a chunk per 2,048 rows raised the peak RSS).
    const chunk = DuckDBDataChunk.create(columns.map(() => DOUBLE));
    for (let at = 0; at < rows.length; at += size) {
      const n = Math.min(size, rows.length - at);
      chunk.reset();
      chunk.rowCount = n;
      columns.forEach((_, c) => {
        const dictionary = dictionaries[c];
        const values = new Array<number>(n);
        for (let i = 0; i < n; i++) {
          const v = (rows[at + i] as Cell[])[c] as Cell;
          if (!dictionary) values[i] = Number(v);
          else {
            let code = dictionary.get(String(v));
            if (code === undefined) dictionary.set(String(v), (code = dictionary.size));
            values[i] = code;
          }
        }
        chunk.setColumnValues(c, values);
      });
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  const params: Record<string, ReturnType<typeof listValue>> = {};
  const decoded = columns.map((c, i) => {
    const dictionary = dictionaries[i];
    if (!dictionary) return c.type === 'BIGINT' ? `${c.name}::BIGINT AS ${c.name}` : c.name;
    params[`d${i}`] = listValue([...dictionary.keys()]);
    // DuckDB lists count from 1.
    return `$d${i}[${c.name}::INTEGER + 1] AS ${c.name}`;
  });
  return { decodedColumns: decoded.join(', '), params };
}

/**
 * Writes one hour's batch views as Parquet for analysts, one file per view and hour
 * (`views/<view>/dt=.../hr=.../data.parquet`), each staged and published whole over the previous
 * version, so a glob over `views/<view>/**` always reads exactly the serving versions.
 */
export async function writeViewParquet(
  conn: DuckDBConnection,
  staging: StagingArea,
  archive: ArchiveStorage,
  views: HourViews,
  version: string,
): Promise<string[]> {
  const written: string[] = [];
  for (const table of tablesOf(views)) {
    const temp = `view_${table.name}`;
    const { decodedColumns, params } = await loadCoded(conn, temp, table);
    const staged = staging.tempPath();
    const types = Object.fromEntries(Object.keys(params).map((k) => [k, LIST(VARCHAR)]));
    await conn.run(
      `COPY (SELECT ${decodedColumns}, $version::VARCHAR AS version FROM ${temp}) TO $path (FORMAT parquet, COMPRESSION zstd)`,
      { ...params, version, path: staged },
      types,
    );
    const file = await archive.publish({ staged, name: 'data.parquet' }, hourFolderKey(`views/${table.name}`, views.hourStart), 'overwrite');
    await conn.run(`DROP TABLE ${temp}`);
    written.push(archive.locationOf(file));
  }
  return written;
}

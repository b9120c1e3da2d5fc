import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArchiveStorage, StagingArea } from '@sigflow/archive';
import { DuckDBSession } from '../src/duckdb-session.js';
import type { HourViews } from '../src/hour-views.js';
import { viewFolder, writeViewParquet } from '../src/view-parquet.js';

const H = Date.UTC(2026, 10, 20, 10);
const W = H + 60_000;
// Strings a dictionary must keep apart and intact: spaces, quotes, non-ASCII, empty, look-alike numbers.
const odd = 'c "ü€" 1';

const views: HourViews = {
  hourStart: H,
  deltas: {
    windowMetrics: [
      { windowStart: H, campaign_id: 'c1', ad_id: 'a1', impressions: 3, clicks: 1, invalidImpressions: 0, invalidClicks: 2 },
      { windowStart: W, campaign_id: odd, ad_id: '', impressions: 2 ** 40, clicks: 0, invalidImpressions: 5, invalidClicks: 0 },
      { windowStart: W, campaign_id: 'c1', ad_id: 'a2', impressions: 1, clicks: 1, invalidImpressions: 0, invalidClicks: 0 },
    ],
    spend: [{ windowStart: H, campaign_id: 'c1', channel: 'search', spend: 4_000_000_000_123, invalidSpend: 7, clicks: 1 }],
    attribution: [
      { windowStart: H, model: 'linear', campaign_id: 'c1', channel: 'search', conversions: 1 / 3, revenue: 12.5 },
      { windowStart: H, model: 'shapley', campaign_id: 'c1', channel: '1', conversions: 0.1 + 0.2, revenue: 0 },
    ],
    heatmap: [{ page_id: 'p1', windowStart: W, element_id: 'buy', clicks: 9 }],
    pageActivity: [
      { page_id: 'p1', windowStart: H, metric: ['view'], count: 4 },
      { page_id: 'p1', windowStart: H, metric: ['scroll', 75], count: 2 },
      { page_id: odd, windowStart: W, metric: ['form', 'signup', 'submit'], count: 1 },
      { page_id: 'p1', windowStart: W, metric: ['mouse', 12, 0], count: 3 },
    ],
    invalidTraffic: [],
    eventCounts: [],
    counts: { events: 0, duplicates: 0, late: 0, invalid: 0 },
  },
  quality: new Map([
    ['c1\tduplicates', 4],
    [`${odd}\tinvalid:bot`, 1],
  ]),
};

describe('writeViewParquet', () => {
  let dir: string;
  let session: DuckDBSession;
  let staging: StagingArea;
  const version = 'v1-abc';
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-view-parquet-'));
    session = await DuckDBSession.open({ threads: 1 });
    staging = await StagingArea.open(dir);
    await writeViewParquet(session.connection, staging, new LocalArchiveStorage(dir), views, version);
  });
  afterAll(async () => {
    await staging.close();
    session.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const read = async (view: string) => {
    const file = path.join(viewFolder(dir, view, H), 'data.parquet');
    const conn = session.connection;
    const types = (await conn.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($f, hive_partitioning = false)', { f: file })).getRows().map((r) => `${r[0]} ${r[1]}`);
    const rows = (await conn.runAndReadAll('SELECT * FROM read_parquet($f, hive_partitioning = false)', { f: file })).getRowsJS();
    // Row order in the file is not part of the format: compare sorted.
    return { types, rows: rows.map((r) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).sort() };
  };
  const expected = (rows: unknown[][]) => rows.map((r) => JSON.stringify([...r, version], (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).sort();

  it('window metrics: every row and type, integers beyond 32 bits exact, odd strings intact', async () => {
    expect(await read('window_metrics')).toEqual({
      types: ['window_start BIGINT', 'campaign_id VARCHAR', 'ad_id VARCHAR', 'impressions BIGINT', 'clicks BIGINT', 'invalid_impressions BIGINT', 'invalid_clicks BIGINT', 'version VARCHAR'],
      rows: expected([
        [BigInt(H), 'c1', 'a1', 3n, 1n, 0n, 2n],
        [BigInt(W), odd, '', 2n ** 40n, 0n, 5n, 0n],
        [BigInt(W), 'c1', 'a2', 1n, 1n, 0n, 0n],
      ]),
    });
  });

  it('spend, attribution (doubles to the last bit), heatmap', async () => {
    expect(await read('channel_spend')).toEqual({
      types: ['window_start BIGINT', 'campaign_id VARCHAR', 'channel VARCHAR', 'spend_micros BIGINT', 'invalid_spend_micros BIGINT', 'clicks BIGINT', 'version VARCHAR'],
      rows: expected([[BigInt(H), 'c1', 'search', 4_000_000_000_123n, 7n, 1n]]),
    });
    expect(await read('attribution')).toEqual({
      types: ['window_start BIGINT', 'model VARCHAR', 'campaign_id VARCHAR', 'channel VARCHAR', 'conversions DOUBLE', 'revenue DOUBLE', 'version VARCHAR'],
      rows: expected([
        [BigInt(H), 'linear', 'c1', 'search', 1 / 3, 12.5],
        [BigInt(H), 'shapley', 'c1', '1', 0.1 + 0.2, 0],
      ]),
    });
    expect(await read('heatmap')).toEqual({
      types: ['page_id VARCHAR', 'window_start BIGINT', 'element_id VARCHAR', 'clicks BIGINT', 'version VARCHAR'],
      rows: expected([['p1', BigInt(W), 'buy', 9n]]),
    });
  });

  it('page activity (metric, key, detail as strings) and quality', async () => {
    expect(await read('page_activity')).toEqual({
      types: ['page_id VARCHAR', 'window_start BIGINT', 'metric VARCHAR', 'key VARCHAR', 'detail VARCHAR', 'events BIGINT', 'version VARCHAR'],
      rows: expected([
        ['p1', BigInt(H), 'view', '', '', 4n],
        ['p1', BigInt(H), 'scroll', '75', '', 2n],
        [odd, BigInt(W), 'form', 'signup', 'submit', 1n],
        ['p1', BigInt(W), 'mouse', '12', '0', 3n],
      ]),
    });
    expect(await read('quality')).toEqual({
      types: ['campaign_id VARCHAR', 'cause VARCHAR', 'events BIGINT', 'version VARCHAR'],
      rows: expected([
        ['c1', 'duplicates', 4n],
        [odd, 'invalid:bot', 1n],
      ]),
    });
  });

  it('an hour without rows: every view an empty file with its columns', async () => {
    const empty: HourViews = {
      hourStart: H + 3_600_000,
      deltas: { windowMetrics: [], spend: [], attribution: [], heatmap: [], pageActivity: [], invalidTraffic: [], eventCounts: [], counts: { events: 0, duplicates: 0, late: 0, invalid: 0 } },
      quality: new Map(),
    };
    const files = await writeViewParquet(session.connection, staging, new LocalArchiveStorage(dir), empty, version);
    expect(files.map((f) => path.relative(dir, f).split(path.sep)[1])).toEqual(['window_metrics', 'channel_spend', 'attribution', 'heatmap', 'page_activity', 'quality']);
    for (const f of files) {
      const count = (await session.connection.runAndReadAll('SELECT count(*)::INTEGER FROM read_parquet($f, hive_partitioning = false)', { f })).getRowsJS();
      expect(count).toEqual([[0]]);
    }
    const columns = (await session.connection.runAndReadAll('DESCRIBE SELECT * FROM read_parquet($f, hive_partitioning = false)', { f: files[4] as string })).getRows();
    expect(columns.map((r) => r[0])).toEqual(['page_id', 'window_start', 'metric', 'key', 'detail', 'events', 'version']);
  });
});

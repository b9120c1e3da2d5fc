// POST /v1/sql and GET /v1/sql/tables through HTTP (fastify inject) over a real Redis, a real
// archive written by the archiver's own writer, batch view and verdict files in the batch
// layer's layout, and real sandbox worker processes: every catalogue table answers what was
// written (hand-computed here), a filter on hour_start reads only that hour's files, and the
// four formats carry the same rows (Parquet read back by DuckDB, Arrow IPC by a reader written
// from the format's specification).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { ArchiveWriter, hourPartitionPath } from '@sigflow/archive';
import type { ReceivedEvent } from '@sigflow/events';
import { batchKeyspace, speedKeyspace } from '@sigflow/store/batch';
import { deltas, HOUR, keysByRole, minuteMetrics, setBatchHour, startTestApi, testConfig, writeViews, type TestApi } from './helpers.js';
import { readArrowStream } from './arrow-stream-reader.js';

const H0 = Date.UTC(2026, 10, 20, 10);
const H1 = H0 + HOUR;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const touch = (id: string, type: 'impression' | 'click', user: string, campaign: string, ts: number): ReceivedEvent => ({ event_id: id, type, user_id: user, ts, received_at: ts + 100, campaign_id: campaign, ad_id: `${campaign}-ad`, channel: 'search', user_agent: UA });

/** The archive, by hand: hour H0 in partition 0 (e2 twice: a copy resent later), hour H1 in partition 1. */
const h0: ReceivedEvent[] = [
  touch('e1', 'impression', 'u1', 'c1', H0 + 1_000),
  touch('e2', 'click', 'u1', 'c1', H0 + 5_000),
  { ...touch('e2', 'click', 'u1', 'c1', H0 + 5_000), received_at: H0 + 9_000 },
  touch('e3', 'impression', 'u2', 'c2', H0 + 60_000),
  { event_id: 'e4', type: 'page_view', user_id: 'u1', ts: H0 + 120_000, received_at: H0 + 120_050, page_id: 'home' },
];
const h1: ReceivedEvent[] = [touch('e5', 'impression', 'u3', 'c1', H1 + 1_000), { event_id: 'e6', type: 'conversion', user_id: 'u3', ts: H1 + 2_000, received_at: H1 + 2_100, value: 10, currency: 'EUR' }];

interface JsonAnswer {
  columns: { name: string; type: string }[];
  rowCount: number;
  stats: { rowsScanned: number; filesRead: number; seconds: number };
  rows: unknown[][];
}

describe('SQL tables over the archive, the batch views and Redis', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-sql-tables-'));
  let api: TestApi;

  const sql = (sqlText: string, extra: Record<string, unknown> = {}, accept?: string, key: string = keysByRole.analyst) =>
    api.app.inject({ method: 'POST', url: '/v1/sql', headers: { 'x-api-key': key, ...(accept ? { accept } : {}) }, payload: { sql: sqlText, ...extra } });
  const rows = async (sqlText: string, extra: Record<string, unknown> = {}) => {
    const res = await sql(sqlText, extra);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as JsonAnswer;
  };

  beforeAll(async () => {
    api = await startTestApi(testConfig({ SIGFLOW_ARCHIVE_DIR: dir, SIGFLOW_SQL_WORKERS: '1', SIGFLOW_SQL_THREADS: '1' }));
    const writer = await ArchiveWriter.open({ root: dir });
    await writer.write(h0.map((event, i) => ({ event, partition: 0, offset: String(i) })));
    await writer.write(h1.map((event, i) => ({ event, partition: 1, offset: String(i) })));
    await writer.close();
    // The batch layer's files of hour H0, as jobs/batch writes them: verdicts of the serving
    // version vA and of an older version vOld (not serving: never read), and one view.
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const verdicts = path.join(dir, 'verdicts', hourPartitionPath(H0));
    fs.mkdirSync(verdicts, { recursive: true });
    const verdictRows = (e1: boolean) =>
      `SELECT * FROM (VALUES ('e1', 'impression', 'u1', ${H0 + 1_000}::BIGINT, 'c1', 'c1-ad', 'search', ${e1}), ('e2', 'click', 'u1', ${H0 + 5_000}::BIGINT, 'c1', 'c1-ad', 'search', false), ('e3', 'impression', 'u2', ${H0 + 60_000}::BIGINT, 'c2', 'c2-ad', 'search', true)) t(event_id, type, user_id, ts, campaign_id, ad_id, channel, valid)`;
    await conn.run(`COPY (${verdictRows(true)}) TO '${path.join(verdicts, 'vA.abc123.parquet')}' (FORMAT parquet)`);
    await conn.run(`COPY (${verdictRows(false)}) TO '${path.join(verdicts, 'vOld.abc123.parquet')}' (FORMAT parquet)`);
    const view = path.join(dir, 'views', 'window_metrics', hourPartitionPath(H0));
    fs.mkdirSync(view, { recursive: true });
    await conn.run(
      `COPY (SELECT * FROM (VALUES (${H0}::BIGINT, 'c1', 'c1-ad', 1::BIGINT, 0::BIGINT, 0::BIGINT, 0::BIGINT, 'vA'), (${H0 + 60_000}::BIGINT, 'c1', 'c1-ad', 1::BIGINT, 1::BIGINT, 0::BIGINT, 1::BIGINT, 'vA'), (${H0}::BIGINT, 'c2', 'c2-ad', 4::BIGINT, 1::BIGINT, 0::BIGINT, 0::BIGINT, 'vA'))
              t(window_start, campaign_id, ad_id, impressions, clicks, invalid_impressions, invalid_clicks, version)) TO '${path.join(view, 'data.parquet')}' (FORMAT parquet)`,
    );
    conn.closeSync();
    db.closeSync();
    await setBatchHour(api.redis, api.keys, H0, 'vA');
    await api.redis.sadd(api.keys.campaigns(0), 'c1');
    // Speed and batch views of c1 for reconciliation: real time saw 3 impressions in H0 (batch: 2) and 1 in H1 (no batch).
    await writeViews(api.redis, speedKeyspace(api.keys, 0), deltas({ windowMetrics: [...minuteMetrics('c1', 'c1-ad', H0, H0 + 60_000, { impressions: 3, clicks: 1 }), ...minuteMetrics('c1', 'c1-ad', H1, H1 + 60_000, { impressions: 1 })] }));
    await writeViews(api.redis, batchKeyspace(api.keys, 'vA'), deltas({ windowMetrics: minuteMetrics('c1', 'c1-ad', H0, H0 + 60_000, { impressions: 2, clicks: 1 }) }));
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the catalogue: every table with its columns and the limits', async () => {
    const res = await api.app.inject({ url: '/v1/sql/tables', headers: { 'x-api-key': keysByRole.analyst } });
    expect(res.statusCode).toBe(200);
    const { tables, limits } = res.json() as { tables: { name: string; columns: { name: string }[] }[]; limits: Record<string, number> };
    expect(tables.map((t) => t.name)).toEqual(['events', 'event_verdicts', 'batch_window_metrics', 'batch_channel_spend', 'batch_attribution', 'batch_heatmap', 'batch_page_activity', 'batch_quality', 'batch_hours', 'reconciliation', 'segment_sizes']);
    expect(tables.find((t) => t.name === 'events')?.columns.map((c) => c.name)).toEqual(expect.arrayContaining(['event_id', 'ts', 'kafka_offset', 'cost', 'hour_start']));
    expect(limits).toMatchObject({ maxRows: 100_000, queriesPerKey: 1, workers: 1 });
    // Each table's columns are the catalogue's, in its order, whatever its files hold.
    for (const t of tables) expect((await rows(`SELECT * FROM ${t.name} LIMIT 0`)).columns.map((c) => c.name), t.name).toEqual(t.columns.map((c) => c.name));
  });

  it('events: every archived copy; a filter on hour_start reads that hour only', async () => {
    const all = await rows('SELECT hour_start, count(*) AS copies, count(DISTINCT event_id) AS events FROM events GROUP BY hour_start ORDER BY hour_start');
    expect(all.rows).toEqual([
      [H0, 5, 4],
      [H1, 2, 2],
    ]);
    expect(all.stats).toMatchObject({ rowsScanned: 7, filesRead: 2 });
    const one = await rows(`SELECT event_id, type, kafka_partition, kafka_offset, received_at FROM events WHERE hour_start = ${H1} ORDER BY kafka_offset`);
    expect(one.rows).toEqual([
      ['e5', 'impression', 1, 0, H1 + 1_100],
      ['e6', 'conversion', 1, 1, H1 + 2_100],
    ]);
    expect(one.stats).toMatchObject({ rowsScanned: 2, filesRead: 1 });
    expect(one.columns.map((c) => c.type)).toEqual(['VARCHAR', 'VARCHAR', 'INTEGER', 'BIGINT', 'BIGINT']);
  });

  it("event_verdicts: duplicates by the batch layer's order, verdicts of the serving version only", async () => {
    const answer = await rows('SELECT event_id, hour_start, duplicate, valid, reason, batch_version FROM event_verdicts ORDER BY hour_start, event_id, duplicate');
    expect(answer.rows).toEqual([
      ['e1', H0, false, true, null, 'vA'],
      ['e2', H0, false, false, null, 'vA'],
      ['e2', H0, true, null, null, 'vA'],
      ['e3', H0, false, true, null, 'vA'],
      ['e4', H0, false, null, null, 'vA'],
      ['e5', H1, false, null, null, null],
      ['e6', H1, false, null, null, null],
    ]);
    const copy = await rows("SELECT received_at FROM events WHERE event_id = 'e2' ORDER BY received_at");
    const firstCopy = await rows("SELECT v.kafka_offset FROM event_verdicts v WHERE event_id = 'e2' AND NOT duplicate");
    expect(copy.rows).toEqual([[H0 + 5_100], [H0 + 9_000]]);
    expect(firstCopy.rows).toEqual([[1]]);
  });

  it('batch views as published, and batch_hours', async () => {
    const ctr = await rows('SELECT campaign_id, sum(impressions) AS i, sum(clicks) AS c, sum(invalid_clicks) AS x, any_value(version) AS v, any_value(hour_start) AS h FROM batch_window_metrics GROUP BY ALL ORDER BY 1');
    expect(ctr.rows).toEqual([
      ['c1', 2, 1, 1, 'vA', H0],
      ['c2', 4, 1, 0, 'vA', H0],
    ]);
    expect((await rows('SELECT count(*) FROM batch_attribution')).rows).toEqual([[0]]);
    expect((await rows('SELECT hour_start, version, computed_by FROM batch_hours')).rows).toEqual([[H0, 'vA', 'test']]);
  });

  it('reconciliation: the rows of GET /v1/reconciliation, flattened, for the request range', async () => {
    const range = { from: String(H0), to: String(H0 + 2 * HOUR) };
    const route = (await api.app.inject({ url: `/v1/reconciliation?from=${range.from}&to=${range.to}`, headers: { 'x-api-key': keysByRole.analyst } })).json() as {
      rows: { hourStart: number; campaignId: string; impressions: { speed: number; batch: number | null } }[];
    };
    const answer = await rows('SELECT hour_start, campaign_id, impressions_speed, impressions_batch, impressions_diff, clicks_speed, clicks_batch, clicks_diff, batch_version, model FROM reconciliation ORDER BY 1, 2', range);
    expect(answer.rows).toEqual([
      [H0, 'c1', 3, 2, 1, 1, 1, 0, 'vA', 'last_touch'],
      [H1, 'c1', 1, null, null, 0, null, null, null, 'last_touch'],
    ]);
    expect(route.rows.map((r) => [r.hourStart, r.campaignId, r.impressions.speed, r.impressions.batch])).toEqual(answer.rows.map((r) => r.slice(0, 4)));
    // Outside the range: no rows.
    expect((await rows('SELECT count(*) FROM reconciliation', { from: String(H0 - 5 * HOUR), to: String(H0 - 4 * HOUR) })).rows).toEqual([[0]]);
  });

  it('segment_sizes: each segment per window of the range', async () => {
    const put = await api.app.inject({ method: 'PUT', url: '/v1/segments/flagged-users', headers: { 'x-api-key': keysByRole.ops }, payload: { rule: { all: [{ feature: 'flagged', op: '==', value: true }] } } });
    expect(put.statusCode).toBe(201);
    const answer = await rows('SELECT segment, count(*), min(window_start), max(window_start), sum(size), any_value(source) FROM segment_sizes GROUP BY segment', { from: String(H0), to: String(H1) });
    expect(answer.rows).toEqual([['flagged-users', 60, H0, H1 - 60_000, 0, 'speed']]);
  });

  it('the same rows as CSV, Parquet (read back by DuckDB) and Arrow IPC', async () => {
    const query = "SELECT event_id, kafka_offset, ts, type = 'click' AS is_click, value, campaign_id FROM events ORDER BY hour_start, kafka_offset";
    const expected: [string, number, number, boolean, number | null, string | null][] = [
      ['e1', 0, H0 + 1_000, false, null, 'c1'],
      ['e2', 1, H0 + 5_000, true, null, 'c1'],
      ['e2', 2, H0 + 5_000, true, null, 'c1'],
      ['e3', 3, H0 + 60_000, false, null, 'c2'],
      ['e4', 4, H0 + 120_000, false, null, null],
      ['e5', 0, H1 + 1_000, false, null, 'c1'],
      ['e6', 1, H1 + 2_000, false, 10, null],
    ];
    const csv = await sql(query, {}, 'text/csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['x-sql-rows']).toBe('7');
    expect(csv.body).toBe(['event_id,kafka_offset,ts,is_click,value,campaign_id', ...expected.map((r) => r.map((v) => (v === null ? '' : String(v))).join(','))].join('\r\n') + '\r\n');

    const parquetFile = path.join(dir, 'answer.parquet');
    const pq = await sql(query, {}, 'application/vnd.apache.parquet');
    expect(pq.statusCode).toBe(200);
    expect(pq.headers['content-disposition']).toBe('attachment; filename="sigflow-query.parquet"');
    fs.writeFileSync(parquetFile, pq.rawPayload);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const back = (await conn.runAndReadAll(`SELECT event_id, kafka_offset::DOUBLE, ts::DOUBLE, is_click, value, campaign_id FROM '${parquetFile}'`)).getRows();
    conn.closeSync();
    db.closeSync();
    expect(back).toEqual(expected);

    const arrow = await sql(query, {}, 'application/vnd.apache.arrow.stream');
    expect(arrow.statusCode).toBe(200);
    const stream = readArrowStream(arrow.rawPayload);
    expect(stream.fields).toEqual([
      { name: 'event_id', type: 'utf8' },
      { name: 'kafka_offset', type: 'int64' },
      { name: 'ts', type: 'int64' },
      { name: 'is_click', type: 'bool' },
      { name: 'value', type: 'float64' },
      { name: 'campaign_id', type: 'utf8' },
    ]);
    expect(stream.rows).toEqual(expected.map(([id, offset, ts, click, value, campaign]) => [id, BigInt(offset), BigInt(ts), click, value, campaign]));

    const json = await sql(query, {}, 'application/json');
    expect((json.json() as JsonAnswer).rows).toEqual(expected);
    expect((await sql(query, {}, 'image/png')).statusCode).toBe(406);
  });
});

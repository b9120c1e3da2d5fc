// `npm run bench:sql`: analysts' SQL (POST /v1/sql) over the 10 M-event bench day of bench:batch
// (writeSyntheticDay; BENCH_DAY_DIR keeps it between runs), through a real API process (one
// server process, one sandbox worker of 2 DuckDB threads, the defaults otherwise), timed from
// the request to the answer's last byte:
// - dayGroupBySeconds: a group-by per campaign and hour over the whole day;
// - hourFilterSeconds: the same question over one hour (a filter on hour_start: that hour's files only);
// - rowsPerSecond: the day's rows scanned over dayGroupBySeconds (the target: at least the scan
//   figure of bench:batch, 20 M rows/s with 2 threads); the hour filter's target is under 1 s.
// - batchScanAsSql: bench:batch's own scan query (every column the recompute reads) sent as SQL,
//   the like-for-like comparison with its scan figure.
// Each query runs RUNS times after a warm-up; the figures are medians.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@sigflow/config';
import { createRedis } from '@sigflow/store';
import { DAY_START, writeSyntheticDay } from './batch.bench.mjs';
import { load, startService, stopService } from './lib.mjs';
import { freePort } from '../infra/lib/process.mjs';

const HOUR = 3_600_000;
const RUNS = 5;

const DAY_GROUP_BY = `SELECT campaign_id, hour_start, count(*) AS events, count(*) FILTER (WHERE type = 'click') AS clicks, sum(cost) AS cost
                      FROM events GROUP BY campaign_id, hour_start ORDER BY hour_start, campaign_id`;
const HOUR_FILTER = `SELECT campaign_id, type, count(*) AS events, sum(cost) AS cost
                     FROM events WHERE hour_start = ${DAY_START + 12 * HOUR} GROUP BY campaign_id, type ORDER BY campaign_id, type`;

/** bench:batch's scan (every column the recompute reads, decoded and consumed), as an analyst's query: the same work, through the sandbox. */
const BATCH_SCAN = `SELECT count(*), sum(ts), sum(received_at), sum(kafka_offset), sum(length(event_id)), sum(length(user_id)),
                          sum(length(type)), count(ip), count(user_agent), count(campaign_id), count(ad_id), count(channel),
                          count(page_id), count(element_id), sum(value)
                   FROM events`;

/** One query through the API: wall seconds to the last byte, and the answer's statistics. */
async function timedQuery(url, key, sql) {
  const t = performance.now();
  const res = await fetch(`${url}/v1/sql`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });
  const body = await res.json();
  const seconds = (performance.now() - t) / 1000;
  if (res.status !== 200) throw new Error(`POST /v1/sql answered ${res.status}: ${JSON.stringify(body)}`);
  return { seconds, rowCount: body.rowCount, stats: body.stats };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

async function series(url, key, sql) {
  await timedQuery(url, key, sql);
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await timedQuery(url, key, sql));
  const seconds = median(runs.map((r) => r.seconds));
  return { seconds: round(seconds), workerSeconds: round(median(runs.map((r) => r.stats.seconds))), runsSeconds: runs.map((r) => round(r.seconds)), rows: runs[0].rowCount, rowsScanned: runs[0].stats.rowsScanned, filesRead: runs[0].stats.filesRead };
}

export async function run() {
  const keep = process.env.BENCH_DAY_DIR;
  const reuse = keep !== undefined && fs.existsSync(path.join(keep, 'day.json'));
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-day-'));
  const events = Number(process.env.BENCH_EVENTS ?? 10_000_000);
  const written = reuse ? JSON.parse(fs.readFileSync(path.join(dir, 'day.json'), 'utf8')) : await writeSyntheticDay(dir, events);
  if (keep !== undefined && !reuse) fs.writeFileSync(path.join(dir, 'day.json'), JSON.stringify(written));
  console.log(`bench day: ${written.rows} rows in ${dir}`);
  const key = randomUUID();
  const port = await freePort();
  const env = { SIGFLOW_REDIS_PREFIX: `bench-sql-${key.slice(0, 8)}`, SIGFLOW_ARCHIVE_DIR: dir, SIGFLOW_API_KEYS: `${key}:analyst`, SIGFLOW_API_PROCESSES: '1', SIGFLOW_SQL_WORKERS: '1', SIGFLOW_SQL_THREADS: '2', SIGFLOW_API_PORT: String(port) };
  const url = `http://127.0.0.1:${port}`;
  const loadBefore = load();
  const api = await startService('services/api/dist/main.js', { env, url });
  try {
    const day = await series(url, key, DAY_GROUP_BY);
    console.log(`day group-by per campaign and hour: ${day.seconds} s (worker ${day.workerSeconds} s; ${day.rowsScanned} rows scanned, ${day.filesRead} files, ${day.rows} rows out)`);
    const hour = await series(url, key, HOUR_FILTER);
    console.log(`one-hour filter: ${hour.seconds} s (worker ${hour.workerSeconds} s; ${hour.rowsScanned} rows scanned, ${hour.filesRead} files, ${hour.rows} rows out)`);
    const scan = await series(url, key, BATCH_SCAN);
    console.log(`bench:batch's scan as SQL: ${scan.seconds} s (worker ${scan.workerSeconds} s; ${scan.rowsScanned} rows scanned): ${Math.round(scan.rowsScanned / scan.seconds)} rows/s`);
    const sql = {
      dayGroupBySeconds: day.seconds,
      hourFilterSeconds: hour.seconds,
      rowsPerSecond: Math.round(day.rowsScanned / day.seconds),
      threads: 2,
      archiveRows: written.rows,
      dayGroupBy: day,
      hourFilter: hour,
      batchScanAsSql: { ...scan, rowsPerSecond: Math.round(scan.rowsScanned / scan.seconds) },
      targets: { rowsPerSecond: 20_000_000, hourFilterSeconds: 1 },
    };
    console.log(`sql: ${sql.rowsPerSecond} rows/s over the day (target 20,000,000), hour filter ${sql.hourFilterSeconds} s (target < 1 s)`);
    return { loadBefore, loadAfter: load(), machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30) }, sql };
  } finally {
    await stopService(api);
    const redis = createRedis(loadConfig({ ...process.env, ...env }).redis);
    const keys = await redis.keys(`${env.SIGFLOW_REDIS_PREFIX}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    if (keep === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // The same file `npm run bench sql` writes, without its build and infrastructure step (Redis must run).
  const result = await run();
  const file = path.join(path.dirname(new URL(import.meta.url).pathname), 'results', 'sql.json');
  const machine = { cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version };
  fs.writeFileSync(file, `${JSON.stringify({ bench: 'sql', at: new Date().toISOString(), machine, ...result }, null, 2)}\n`);
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
  process.exit(0);
}

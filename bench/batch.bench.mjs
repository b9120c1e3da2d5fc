// Batch layer: (1) archiver rows/s into Parquet — the writer alone (decode + DuckDB appender +
// COPY zstd + fsync + rename, flushes of 50,000 on 2 write lanes) and end to end from Kafka; (2) recompute of a
// simulated day (default 10 million events, written straight into the archive layout with
// DuckDB) as a `recompute` job on the batch service with its shipped worker processes (then on
// one, for the ratio): wall time and events/s end to end, DuckDB scan rows/s, and the worker
// processes' peak RSS. Targets: archiver >= 200,000 rows/s; recompute >= 200,000 events/s and
// RSS <= 1.5 GB; scan >= 20 million rows/s. (3) The same archiver run and recompute job with the
// archive in S3 (an S3Proxy the bench starts, filesystem backend under var/, on the same cores):
// `archiverS3` and `recomputeS3` beside the local figures, with S3Proxy's CPU. Target: each
// within 25 % of its local figure.
//
//   npm run bench batch                         (BENCH_EVENTS / BENCH_ARCHIVER_EVENTS to resize)
//   node bench/batch.bench.mjs --events 1000000 (a quick run)
//   BENCH_PARTS=recompute,scan (a subset of archiver, scan, recompute; default all)
//   BENCH_RECOMPUTE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (node flags of the batch service's processes)
//   BENCH_RECOMPUTE_ONE_WORKER=0 (skip the run on one worker process)
//   BENCH_S3=0 (skip the runs with the archive in S3Proxy: archiverS3, recomputeS3)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, EventProducer } from '@sigflow/kafka';
import { Archiver } from '@sigflow/archiver';
import { ArchiveWriter, archiveColumns, archiveFileName, compactedFileFormat, hourFolder, openArchiveStorage } from '@sigflow/archive';
import { createLogger, createMetricsRegistry } from '@sigflow/observability';
import { createRedis, StoreKeys } from '@sigflow/store';
import { trainMarkovChain, trainShapleyTable } from '@sigflow/core';
import { bullConnection, bullPrefix, openBatchQueue } from '@sigflow/batch-jobs';
import { QueueEvents } from 'bullmq';
import { execFileSync, spawn } from 'node:child_process';
import { load, nodeArgsFrom, root } from './lib.mjs';
import { serviceNodeArgs } from '../infra/lib/process.mjs';
import { fetchS3ProxyJar, startScratchS3Proxy } from '../infra/s3proxy/s3proxy.mjs';

const HOUR = 3_600_000;
/** The bucket of the bench's S3Proxy. */
const BENCH_BUCKET = 'sigflow-bench';
export const DAY_START = Date.UTC(2026, 10, 18);
const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const BOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const channels = ['search', 'display', 'social', 'video', 'email', 'affiliate'];

function benchEvent(n, ts) {
  const user = `bench-user-${n % 20_000}`;
  const base = { event_id: `w-${n}`, user_id: user, ts, received_at: ts + 120, ip: `10.1.${n % 200}.${n % 7}`, user_agent: CHROME };
  switch (n % 5) {
    case 0:
    case 1:
      return { ...base, type: 'impression', campaign_id: `c-${n % 20}`, ad_id: `a-${n % 100}`, channel: channels[n % 6], placement: 'feed' };
    case 2:
      return { ...base, type: 'click', campaign_id: `c-${n % 20}`, ad_id: `a-${n % 100}`, channel: channels[n % 6] };
    case 3:
      return { ...base, type: 'page_view', page_id: `p-${n % 50}`, attrs: { ref: 'bench' } };
    default:
      return { ...base, type: 'element_click', page_id: `p-${n % 50}`, element_id: `el-${n % 9}` };
  }
}

export async function timed(fn) {
  const t = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t };
}

/**
 * The archive writer alone, from Kafka message bytes: append the raw values, DuckDB parses the
 * JSON into typed columns, COPY zstd per (partition, hour), fsync, rename.
 */
async function archiveWriterBench(events) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-writer-'));
  const flush = 50_000;
  const messages = Array.from({ length: events }, (_, n) => Buffer.from(JSON.stringify(benchEvent(n, DAY_START + 10 * HOUR + n * 3))));
  const writer = await ArchiveWriter.open({ root: dir, threads: 1, lanes: 2 });
  let files = 0;
  const { ms } = await timed(async () => {
    for (let i = 0; i < events; i += flush) {
      const batch = messages.slice(i, i + flush).map((value, k) => ({ value, partition: k % 4, offset: String(i + k) }));
      files += (await writer.writeMessages(batch)).files.length;
    }
  });
  await writer.close();
  const bytes = fs.readdirSync(path.join(dir, 'events'), { recursive: true }).reduce((a, f) => {
    const p = path.join(dir, 'events', f);
    return fs.statSync(p).isFile() ? a + fs.statSync(p).size : a;
  }, 0);
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    events,
    flushEvents: flush,
    duckdbThreads: 1,
    writeLanes: 2,
    files,
    parquetBytesPerRow: Math.round((bytes / events) * 10) / 10,
    seconds: Math.round(ms) / 1000,
    rowsPerSecond: Math.round(events / (ms / 1000)),
    target: 200_000,
  };
}

/**
 * The archiver service in-process, from a topic already holding `events` messages; into the local
 * folder, or with `archiveEnv` (an S3Proxy bucket's settings) into S3.
 */
async function archiverEndToEnd(events, archiveEnv = {}) {
  const id = randomUUID().slice(0, 8);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-archiver-'));
  const config = loadConfig({
    ...process.env,
    SIGFLOW_TOPIC_PREFIX: `bench-${id}-`,
    SIGFLOW_REDIS_PREFIX: `bench-${id}`,
    SIGFLOW_ARCHIVE_DIR: dir,
    SIGFLOW_ARCHIVER_GROUP: `bench-archiver-${id}`,
    SIGFLOW_ARCHIVER_FLUSH_EVENTS: '50000',
    // The last partial flush waits for this; 1 s keeps it from dominating a short run.
    SIGFLOW_ARCHIVER_FLUSH_MS: '1000',
    ...archiveEnv,
  });
  const kafka = createKafka(config.kafka);
  const topics = topicsFor(config.kafka.topicPrefix);
  await ensureTopics(kafka, topics, { eventPartitions: 4 });
  const redis = createRedis(config.redis);
  try {
    const producer = new EventProducer(kafka, topics.events, { idempotent: false, timeoutMs: 60_000, maxQueuedMessages: 2_000_000 });
    await producer.connect();
    const produce = await timed(async () => {
      // 8,000 messages a request: about 2,000 per partition, under the broker's 1 MB batch limit.
      for (let i = 0; i < events; i += 8_000) {
        const batch = [];
        for (let n = i; n < Math.min(events, i + 8_000); n++) {
          const e = benchEvent(n, DAY_START + 10 * HOUR + n * 3);
          batch.push({ key: e.user_id, value: JSON.stringify(e) });
        }
        await producer.send(batch);
      }
    });
    await producer.disconnect();
    const registry = createMetricsRegistry('bench-archiver');
    const logger = createLogger('bench-archiver', 'warn');
    const started = performance.now();
    const archiver = await Archiver.start({ config, redis, logger, registry });
    let firstMessage = 0;
    for (;;) {
      const rows = (await archiver.metrics.rows.get()).values[0]?.value ?? 0;
      const buffered = (await archiver.metrics.buffered.get()).values[0]?.value ?? 0;
      if (!firstMessage && (rows > 0 || buffered > 0)) firstMessage = performance.now();
      if (rows >= events) break;
      if (performance.now() - started > 600_000) throw new Error(`archiver: ${rows} of ${events} after 10 min`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - started;
    const streamingMs = performance.now() - firstMessage;
    const files = (await archiver.metrics.files.get()).values[0]?.value ?? 0;
    await archiver.stop();
    return {
      events,
      produceSeconds: Math.round(produce.ms) / 1000,
      secondsFromStart: Math.round(ms) / 1000,
      secondsFromFirstMessage: Math.round(streamingMs) / 1000,
      rowsPerSecond: Math.round(events / (streamingMs / 1000)),
      rowsPerSecondFromStart: Math.round(events / (ms / 1000)),
      files,
      storage: config.archive.s3 ? 's3' : 'local',
      note: `PartitionConsumer fetch (@platformatic/kafka) -> raw values appended -> DuckDB from_json + COPY zstd per (partition, hour), 2 write lanes -> ${config.archive.s3 ? 'HEAD + PUT into S3Proxy' : 'fsync + rename'} -> Redis dirty marks -> offset commit; from start includes joining the consumer group`,
      target: 200_000,
    };
  } finally {
    await deleteTopics(kafka, Object.values(topics)).catch(() => undefined);
    const keys = await redis.keys(`${config.redis.keyPrefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A simulated day in the archive layout, written with DuckDB: `events` rows (1 % are duplicate
 * copies) of 200 events/user on average, 4 partitions, per (partition, hour) one file named
 * p<partition>-<first>-<last>.parquet, as compaction leaves a sealed hour (sorted by user, ts,
 * event_id; `compactedFileFormat`).
 */
export async function writeSyntheticDay(archiveRoot, events) {
  const db = await DuckDBInstance.create(':memory:', {
    threads: '2',
    preserve_insertion_order: 'false',
    memory_limit: '3GB',
    temp_directory: path.join(os.tmpdir(), 'sigflow-bench-duckdb'),
  });
  const conn = await db.connect();
  const users = Math.max(100, Math.floor(events / 50));
  const unique = Math.floor(events / 1.01);
  const columns = archiveColumns.map((c) => c.name).join(', ');
  await conn.run(`SELECT setseed(0.42)`);
  await conn.run(
    `CREATE TABLE base AS
     WITH r AS (SELECT range AS i, random() AS t, random() AS k, random() AS j FROM range($unique))
     SELECT
       'e' || i AS event_id,
       CASE WHEN t < 0.40 THEN 'impression' WHEN t < 0.50 THEN 'click' WHEN t < 0.52 THEN 'conversion'
            WHEN t < 0.70 THEN 'page_view' WHEN t < 0.80 THEN 'element_click' WHEN t < 0.88 THEN 'scroll'
            ELSE 'mouse_move' END AS type,
       (i % $users) AS u,
       $day + (k * 86399999)::BIGINT AS ts,
       (j * 2000)::BIGINT AS delay,
       i
     FROM r`,
    { unique, users, day: DAY_START },
  );
  await conn.run(
    `CREATE TABLE day AS
     WITH copies AS (
       SELECT *, 0 AS copy FROM base
       UNION ALL SELECT *, 1 AS copy FROM base WHERE i % 100 = 7)
     SELECT
       event_id, type, 'user-' || u AS user_id, ts,
       ts + delay + copy * 1000 AS received_at,
       (hash('user-' || u) % 4)::INTEGER AS kafka_partition,
       CASE WHEN type IN ('impression', 'click') THEN ('10.' || (u % 250) || '.' || (u // 250 % 250) || '.1') END AS ip,
       CASE WHEN u % 100 = 0 THEN $bot ELSE $chrome END AS user_agent,
       CASE WHEN type IN ('page_view', 'element_click', 'scroll', 'mouse_move') THEN 'p' || (i % 50) END AS page_id,
       NULL::VARCHAR AS placement,
       CASE WHEN type IN ('impression', 'click') THEN 'c' || (i % 20) END AS campaign_id,
       CASE WHEN type IN ('impression', 'click') THEN 'a' || (i % 100) END AS ad_id,
       CASE WHEN type IN ('impression', 'click') THEN ['search', 'display', 'social', 'video', 'email', 'affiliate'][(u + i % 3) % 6 + 1] END AS channel,
       CASE WHEN type = 'element_click' THEN 'el' || (i % 10) END AS element_id,
       CASE WHEN type = 'conversion' THEN (i % 100)::DOUBLE END AS value,
       CASE WHEN type = 'conversion' THEN 'EUR' END AS currency,
       NULL::VARCHAR AS form_id, NULL::VARCHAR AS action,
       CASE WHEN type = 'scroll' THEN (i % 101)::DOUBLE END AS depth,
       NULL::VARCHAR AS href,
       CASE WHEN type = 'mouse_move' THEN (i % 1000)::DOUBLE END AS x,
       CASE WHEN type = 'mouse_move' THEN (i % 700)::DOUBLE END AS y,
       NULL::VARCHAR AS attrs,
       NULL::VARCHAR AS ip_key,
       CASE WHEN type IN ('impression', 'click') THEN (i % 40)::BIGINT END AS cost,
       NULL::VARCHAR AS name, NULL::VARCHAR AS name_original, NULL::VARCHAR AS properties, NULL::VARCHAR AS traits,
       NULL::VARCHAR AS previous_id, NULL::VARCHAR AS group_id
     FROM copies`,
    { bot: BOT, chrome: CHROME },
  );
  await conn.run(
    `CREATE TABLE archive AS SELECT *, (row_number() OVER (PARTITION BY kafka_partition ORDER BY received_at, event_id) - 1)::BIGINT AS kafka_offset FROM day`,
  );
  await conn.run('DROP TABLE base');
  await conn.run('DROP TABLE day');
  const rows = Number((await conn.runAndReadAll('SELECT count(*) FROM archive')).getRows()[0][0]);
  for (let h = 0; h < 24; h++) {
    const hour = DAY_START + h * HOUR;
    for (let p = 0; p < 4; p++) {
      const range = (await conn.runAndReadAll(
        'SELECT min(kafka_offset)::VARCHAR, max(kafka_offset)::VARCHAR, count(*)::DOUBLE FROM archive WHERE kafka_partition = $p AND ts >= $from AND ts < $to',
        { p, from: hour, to: hour + HOUR },
      )).getRows()[0];
      if (range[0] === null) continue;
      const file = path.join(hourFolder(archiveRoot, hour), archiveFileName(p, range[0], range[1]));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await conn.run(
        `COPY (SELECT ${columns} FROM archive WHERE kafka_partition = $p AND ts >= $from AND ts < $to ORDER BY user_id, ts, event_id)
         TO $file (${compactedFileFormat(range[2])})`,
        { p, from: hour, to: hour + HOUR, file },
      );
    }
  }
  conn.closeSync();
  db.closeSync();
  return { rows, users };
}

/** Scans per thread count; the figure is their median (one scan of 10 M rows is half a second: a single one swings with the host). */
const SCAN_RUNS = 5;

/** The scan: every column the recompute reads, decoded and consumed (no grouping, no sort). */
const SCAN_QUERY = `SELECT count(*), sum(ts), sum(received_at), sum(kafka_offset), sum(length(event_id)), sum(length(user_id)),
                           sum(length(type)), count(ip), count(user_agent), count(campaign_id), count(ad_id), count(channel),
                           count(page_id), count(element_id), sum(value)
                    FROM read_parquet($glob, hive_partitioning = false)`;

/**
 * A full scan of the day's archive with DuckDB ({@link SCAN_QUERY}), {@link SCAN_RUNS} times in
 * one DuckDB instance of `threads` threads; the median scan is the figure. One more scan runs
 * with DuckDB's profiler: its operators' CPU says what bounds the figure.
 */
async function scanBench(archiveRoot, threads) {
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const conn = await db.connect();
  const glob = path.join(archiveRoot, 'events', '**', '*.parquet');
  const scans = [];
  for (let i = 0; i < SCAN_RUNS; i++) scans.push(await timed(() => conn.runAndReadAll(SCAN_QUERY, { glob })));
  const rows = Number(scans[0].value.getRows()[0][0]);
  const profile = await scanProfile(conn, glob, rows, threads);
  conn.closeSync();
  db.closeSync();
  const ms = scans.map((s) => s.ms).sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  return {
    rows,
    seconds: Math.round(median) / 1000,
    rowsPerSecond: Math.round(rows / (median / 1000)),
    threads,
    runsSeconds: ms.map((m) => Math.round(m) / 1000),
    profile,
    target: 20_000_000,
  };
}

/**
 * One scan under DuckDB's JSON profiler: CPU seconds per operator (summed over threads), the
 * table scan's share (the archive's read and decode) and the rows/s the table scan alone would
 * give on `threads` threads (its CPU spread over them), against the query's other operators
 * (the bench's own projection and aggregates).
 */
async function scanProfile(conn, glob, rows, threads) {
  const file = path.join(os.tmpdir(), `sigflow-scan-profile-${process.pid}.json`);
  await conn.run(`PRAGMA enable_profiling = 'json'`);
  await conn.run(`PRAGMA profiling_output = '${file}'`);
  await conn.runAndReadAll(SCAN_QUERY, { glob });
  await conn.run('PRAGMA disable_profiling');
  const tree = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file, { force: true });
  const cpuSeconds = {};
  const walk = (node) => {
    if (node.operator_type) cpuSeconds[node.operator_type] = Math.round(((cpuSeconds[node.operator_type] ?? 0) + node.operator_timing) * 1000) / 1000;
    (node.children ?? []).forEach(walk);
  };
  walk(tree);
  const total = Object.values(cpuSeconds).reduce((a, b) => a + b, 0);
  const scan = cpuSeconds.TABLE_SCAN ?? 0;
  return {
    operatorCpuSeconds: cpuSeconds,
    tableScanShare: Math.round((scan / total) * 1000) / 1000,
    tableScanRowsPerSecond: scan > 0 ? Math.round(rows / (scan / threads)) : null,
  };
}

/** Publishes attribution models, so every model (Shapley and Markov included) is computed. */
export async function publishBenchModels(redis, keyPrefix) {
  const keys = new StoreKeys(keyPrefix);
  const cs = ['search', 'display', 'social', 'video', 'email', 'affiliate'];
  const users = cs.flatMap((a, i) => cs.slice(i).map((b, j) => ({ channels: [a, b], converted: (i + j) % 3 === 0 })));
  const table = trainShapleyTable(users, 'bench-table');
  await redis.set(keys.shapleyTable(), JSON.stringify(table));
  await redis.set(keys.shapleyVersion(), table.version);
  await redis.set(keys.markovModel(), JSON.stringify({ version: 'bench-markov', from: 0, to: 1, model: trainMarkovChain(users) }));
}

/**
 * Peak resident set (VmHWM) and CPU seconds of a live process, from /proc: its own and that of
 * its children that have exited (a batch worker process replaced after a job to free its memory).
 */
function processStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime, stime, cutime and cstime (fields 14-17 of stat; 12-15 after the command), in clock ticks of 1/100 s.
  const ticks = fields.slice(11, 15).reduce((a, f) => a + Number(f), 0);
  return { pid, peakRssMb: Math.round(hwmKb / 1024), cpuSeconds: ticks / 100 };
}

/** CPU seconds Redis has used so far (user and system), from INFO. */
async function redisCpuSeconds(redis) {
  const info = await redis.info('cpu');
  const value = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return value('used_cpu_user') + value('used_cpu_sys');
}

/** Each process's peak RSS (VmHWM) in the batch service's tree, read every 250 ms until stopped (worker processes come and go). */
function samplePeaks(pid) {
  const byPid = new Map();
  const read = () => {
    for (const p of serviceProcesses(pid)) {
      try {
        byPid.set(p, Math.max(byPid.get(p) ?? 0, processStats(p).peakRssMb));
      } catch {
        // exited between the listing and the read
      }
    }
  };
  const timer = setInterval(read, 250);
  return { byPid, stop: () => clearInterval(timer) };
}

/** The batch service's process and the worker processes it started. */
function serviceProcesses(pid) {
  let children = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    // pgrep exits 1 when the service has no worker process at that moment (one being replaced).
  }
  return [pid, ...children];
}

/**
 * The day's recompute as ops run it: the batch service (`jobs/batch/dist/main.js`, its shipped
 * node flags and `workers` worker processes) takes a `recompute` job of the 24 hours from the
 * queue, which fans out as parts; timed from the enqueue to the job's completion (parts, then the
 * range's segments). Peak RSS and CPU per process from /proc before the service stops.
 */
export async function recomputeJob(redis, env, workers, { before = [] } = {}) {
  const serviceEnv = {
    ...process.env,
    SIGFLOW_LOG_LEVEL: 'warn',
    ...env,
    SIGFLOW_BATCH_WORKERS: String(workers),
    SIGFLOW_BATCH_METRICS_PORT: '0',
    // No scheduled job runs beside the one measured.
    SIGFLOW_BATCH_RECOMPUTE_EVERY: '0 0 1 1 *',
    SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
    SIGFLOW_BATCH_RETENTION_EVERY: '0 0 1 1 *',
  };
  const config = loadConfig(serviceEnv);
  const entry = 'jobs/batch/dist/main.js';
  const nodeArgs = [...serviceNodeArgs(entry), ...nodeArgsFrom('BENCH_RECOMPUTE_NODE_ARGS')];
  const service = spawn(process.execPath, [...nodeArgs, path.join(root, entry)], { cwd: root, env: serviceEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => service.once('exit', resolve));
  const queue = openBatchQueue(config);
  const events = new QueueEvents(config.batch.queueName, { connection: bullConnection(config), prefix: bullPrefix(config) });
  try {
    await events.waitUntilReady();
    for (let i = 0; (await queue.getWorkers()).length < workers; i++) {
      if (i > 600) throw new Error(`the batch service did not start ${workers} workers in 60 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Ranges computed before the measured one (not measured): hours a production batch layer had
    // computed already, so the measured recompute's lookback has their touchpoint verdicts.
    const setup = [];
    for (const range of before) {
      const t0 = performance.now();
      const job = await queue.add('recompute', { ...range, requestedBy: 'bench-setup' });
      const answer = await job.waitUntilFinished(events, 60 * 60_000);
      setup.push({ ...range, seconds: Math.round(performance.now() - t0) / 1000, events: answer.events, passes: answer.passes, passesFromVerdicts: answer.passesFromVerdicts });
    }
    const redisCpu = await redisCpuSeconds(redis);
    const cpuBefore = serviceProcesses(service.pid).map(processStats).reduce((a, p) => a + p.cpuSeconds, 0);
    // The setup's peak is not the measured job's: reset each process's peak RSS (VmHWM).
    if (before.length > 0) for (const pid of serviceProcesses(service.pid)) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const t = performance.now();
    const job = await queue.add('recompute', { from: DAY_START, to: DAY_START + 24 * HOUR, requestedBy: 'bench' });
    const peaks = samplePeaks(service.pid);
    const result = await job.waitUntilFinished(events, 30 * 60_000).finally(peaks.stop);
    const ms = performance.now() - t;
    // The parent's last run: once its parts were done, the range's segments.
    const done = await queue.getJob(job.id);
    result.segmentsMs = done?.finishedOn && done.processedOn ? done.finishedOn - done.processedOn : null;
    const processes = serviceProcesses(service.pid).map(processStats);
    // Worker processes replaced after a job to free their memory: their peaks (their CPU is the service's, as its children's).
    const replacedPeaksMb = [...peaks.byPid].filter(([pid]) => !processes.some((p) => p.pid === pid)).map(([, mb]) => mb);
    return { result, ms, processes, replacedPeaksMb, setup, cpuBeforeSeconds: cpuBefore, redisCpuSeconds: Math.round(((await redisCpuSeconds(redis)) - redisCpu) * 100) / 100 };
  } finally {
    service.kill('SIGTERM');
    await exited;
    await events.close();
    await queue.close();
  }
}

const seconds = (ms) => Math.round(ms ?? 0) / 1000;

/** What a measured `recompute` job ({@link recomputeJob}) of the bench day reports. */
export function recomputeFigures(shipped, { archiveRows, workers, loadBefore, loadAfter }) {
  const r = shipped.result;
  return {
    archiveRows,
    workers,
    parts: r.parts,
    events: r.events,
    duplicates: r.duplicates,
    hours: r.hours,
    rowsRead: r.rowsRead,
    eventsThroughRules: r.eventsProcessed,
    // Passes, and those whose lookback came from touchpoint verdicts instead of the archive.
    passes: r.passes,
    passesFromVerdicts: r.passesFromVerdicts,
    wallSeconds: seconds(shipped.ms),
    eventsPerSecond: Math.round(r.events / (shipped.ms / 1000)),
    // Summed over the parts, which ran side by side on the workers.
    segmentsSeconds: seconds(r.segmentsMs),
    partTimingsSeconds: {
      duckdbReadDedupe: seconds(r.timings.scanMs),
      duckdbIpFloodPass: seconds(r.timings.floodMs),
      duckdbSortByUser: seconds(r.timings.sortMs),
      waitForChunks: seconds(r.timings.waitMs),
      duckdbValuesToJsEvents: seconds(r.timings.convertMs),
      signalCorrections: seconds(r.timings.signalsMs),
      jsRules: seconds(r.timings.rulesJsMs),
      rulesTotal: seconds(r.timings.rulesMs),
      redisAndParquetWrites: seconds(r.timings.writeMs),
    },
    // The largest worker process's peak RSS (each process has its own DuckDB and heap).
    peakRssMb: Math.max(...shipped.processes.map((p) => p.peakRssMb), ...shipped.replacedPeaksMb),
    // Worker processes that exited after a job with their RSS over SIGFLOW_BATCH_WORKER_RECYCLE_MB, and their peaks.
    replacedWorkerPeaksMb: shipped.replacedPeaksMb,
    // CPU of the service's processes (JS and DuckDB threads) for the measured job: the work done, less sensitive to load than wall time.
    cpuSeconds: Math.round((shipped.processes.reduce((a, p) => a + p.cpuSeconds, 0) - (shipped.cpuBeforeSeconds ?? 0)) * 100) / 100,
    processes: shipped.processes.map(({ peakRssMb, cpuSeconds }) => ({ peakRssMb, cpuSeconds })),
    // Redis's CPU meanwhile (the views written; on the same cores).
    redisCpuSeconds: shipped.redisCpuSeconds,
    loadBefore,
    loadAfter,
    target: 200_000,
  };
}

/**
 * The synthetic day put into `bucket` under `prefix` of the bench's S3Proxy, file by file as
 * compaction leaves it (each file copied to a staging path first: a publish takes its file over).
 */
async function uploadDay(dayDir, archiveEnv, hostDir) {
  const config = loadConfig({ ...process.env, ...archiveEnv, SIGFLOW_ARCHIVE_DIR: hostDir });
  const storage = await openArchiveStorage({ dir: hostDir, ...config.archive }, { reads: false });
  const staging = path.join(hostDir, 'upload');
  fs.mkdirSync(staging, { recursive: true });
  let bytes = 0;
  try {
    for (const rel of fs.readdirSync(path.join(dayDir, 'events'), { recursive: true }).map(String).filter((f) => f.endsWith('.parquet')).sort()) {
      const staged = path.join(staging, path.basename(rel));
      fs.copyFileSync(path.join(dayDir, 'events', rel), staged);
      bytes += (await storage.publish({ staged, name: path.basename(rel) }, `events/${path.dirname(rel)}`, 'overwrite')).bytes;
    }
  } finally {
    await storage.close();
  }
  return { bytes };
}

/**
 * The same `recompute` job with the day in S3: a batch service of a host of its own (its own
 * folder and cache, cold), reading the bucket; S3Proxy's CPU for the job is counted beside it.
 */
async function recomputeOnS3(redis, env, s3, dayDir, { rows, workers }) {
  const archiveEnv = s3.archiveEnv(BENCH_BUCKET, 'day/');
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-s3-host-'));
  try {
    const upload = await timed(() => uploadDay(dayDir, archiveEnv, hostDir));
    console.log(`synthetic day put into s3://${BENCH_BUCKET}/day/: ${upload.value.bytes} bytes in ${(upload.ms / 1000).toFixed(1)} s`);
    const loadBefore = load();
    const s3CpuBefore = processStats(s3.pid).cpuSeconds;
    const shipped = await recomputeJob(redis, { ...env, ...archiveEnv, SIGFLOW_ARCHIVE_DIR: hostDir }, workers);
    const figures = recomputeFigures(shipped, { archiveRows: rows, workers, loadBefore, loadAfter: load() });
    return { ...figures, uploadSeconds: seconds(upload.ms), bucketBytes: upload.value.bytes, s3proxyCpuSeconds: Math.round((processStats(s3.pid).cpuSeconds - s3CpuBefore) * 100) / 100, cache: 'cold: every file copied from S3Proxy by the worker that reads it' };
  } finally {
    fs.rmSync(hostDir, { recursive: true, force: true });
  }
}

async function recomputeBench(events, parts, s3) {
  const id = randomUUID().slice(0, 8);
  // BENCH_DAY_DIR keeps the synthetic day between runs (A/B of the same input, no rewrite).
  const keep = process.env.BENCH_DAY_DIR;
  const reuse = keep !== undefined && fs.existsSync(path.join(keep, 'day.json'));
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-day-'));
  const env = {
    SIGFLOW_REDIS_PREFIX: `bench-${id}`,
    // The synthetic day's 4 partitions; topics of its own (none exist: the count is not adopted).
    SIGFLOW_TOPIC_PREFIX: `bench-${id}-`,
    SIGFLOW_EVENT_PARTITIONS: '4',
    SIGFLOW_ARCHIVE_DIR: dir,
    SIGFLOW_BATCH_VIEW_PARQUET: 'true',
    BENCH_FROM: String(DAY_START),
  };
  const redis = createRedis(loadConfig({ ...process.env, ...env }).redis);
  try {
    const written = reuse
      ? { value: JSON.parse(fs.readFileSync(path.join(dir, 'day.json'), 'utf8')), ms: 0 }
      : await timed(() => writeSyntheticDay(dir, events));
    if (keep !== undefined && !reuse) fs.writeFileSync(path.join(dir, 'day.json'), JSON.stringify(written.value));
    console.log(`synthetic day: ${written.value.rows} rows (${written.value.users} users) written in ${(written.ms / 1000).toFixed(1)} s`);
    let scan;
    if (parts.has('scan')) {
      // Per DuckDB thread count; the headline figure is all cores'.
      const byThreads = {};
      for (const threads of [1, 2]) {
        const s = await scanBench(dir, threads);
        byThreads[threads] = s;
        console.log(`scan (${threads} thread${threads > 1 ? 's' : ''}): ${s.rowsPerSecond} rows/s (median of ${s.runsSeconds.length} scans of ${s.rows} rows: ${s.seconds} s); operators' CPU s ${JSON.stringify(s.profile.operatorCpuSeconds)}, table scan alone ${s.profile.tableScanRowsPerSecond} rows/s`);
      }
      const all = byThreads[Math.min(2, os.cpus().length)];
      scan = {
        ...all,
        rowsPerSecondByThreads: { 1: byThreads[1].rowsPerSecond, 2: byThreads[2].rowsPerSecond },
        tableScanRowsPerSecondByThreads: { 1: byThreads[1].profile.tableScanRowsPerSecond, 2: byThreads[2].profile.tableScanRowsPerSecond },
      };
    }
    if (!parts.has('recompute')) return { scan };
    await publishBenchModels(redis, env.SIGFLOW_REDIS_PREFIX);
    const workers = loadConfig({ ...process.env, ...env }).batch.workers;
    const loadBefore = load();
    const shipped = await recomputeJob(redis, env, workers);
    const loadAfter = load();
    const recompute = recomputeFigures(shipped, { archiveRows: written.value.rows, workers, loadBefore, loadAfter });
    const r = shipped.result;
    console.log(
      `recompute: ${recompute.eventsPerSecond} events/s end to end (${recompute.wallSeconds} s, ${workers} worker processes, ${r.parts} parts); peak RSS ${recompute.peakRssMb} MB (per process ${recompute.processes.map((p) => p.peakRssMb).join(', ')}); CPU ${recompute.cpuSeconds} s (Redis ${recompute.redisCpuSeconds} s)`,
    );
    if (workers > 1 && process.env.BENCH_RECOMPUTE_ONE_WORKER !== '0') {
      // The same job on one worker process, in the same run: what the second process brings.
      const one = recomputeFigures(await recomputeJob(redis, env, 1), { archiveRows: written.value.rows, workers: 1, loadBefore: loadAfter, loadAfter: load() });
      recompute.oneWorker = {
        wallSeconds: one.wallSeconds,
        eventsPerSecond: one.eventsPerSecond,
        peakRssMb: one.peakRssMb,
        cpuSeconds: one.cpuSeconds,
        redisCpuSeconds: one.redisCpuSeconds,
        loadAfter: one.loadAfter,
      };
      console.log(`recompute on 1 worker process: ${recompute.oneWorker.eventsPerSecond} events/s (${recompute.oneWorker.wallSeconds} s); peak RSS ${recompute.oneWorker.peakRssMb} MB; CPU ${recompute.oneWorker.cpuSeconds} s`);
    }
    if (!s3) return { scan, recompute };
    const recomputeS3 = await recomputeOnS3(redis, env, s3, dir, { rows: written.value.rows, workers });
    recomputeS3.ofLocal = Math.round((recomputeS3.eventsPerSecond / recompute.eventsPerSecond) * 1000) / 1000;
    console.log(`recompute from S3: ${recomputeS3.eventsPerSecond} events/s (${recomputeS3.wallSeconds} s, ${recomputeS3.ofLocal} of local); CPU ${recomputeS3.cpuSeconds} s, S3Proxy ${recomputeS3.s3proxyCpuSeconds} s`);
    return { scan, recompute, recomputeS3 };
  } finally {
    await removeBenchRun(redis, id, dir, keep);
  }
}

/**
 * After a bench run: its Redis keys (prefix `bench-<id>`), the topics its batch service's ops log
 * made (prefix `bench-<id>-`), and its archive folder, or only the views written into a kept one
 * (`keep`: the folder a variable named, reused by the next run).
 */
export async function removeBenchRun(redis, id, dir, keep) {
  const keys = await redis.keys(`bench-${id}:*`);
  for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
  redis.disconnect();
  const { kafka: kafkaConfig } = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `bench-${id}-` });
  await deleteTopics(createKafka(kafkaConfig), Object.values(topicsFor(kafkaConfig.topicPrefix)));
  if (keep === undefined) fs.rmSync(dir, { recursive: true, force: true });
  else fs.rmSync(path.join(dir, 'views'), { recursive: true, force: true });
}

/** The archiver from Kafka into S3Proxy, with S3Proxy's CPU meanwhile. */
async function archiverIntoS3(events, s3) {
  const cpuBefore = processStats(s3.pid).cpuSeconds;
  const figures = await archiverEndToEnd(events, s3.archiveEnv(BENCH_BUCKET, 'archiver/'));
  return { ...figures, s3proxyCpuSeconds: Math.round((processStats(s3.pid).cpuSeconds - cpuBefore) * 100) / 100 };
}

/** The archiver parts: the writer alone, the service from Kafka into the local folder, then into S3 (BENCH_S3=0: not). */
async function archiverBench(events, s3) {
  const writer = await archiveWriterBench(events);
  console.log(`archive writer: ${writer.rowsPerSecond} rows/s`);
  const archiver = await archiverEndToEnd(events);
  console.log(`archiver from Kafka: ${archiver.rowsPerSecond} rows/s from the first message (${archiver.events} events; ${archiver.secondsFromStart} s with the group join)`);
  if (!s3) return { writer, archiver };
  const archiverS3 = await archiverIntoS3(events, s3);
  archiverS3.ofLocal = Math.round((archiverS3.rowsPerSecond / archiver.rowsPerSecond) * 1000) / 1000;
  console.log(`archiver from Kafka into S3: ${archiverS3.rowsPerSecond} rows/s (${archiverS3.ofLocal} of local); S3Proxy CPU ${archiverS3.s3proxyCpuSeconds} s`);
  return { writer, archiver, archiverS3 };
}

export async function run() {
  const events = Number(process.env.BENCH_EVENTS ?? 10_000_000);
  const archiverEvents = Number(process.env.BENCH_ARCHIVER_EVENTS ?? 500_000);
  const parts = new Set((process.env.BENCH_PARTS ?? 'archiver,scan,recompute').split(','));
  const before = load();
  // The archive on S3 beside the local folder, in the same run: an S3Proxy of the bench's own (var/).
  const s3 = process.env.BENCH_S3 === '0' ? null : await startScratchS3Proxy({ name: 'bench', buckets: [BENCH_BUCKET] });
  try {
    const { writer, archiver, archiverS3 } = parts.has('archiver') ? await archiverBench(archiverEvents, s3) : {};
    const { scan, recompute, recomputeS3 } = parts.has('scan') || parts.has('recompute') ? await recomputeBench(events, parts, s3) : {};
    const s3proxy = s3 ? { version: path.basename(fetchS3ProxyJar()), backend: 'jclouds filesystem, var/ on the same disk', sameCores: true } : null;
    return { loadBefore: before, loadAfter: load(), machine: { cpus: os.cpus().length, memoryGb: Math.round(os.totalmem() / 2 ** 30) }, archiveWriter: writer, archiver, archiverS3, scan, recompute, recomputeS3, s3proxy };
  } finally {
    await s3?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--events');
  if (at > 0) process.env.BENCH_EVENTS = process.argv[at + 1];
  const at2 = process.argv.indexOf('--archiver-events');
  if (at2 > 0) process.env.BENCH_ARCHIVER_EVENTS = process.argv[at2 + 1];
  const result = await run();
  // The same file `npm run bench batch` writes.
  const file = path.join(root, 'bench', 'results', 'batch.json');
  const machine = { cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version };
  fs.writeFileSync(file, `${JSON.stringify({ bench: 'batch', at: new Date().toISOString(), machine, ...result }, null, 2)}\n`);
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
  process.exit(0);
}

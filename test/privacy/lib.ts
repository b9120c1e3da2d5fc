// What the privacy suites look through: every Redis key and value of a run, every Parquet file
// of an archive (events and analysts' views) read with DuckDB, a service's metrics.
import fs from 'node:fs';
import path from 'node:path';
import type { RedisClient } from '@sigflow/store';
import { DuckDBInstance, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { eventsOfColumns, type ArchivedEvent } from '@sigflow/archive';

/** Every Parquet file under a folder (the archive root: events, views). */
export function parquetFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.parquet') && !f.includes('_staging'))
    .map((f) => path.join(dir, f))
    .sort();
}

/** Keys under `prefix:` whose name or value holds `needle` (every Redis type read whole). */
export async function redisMentions(redis: RedisClient, prefix: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if (key.includes(needle)) {
        found.push(key);
        continue;
      }
      const type = await redis.type(key);
      let value: unknown;
      if (type === 'string') value = (await redis.getBuffer(key))?.toString('latin1');
      else if (type === 'hash') value = await redis.hgetall(key);
      else if (type === 'list') value = await redis.lrange(key, 0, -1);
      else if (type === 'set') value = await redis.smembers(key);
      else if (type === 'zset') value = await redis.zrange(key, 0, -1);
      else if (type === 'stream') value = await redis.xrange(key, '-', '+');
      if (JSON.stringify(value ?? null).includes(needle)) found.push(key);
    }
  } while (cursor !== '0');
  return found;
}

/** Files (each read with DuckDB, every column of every row as text) holding `needle`. */
export async function archiveMentions(dir: string, needle: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  try {
    const found: string[] = [];
    for (const file of parquetFiles(dir)) {
      const read = await conn.runAndReadAll(
        `SELECT count(*)::INTEGER FROM read_parquet($f, hive_partitioning = false) t WHERE CAST(t AS VARCHAR) LIKE '%' || $needle || '%'`,
        { f: file, needle },
      );
      if (Number(read.getRows()[0]?.[0]) > 0) found.push(file);
    }
    return found;
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** Every event of the archive's `events/` files with its Kafka position (for a reference run). */
export async function archivedEvents(dir: string): Promise<ArchivedEvent[]> {
  const files = parquetFiles(path.join(dir, 'events'));
  if (files.length === 0) return [];
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  try {
    const read = await conn.runAndReadAll(
      `SELECT DISTINCT * EXCLUDE (filename) FROM read_parquet($files, union_by_name = true, hive_partitioning = false, filename = true)`,
      { files: listValue(files) },
      { files: LIST(VARCHAR) },
    );
    const names = read.columnNames();
    const columns = names.map((_, i) => read.getRows().map((r) => r[i]));
    const events = eventsOfColumns(names, columns, read.currentRowCount);
    const partitions = columns[names.indexOf('kafka_partition')] as number[];
    const offsets = columns[names.indexOf('kafka_offset')] as bigint[];
    return events.map((event, i) => ({ event, partition: Number(partitions[i]), offset: String(offsets[i]) }));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

/** The sum of a Prometheus metric's series (0 when absent) whose labels include `labels`, from a service's /metrics. */
export async function metricValue(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

/** The view hashes of the version an hour serves (fields sorted, floats rounded), under symbolic names. */
export async function servedVersionHashes(redis: RedisClient, prefix: string, hour: number): Promise<Record<string, Record<string, number>>> {
  const entry = await redis.hget(`${prefix}:{batch}:hours`, String(hour));
  if (!entry) return {};
  const { version } = JSON.parse(entry) as { version: string };
  const members = await redis.smembers(`${prefix}:batch:keys:${hour}:${version}`);
  const out: Record<string, Record<string, number>> = {};
  for (const key of members.sort()) {
    const name = key.slice(`${prefix}:batch:`.length, key.length - version.length - 1);
    if (!/^(metrics|campaign-metrics|attribution|heatmap|activity|quality):/.test(name)) continue;
    const fields = Object.entries(await redis.hgetall(key)).sort(([a], [b]) => (a < b ? -1 : 1));
    out[name] = Object.fromEntries(fields.map(([f, v]) => [f, Number(Number(v).toFixed(6))]));
  }
  return out;
}

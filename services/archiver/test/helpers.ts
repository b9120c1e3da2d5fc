// Shared by the archiver tests: a configuration per run, producing events to Kafka, reading
// the archive back with DuckDB, and cleaning up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { type RedisClient, deleteKeysWithPrefix } from '@sigflow/store';
import { topicsFor, type ReceivedEvent } from '@sigflow/events';
import { deleteTopics, type EventProducer, type KafkaClient } from '@sigflow/kafka';

/** A configuration with its own topics, Redis prefix, consumer group and archive folder. */
export function testConfig(name: string, env: Record<string, string> = {}): { config: SigflowConfig; env: Record<string, string>; dir: string } {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sigflow-${name}-`));
  const vars = {
    SIGFLOW_TOPIC_PREFIX: `t-${id}-`,
    SIGFLOW_REDIS_PREFIX: `t-${id}`,
    SIGFLOW_ARCHIVE_DIR: path.join(dir, 'archive'),
    SIGFLOW_ARCHIVER_GROUP: `archiver-${id}`,
    SIGFLOW_EVENT_PARTITIONS: '3',
    ...env,
  };
  return { config: loadConfig({ ...process.env, ...vars }), env: vars, dir };
}

/** Deletes every key under a prefix. */
export const deleteKeys = deleteKeysWithPrefix;

/**
 * Removes what a test run made: its topics, its Redis keys (then disconnects) and its folder.
 * Parts a failed set-up never made are skipped.
 */
export async function removeTestRun(run: { config: SigflowConfig; kafka?: KafkaClient | undefined; redis?: RedisClient | undefined; dir: string }): Promise<void> {
  const { config, kafka, redis, dir } = run;
  if (kafka) await deleteTopics(kafka, Object.values(topicsFor(config.kafka.topicPrefix)));
  if (redis) {
    await deleteKeys(redis, config.redis.keyPrefix);
    redis.disconnect();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** `n` events of several types and users, event times from `start`, stamped as the collector would. */
export function makeEvents(n: number, start: number, prefix = randomUUID().slice(0, 6)): ReceivedEvent[] {
  return Array.from({ length: n }, (_, i): ReceivedEvent => {
    const base = { event_id: `${prefix}-${i}`, user_id: `user-${i % 37}`, ts: start + i * 10, received_at: start + i * 10 + 50 };
    switch (i % 4) {
      case 0:
        return { ...base, type: 'impression', campaign_id: `c${i % 3}`, ad_id: `a${i % 5}`, channel: 'search', ip: `10.0.0.${i % 7}` };
      case 1:
        return { ...base, type: 'click', campaign_id: `c${i % 3}`, ad_id: `a${i % 5}`, channel: 'search', ip: `10.0.0.${i % 7}` };
      case 2:
        return { ...base, type: 'page_view', page_id: 'home' };
      default:
        return { ...base, type: 'conversion', value: i % 50 };
    }
  });
}

/** Produces events keyed by user (as the collector does), in batches. */
export async function produce(producer: EventProducer, events: readonly ReceivedEvent[], batch = 500): Promise<void> {
  for (let i = 0; i < events.length; i += batch) {
    await producer.send(events.slice(i, i + batch).map((e) => ({ key: e.user_id, value: JSON.stringify(e) })));
  }
}

/** Reads the archive: every row's event_id, hour folder and file. */
export async function readArchive(root: string): Promise<{ event_id: string; ts: number; file: string; partition: number; offset: number }[]> {
  const glob = path.join(root, 'events', '**', '*.parquet');
  if (!fs.existsSync(path.join(root, 'events'))) return [];
  const db = await DuckDBInstance.create(':memory:');
  try {
    const conn = await db.connect();
    const reader = await conn.runAndReadAll(
      `SELECT event_id, ts::DOUBLE AS ts, filename AS file, kafka_partition AS partition, kafka_offset::DOUBLE AS offset
       FROM read_parquet($glob, filename = true, hive_partitioning = false)`,
      { glob },
    );
    const rows = reader.getRowObjectsJS() as { event_id: string; ts: number; file: string; partition: number; offset: number }[];
    conn.closeSync();
    return rows;
  } finally {
    db.closeSync();
  }
}

/** Polls until `check` returns true or the time runs out. */
export { waitForTrue as waitUntil } from '@sigflow/test-support';
export { filesUnder } from '@sigflow/test-support';

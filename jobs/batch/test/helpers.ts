// Shared by the batch tests: configuration per test run, event builders, archive writing
// through the archiver's own writer, expected views, and Redis clean-up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { type RedisClient, type StoreKeys, deleteKeysWithPrefix } from '@sigflow/store';
import { batchVersionKeysKey } from '@sigflow/store/batch';
import { windowViewCommands, type WindowViewKeyspace } from '@sigflow/store/views';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import type { ViewDeltas } from '@sigflow/core';
import { ArchiveWriter, hourFolderKey, type ArchivedEvent, type ArchiveStorage, type StoredFile } from '@sigflow/archive';
import { QueueEvents, type Queue } from 'bullmq';
import { bullConnection, bullPrefix, openBatchQueue } from '@sigflow/batch-jobs';
import { compactHour, type BatchContext, type BatchWorker, type CompactResult, type JobProgress } from '../src/index.js';
import { eventBuilders } from '@sigflow/test-support';

export { CHROME_UA, DAY, GOOGLEBOT_UA, HOUR, MINUTE, SECOND, filesUnder, seededRandom } from '@sigflow/test-support';
/** 2026-11-20 10:00 UTC. */
export const T0 = Date.UTC(2026, 10, 20, 10);

/** A configuration with its own topics, Redis prefix and archive folder. */
export function testConfig(name: string, env: Record<string, string> = {}): { config: SigflowConfig; dir: string; id: string } {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sigflow-${name}-`));
  const config = loadConfig({
    ...process.env,
    SIGFLOW_TOPIC_PREFIX: `t-${id}-`,
    SIGFLOW_REDIS_PREFIX: `t-${id}`,
    SIGFLOW_ARCHIVE_DIR: path.join(dir, 'archive'),
    SIGFLOW_BATCH_QUEUE: `batch-${id}`,
    SIGFLOW_ARCHIVER_GROUP: `archiver-${id}`,
    ...env,
  });
  return { config, dir, id };
}

/** The configuration with some batch settings changed (what a test would set by environment). */
export function withBatch(config: SigflowConfig, batch: Partial<SigflowConfig['batch']>): SigflowConfig {
  return { ...config, batch: { ...config.batch, ...batch } };
}

/** Deletes every key under a prefix. */
export const deleteKeys = deleteKeysWithPrefix;

/**
 * Ends a test run made by {@link testConfig}: closes its DuckDB session, deletes its Redis keys,
 * disconnects, removes its folder. Any part still unset (a `beforeAll` that failed) is skipped.
 */
export async function endTestRun(run: { config?: SigflowConfig; dir?: string; redis?: RedisClient; duckdb?: { close(): void } }): Promise<void> {
  run.duckdb?.close();
  if (run.redis) {
    if (run.config) await deleteKeys(run.redis, run.config.redis.keyPrefix);
    run.redis.disconnect();
  }
  if (run.dir) fs.rmSync(run.dir, { recursive: true, force: true });
}

/** A test run's batch queue and the listener of its jobs' events (progress, completion). */
export async function openQueue(config: SigflowConfig): Promise<{ queue: Queue; events: QueueEvents }> {
  const queue = openBatchQueue(config);
  const events = new QueueEvents(config.batch.queueName, { connection: bullConnection(config), prefix: bullPrefix(config) });
  await events.waitUntilReady();
  return { queue, events };
}

/** Ends a test run with a queue: its workers, the listener, the queue and its jobs, then {@link endTestRun}. */
export async function endQueueTestRun(
  run: Parameters<typeof endTestRun>[0] & { workers?: readonly BatchWorker[]; events?: QueueEvents; queue?: Queue },
): Promise<void> {
  for (const worker of run.workers ?? []) await worker.close();
  await run.events?.close();
  await run.queue?.obliterate({ force: true }).catch(() => undefined);
  await run.queue?.close();
  await endTestRun(run);
}

/** Every progress report of the job `jobId`, in order, until `stop()`. */
export function recordProgress(events: QueueEvents, jobId: string | undefined, onEach?: (p: JobProgress) => void): { seen: JobProgress[]; stop(): void } {
  const seen: JobProgress[] = [];
  const listener = ({ jobId: id, data }: { jobId: string; data: unknown }) => {
    if (id !== jobId) return;
    seen.push(data as JobProgress);
    onEach?.(data as JobProgress);
  };
  events.on('progress', listener);
  return { seen, stop: () => events.off('progress', listener) };
}

/** Events received 100 ms after their time; conversions with a value are in EUR. */
export const { impression, click, conversion, elementClick, pageView } = eventBuilders({ receivedAfterMs: 100, currency: 'EUR' });

/**
 * The archive of `ctx` with the race of a local archive: the first read listing `hour` gets its
 * paths, then the hour's compaction (forced) publishes its merge and deletes its inputs, then
 * DuckDB opens them. `compactions` holds what that compaction answered.
 */
export function compactingOnFirstRead(ctx: BatchContext, hour: number): { archive: ArchiveStorage; compactions: CompactResult[] } {
  const compactions: CompactResult[] = [];
  const archive: ArchiveStorage = Object.create(ctx.archive, {
    localPaths: {
      value: async (files: readonly StoredFile[]) => {
        const paths = await ctx.archive.localPaths(files);
        if (compactions.length === 0 && files.some((f) => f.folder === hourFolderKey('events', hour))) {
          compactions.push(await compactHour({ context: ctx, hour, force: true }));
        }
        return paths;
      },
    },
  });
  return { archive, compactions };
}

/** Writes events into the archive with the archiver's writer (partition and offsets as given): the local folder `root`, or `storage`. */
export async function writeArchive(root: string, events: readonly ArchivedEvent[], storage?: ArchiveStorage): Promise<void> {
  const writer = await ArchiveWriter.open({ root, ...(storage ? { storage } : {}) });
  try {
    // One flush per partition keeps file names (offset ranges) like the archiver's.
    const byPartition = new Map<number, ArchivedEvent[]>();
    for (const e of events) {
      const list = byPartition.get(e.partition) ?? [];
      list.push(e);
      byPartition.set(e.partition, list);
    }
    for (const list of byPartition.values()) await writer.write(list);
  } finally {
    await writer.close();
  }
}

/** Symbolic view keys, `metrics:<campaign>:<hour>` etc., the same for expected and actual. */
const symbolic: WindowViewKeyspace = {
  metrics: (c, h) => `metrics:${c}:${h}`,
  campaignMetrics: (c, h) => `campaign-metrics:${c}:${h}`,
  spend: (c, h) => `spend:${c}:${h}`,
  attribution: (m, h) => `attribution:${m}:${h}`,
  heatmap: (p, h) => `heatmap:${p}:${h}`,
  pageActivity: (p, h) => `activity:${p}:${h}`,
  eventCounts: (h) => `event-counts:${h}`,
};

export type Hashes = Map<string, Map<string, number>>;

/** What `windowViewCommands` writes for `deltas`, applied to empty hashes. */
export function expectedHashes(deltas: ViewDeltas): Hashes {
  const hashes: Hashes = new Map();
  for (const c of windowViewCommands(symbolic, deltas, 60)) {
    if (c[0] !== 'HINCRBY' && c[0] !== 'HINCRBYFLOAT') continue;
    const [, key, f, n] = c as [string, string, string, number];
    const h = hashes.get(key) ?? new Map<string, number>();
    h.set(f, (h.get(f) ?? 0) + Number(n));
    hashes.set(key, h);
  }
  return hashes;
}

/** The view hashes of one batch version of one hour, under symbolic names. */
export async function actualHashes(redis: RedisClient, keys: StoreKeys, hour: number, version: string): Promise<Hashes> {
  const hashes: Hashes = new Map();
  const members = await redis.smembers(batchVersionKeysKey(keys, hour, version));
  const head = `${keys.prefix}:batch:`;
  const tail = `:${version}`;
  for (const key of members) {
    if (!key.startsWith(head) || !key.endsWith(tail)) continue;
    const name = key.slice(head.length, key.length - tail.length);
    if (!/^(metrics|campaign-metrics|spend|attribution|heatmap|activity):/.test(name)) continue;
    const all = await redis.hgetall(key);
    hashes.set(name, new Map(Object.entries(all).map(([f, v]) => [f, Number(v)])));
  }
  return hashes;
}

/** Hashes with floats rounded (credits are float sums in another order). */
export function rounded(hashes: Hashes, digits = 6): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [k, h] of [...hashes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const fields: Record<string, number> = {};
    for (const [f, v] of [...h].sort(([a], [b]) => (a < b ? -1 : 1))) fields[f] = Number(v.toFixed(digits));
    out[k] = fields;
  }
  return out;
}

import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { type RedisClient, createRedis } from '@sigflow/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, ensureTopics, EventProducer, type KafkaClient } from '@sigflow/kafka';
import { freePort } from '../../../infra/lib/process.mjs';
import { stagingRoot } from '@sigflow/archive';
import { filesUnder, makeEvents, produce, readArchive, removeTestRun, testConfig, waitUntil } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../../..');
const entry = path.join(root, 'services/archiver/dist/main.js');

function startArchiver(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...process.env, SIGFLOW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function healthy(port: number): Promise<void> {
  await waitUntil('archiver /healthz', async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    } catch {
      return false;
    }
  });
}

/** Staged files being written right now (a flush in progress). */
function stagedFiles(archiveRoot: string): string[] {
  return filesUnder(stagingRoot(archiveRoot)).filter((f) => f.endsWith('.tmp'));
}

describe('archiver killed with SIGKILL during a flush', () => {
  let config: SigflowConfig;
  let env: Record<string, string>;
  let dir: string;
  let kafka: KafkaClient;
  let redis: RedisClient;
  let producer: EventProducer;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    ({ config, env, dir } = testConfig('archiver-crash', { SIGFLOW_ARCHIVER_FLUSH_EVENTS: '400', SIGFLOW_ARCHIVER_FLUSH_MS: '100' }));
    kafka = createKafka(config.kafka);
    await ensureTopics(kafka, topicsFor(config.kafka.topicPrefix), { eventPartitions: 3 });
    redis = createRedis(config.redis);
    producer = new EventProducer(kafka, topicsFor(config.kafka.topicPrefix).events, { idempotent: false });
    await producer.connect();
  });

  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await producer?.disconnect();
    await removeTestRun({ config, kafka, redis, dir });
  });

  it('leaves no partial file visible, and after a restart nothing is missing (copies only by replay)', { timeout: 180_000 }, async () => {
    const port = await freePort();
    // The shipped settings: the restarted archiver rejoins as the same static member.
    const childEnv = { ...env, SIGFLOW_ARCHIVER_METRICS_PORT: String(port) };
    const archiveRoot = config.archiver.dir;
    const events = makeEvents(15_000, Date.now() - 3 * 3_600_000, 'crash');

    child = startArchiver(childEnv);
    await healthy(port);
    // Traffic in the background while we wait for a flush to be in progress.
    let sent = 0;
    const traffic = (async () => {
      for (let i = 0; i < events.length; i += 500) {
        await produce(producer, events.slice(i, i + 500));
        sent = i + 500;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const deadline = Date.now() + 30_000;
    let midFlush = false;
    while (Date.now() < deadline) {
      const visible = filesUnder(path.join(archiveRoot, 'events')).length;
      if (visible >= 3 && stagedFiles(archiveRoot).length > 0) {
        midFlush = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const killedPid = child.pid as number;
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    expect(midFlush).toBe(true);
    expect(sent).toBeLessThan(events.length);

    // What a reader sees now: only complete Parquet files (DuckDB reads them all).
    const visible = filesUnder(path.join(archiveRoot, 'events'));
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((f) => f.endsWith('.parquet'))).toBe(true);
    const seenBefore = await readArchive(archiveRoot);
    expect(seenBefore.length).toBeGreaterThan(0);
    expect(seenBefore.length).toBeLessThan(events.length);

    await traffic;
    child = startArchiver(childEnv);
    await healthy(port);
    await waitUntil(
      'every produced event archived',
      async () => new Set((await readArchive(archiveRoot)).map((r) => r.event_id)).size === events.length,
      120_000,
      500,
    );
    const rows = await readArchive(archiveRoot);
    const ids = new Set(rows.map((r) => r.event_id));
    expect(ids).toEqual(new Set(events.map((e) => e.event_id)));
    // Any copy is a replay of the same Kafka message (same partition and offset), never a new one.
    const copies = new Map<string, Set<string>>();
    for (const r of rows) copies.set(r.event_id, (copies.get(r.event_id) ?? new Set()).add(`${r.partition}:${r.offset}`));
    expect([...copies.values()].every((s) => s.size === 1)).toBe(true);
    expect(filesUnder(path.join(archiveRoot, 'events')).every((f) => f.endsWith('.parquet'))).toBe(true);
    // The dead writer's staging folder (with its partial file) was removed on restart.
    expect(fs.readdirSync(stagingRoot(archiveRoot)).some((d) => d.includes(`--${killedPid}--`))).toBe(false);

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toContain('sigflow_archiver_consumer_lag');
    expect(metrics).toContain('sigflow_archiver_files_total');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child?.once('exit', r));
    expect(code).toBe(0);
  });
});

// A person's deletion over a day of archive: a simulated day (default 10 million events, the
// batch benchmark's day: 4 partitions, one file per partition and hour, ~200 events a person),
// then one person deleted as the `delete-user` job does it: tombstone, speed erasure (no speed
// layer runs here: the wait is cut to 100 ms and the erasure done directly; with a live speed
// layer it is one fenced commit after its next poll, about `SIGFLOW_PRIVACY_REFRESH_MS`), every
// archive file holding their rows rewritten (DuckDB COPY, fsync, rename), the settle wait and
// the re-scan, and the hours they touched recomputed. Reports the wall time of each step.
//
//   npm run bench privacy                 (BENCH_EVENTS to resize)
//   node bench/privacy.bench.mjs --events 1000000   (a quick run)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@sigflow/config';
import { createBatchContext, deleteUser, DuckDBSession } from '@sigflow/batch';
import { createRedis, deleteKeysWithPrefix } from '@sigflow/store';
import { load } from './lib.mjs';
import { writeSyntheticDay } from './batch.bench.mjs';

export async function run() {
  const events = Number(process.env.BENCH_EVENTS ?? 10_000_000);
  const before = load();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-privacy-'));
  const id = randomUUID().slice(0, 8);
  const config = loadConfig({
    ...process.env,
    SIGFLOW_REDIS_PREFIX: `bench-privacy-${id}`,
    SIGFLOW_ARCHIVE_DIR: dir,
    SIGFLOW_PRIVACY_SPEED_WAIT_MS: '100',
  });
  const redis = createRedis(config.redis);
  const duckdb = await DuckDBSession.forBatch(config.batch);
  try {
    let t = performance.now();
    const day = await writeSyntheticDay(dir, events);
    console.log(`synthetic day: ${day.rows} rows (${day.users} people) written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const files = (fs.readdirSync(path.join(dir, 'events'), { recursive: true })).filter((f) => String(f).endsWith('.parquet')).length;
    const marks = [];
    t = performance.now();
    const result = await deleteUser({
      context: createBatchContext(config, redis),
      userId: 'user-7',
      requestId: `bench-${id}`,
      duckdb,
      onProgress: (p) => {
        if (marks.at(-1)?.step !== p.step) marks.push({ step: p.step, at: performance.now() });
      },
    });
    const total = (performance.now() - t) / 1000;
    const seconds = {};
    marks.forEach((m, i) => {
      const next = marks[i + 1]?.at ?? m.at;
      if (m.step !== 'done') seconds[m.step] = Number(((next - m.at) / 1000).toFixed(2));
    });
    const figures = {
      events,
      archiveRows: day.rows,
      people: day.users,
      archiveFiles: files,
      rowsRemoved: result.rowsRemoved,
      filesRewritten: result.filesRewritten,
      hoursRecomputed: result.hours.length,
      totalSeconds: Number(total.toFixed(2)),
      secondsByStep: seconds,
      note: `speed: the ${config.privacy.speedWaitMs} ms wait for an owner that does not run here; archive: rewrite, ${config.privacy.archiveSettleMs} ms settle, re-scan`,
    };
    console.log(`deletion over a day of ${day.rows} rows: ${figures.totalSeconds} s (${JSON.stringify(seconds)}); ${result.rowsRemoved} rows in ${result.filesRewritten} files, ${result.hours.length} hours recomputed`);
    return { loadBefore: before, loadAfter: load(), deletion: figures };
  } finally {
    duckdb.close();
    await deleteKeysWithPrefix(redis, config.redis.keyPrefix);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--events');
  if (at > 0) process.env.BENCH_EVENTS = process.argv[at + 1];
  const result = await run();
  fs.writeFileSync(path.join(import.meta.dirname, 'results', 'privacy.json'), `${JSON.stringify({ bench: 'privacy', at: new Date().toISOString(), ...result }, null, 2)}\n`);
  process.exit(0);
}

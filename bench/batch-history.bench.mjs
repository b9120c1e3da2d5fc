// Batch layer over an archive with history: the recompute of the bench day (batch.bench.mjs: the
// same synthetic day, the same `recompute` job on the batch service) when the archive also holds
// the days of the attribution lookback before it, as a production archive does. Each of the
// day's passes then needs its converting users' touchpoints back the whole lookback, with their
// verdicts (DESIGN.md; `recompute-input.ts`); batch.json's recompute, over an archive that begins
// with the day, has no such lookback. The week and the day are computed first, unmeasured, as a
// running batch layer had computed them, and the measured job is the day's reprocess: its passes
// read the lookback from the hours' touchpoint verdicts (`touchpoint-verdicts.ts`); without them
// every pass reads the lookback's archive rows, their join, flood and IP-neighbour context, and
// runs the rules over them again.
// The days before are the day's rows shifted by whole days (ids suffixed, so no copies across days).
//
//   npm run bench:batch-history        (BENCH_EVENTS to resize the day)
//   BENCH_HISTORY_DIR=/tmp/week        (keeps the archive between runs)
//   BENCH_HISTORY_COMPUTED=false       (nothing computed first: the lookback from the archive)
//   BENCH_HISTORY_STATE=name           (with BENCH_HISTORY_DIR: keeps the computed hours' Redis state too)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig } from '@sigflow/config';
import { compactedFileFormat, hourFolder } from '@sigflow/archive';
import { createRedis, StoreKeys } from '@sigflow/store';
import { load } from './lib.mjs';
import { DAY_START, publishBenchModels, recomputeFigures, recomputeJob, removeBenchRun, timed, writeSyntheticDay } from './batch.bench.mjs';

const DAY = 86_400_000;

/** Copies every archive file of the bench day to each of the `days` days before it, shifted. */
async function writeHistory(archiveRoot, days) {
  const db = await DuckDBInstance.create(':memory:', { threads: String(os.cpus().length) });
  const conn = await db.connect();
  let files = 0;
  try {
    for (let h = 0; h < 24; h++) {
      const folder = hourFolder(archiveRoot, DAY_START + h * 3_600_000);
      for (const name of fs.readdirSync(folder).filter((f) => f.endsWith('.parquet'))) {
        const rows = Number((await conn.runAndReadAll('SELECT num_rows::DOUBLE FROM parquet_file_metadata($file)', { file: path.join(folder, name) })).getRows()[0][0]);
        for (let k = 1; k <= days; k++) {
          const out = path.join(hourFolder(archiveRoot, DAY_START + h * 3_600_000 - k * DAY), name);
          fs.mkdirSync(path.dirname(out), { recursive: true });
          await conn.run(
            `COPY (SELECT * REPLACE (event_id || $suffix AS event_id, ts - $shift AS ts, received_at - $shift AS received_at)
                   FROM read_parquet($file) ORDER BY user_id, ts, event_id)
             TO $out (${compactedFileFormat(rows)})`,
            { suffix: `-d${k}`, shift: k * DAY, file: path.join(folder, name), out },
          );
          files++;
        }
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return files;
}

export async function run() {
  const events = Number(process.env.BENCH_EVENTS ?? 10_000_000);
  // BENCH_HISTORY_STATE (with BENCH_HISTORY_DIR) keeps the computed hours' Redis state between runs too.
  const state = process.env.BENCH_HISTORY_STATE;
  const id = state === undefined ? randomUUID().slice(0, 8) : `history-${state}`;
  const keep = process.env.BENCH_HISTORY_DIR;
  const reuse = keep !== undefined && fs.existsSync(path.join(keep, 'history.json'));
  const dir = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-bench-history-'));
  const env = { SIGFLOW_REDIS_PREFIX: `bench-${id}`, SIGFLOW_ARCHIVE_DIR: dir, SIGFLOW_BATCH_VIEW_PARQUET: 'true' };
  const config = loadConfig({ ...process.env, ...env });
  const days = Math.ceil(config.rules.attributionLookbackMs / DAY);
  const redis = createRedis(config.redis);
  try {
    let archive;
    if (reuse) archive = JSON.parse(fs.readFileSync(path.join(dir, 'history.json'), 'utf8'));
    else {
      const day = await timed(() => writeSyntheticDay(dir, events));
      const history = await timed(() => writeHistory(dir, days));
      archive = { dayRows: day.value.rows, historyDays: days, historyRows: day.value.rows * days, historyFiles: history.value };
      console.log(`synthetic day: ${day.value.rows} rows in ${(day.ms / 1000).toFixed(1)} s; ${days} days before it: ${history.value} files in ${(history.ms / 1000).toFixed(1)} s`);
      if (keep !== undefined) fs.writeFileSync(path.join(dir, 'history.json'), JSON.stringify(archive));
    }
    await publishBenchModels(redis, env.SIGFLOW_REDIS_PREFIX);
    const workers = config.batch.workers;
    // The days before and the day itself are computed first (not measured), as the batch layer of
    // a running platform had computed each hour once it sealed; the measured job is the day's
    // reprocess (an analyst's or ops' recompute), whose passes read their lookback from those
    // hours' touchpoint verdicts. BENCH_HISTORY_COMPUTED=false computes nothing first: every pass
    // reads the archive, as the day's first computation in one job does.
    const computed = process.env.BENCH_HISTORY_COMPUTED !== 'false';
    const stateKept = state !== undefined && (await redis.hlen(new StoreKeys(env.SIGFLOW_REDIS_PREFIX).batchHours())) > 0;
    const before = computed && !stateKept ? [{ from: DAY_START - days * DAY, to: DAY_START + DAY }] : [];
    const loadBefore = load();
    const shipped = await recomputeJob(redis, env, workers, { before });
    const recompute = {
      computedFirst: shipped.setup[0] ?? (stateKept ? 'kept from an earlier run' : null),
      ...recomputeFigures(shipped, { archiveRows: archive.dayRows + archive.historyRows, workers, loadBefore, loadAfter: load() }),
    };
    console.log(
      `recompute of the day over ${archive.historyDays} days of history${computed ? ' (week and day computed first: a reprocess)' : ''}: ${recompute.eventsPerSecond} events/s (${recompute.wallSeconds} s); passes ${recompute.passesFromVerdicts}/${recompute.passes} from verdicts; rows read ${recompute.rowsRead}, through the rules ${recompute.eventsThroughRules}; peak RSS ${recompute.peakRssMb} MB; CPU ${recompute.cpuSeconds} s`,
    );
    return { archive, recompute };
  } finally {
    if (state === undefined) await removeBenchRun(redis, id, dir, keep);
    else redis.disconnect();
  }
}

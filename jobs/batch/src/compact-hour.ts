import fs from 'node:fs/promises';
import path from 'node:path';
import {
  compactedFileFormat,
  archiveFileName,
  archiveSealedThrough,
  isHourSealed,
  hourFolder,
  landedAtOf,
  listHourFiles,
  parseArchiveFileName,
  publishFile,
  StagingArea,
  withArchiveColumns,
} from '@sigflow/archive';
import { readArchiveWatermarks } from '@sigflow/store';
import type { BatchContext } from './batch-context.js';
import { filesParam, readFiles } from './archive-scan.js';
import { DuckDBSession } from './duckdb-session.js';
import { floorHour } from './hour-range.js';

export interface CompactResult {
  readonly hourStart: number;
  /** Set when nothing was done, and why. */
  readonly skipped?: 'not sealed' | 'nothing to merge';
  readonly filesBefore: number;
  readonly filesAfter: number;
  /** Rows in the merged files (exact replays of one Kafka message are kept once). */
  readonly rows: number;
}

/**
 * Merges the small files of a sealed hour: per Kafka partition with several files, one file
 * `p<partition>-<first>-<last>.parquet` with their rows (exact replays of one message kept once),
 * sorted by (user_id, ts, event_id). The merged file is staged and renamed in BEFORE the inputs
 * are deleted, so a reader (or a crash) in between sees every event, at worst twice, which the
 * dedupe absorbs. Content is unchanged, so the hour is not marked dirty.
 */
export async function compactHour(options: {
  context: BatchContext;
  hour: number;
  /** Compact even if the hour is not sealed yet. */
  force?: boolean;
  duckdb?: DuckDBSession;
}): Promise<CompactResult> {
  const ctx = options.context;
  const hourStart = floorHour(options.hour);
  const files = await listHourFiles(ctx.root, hourStart);
  const result = (skipped: CompactResult['skipped'], after = files.length, rows = 0): CompactResult => ({
    hourStart,
    ...(skipped ? { skipped } : {}),
    filesBefore: files.length,
    filesAfter: after,
    rows,
  });
  if (!options.force) {
    const sealed = archiveSealedThrough(await readArchiveWatermarks(ctx.redis, ctx.keys, ctx.topic), ctx.settings);
    if (!isHourSealed(hourStart, sealed)) return result('not sealed');
  }
  const byPartition = new Map<number, { path: string; first: bigint; last: bigint }[]>();
  for (const file of files) {
    const parsed = parseArchiveFileName(path.basename(file));
    if (!parsed) continue;
    const list = byPartition.get(parsed.partition) ?? [];
    list.push({ path: file, first: parsed.firstOffset, last: parsed.lastOffset });
    byPartition.set(parsed.partition, list);
  }
  const groups = [...byPartition].filter(([, list]) => list.length > 1);
  if (groups.length === 0) return result('nothing to merge');

  const session = options.duckdb ?? (await DuckDBSession.open({ threads: ctx.config.batch.duckdbThreads }));
  const staging = await StagingArea.open(ctx.root);
  let rows = 0;
  try {
    for (const [partition, list] of groups) {
      const first = list.reduce((m, f) => (f.first < m ? f.first : m), list[0]!.first);
      const last = list.reduce((m, f) => (f.last > m ? f.last : m), list[0]!.last);
      const staged = staging.tempPath();
      const f = filesParam(list.map((x) => x.path));
      const format = compactedFileFormat(await rowsOf(session, f));
      // Files from before a column joined the format get it as NULLs: the merged file has every column.
      const copied = await withArchiveColumns(session.connection, list.map((x) => x.path), (columns) =>
        session.connection.run(
          `COPY (SELECT DISTINCT ${columns} FROM ${readFiles('files')} ORDER BY user_id, ts, event_id)
           TO $path (${format})`,
          { files: f.value, path: staged },
          { files: f.type },
        ),
      );
      rows += copied.rowsChanged;
      const final = path.join(hourFolder(ctx.root, hourStart), archiveFileName(partition, String(first), String(last)));
      // The content landed when its newest input did (not a late file for the batch layer).
      await publishFile(staged, final, { landedAtMs: (await landedAtOf(list.map((x) => x.path))) ?? undefined });
      for (const x of list) {
        if (x.path === final) continue;
        await fs.rm(x.path, { force: true });
      }
    }
  } finally {
    await staging.close();
    if (!options.duckdb) session.close();
  }
  return result(undefined, (await listHourFiles(ctx.root, hourStart)).length, rows);
}

/** The rows of Parquet files, from their footers (a merge's size before its duplicates go). */
async function rowsOf(session: DuckDBSession, files: ReturnType<typeof filesParam>): Promise<number> {
  const answer = await session.connection.runAndReadAll('SELECT coalesce(sum(num_rows), 0)::DOUBLE FROM parquet_file_metadata($files)', { files: files.value }, { files: files.type });
  return Number(answer.getRows()[0]?.[0] ?? 0);
}

import {
  compactedFileFormat,
  archiveFileName,
  archiveSealedThrough,
  hourFiles,
  hourFolderKey,
  isHourSealed,
  parseArchiveFileName,
  replaceUnlessGone,
  StagingArea,
  withArchiveColumns,
  type StoredFile,
} from '@sigflow/archive';
import { readArchiveWatermarks } from '@sigflow/store/batch';
import type { BatchContext } from './batch-context.js';
import { filesParam, readFiles } from './archive-scan.js';
import { DuckDBSession } from './duckdb-session.js';
import { hourStart } from './hour-range.js';

export interface CompactResult {
  readonly hourStart: number;
  /** Set when nothing was done, and why. */
  readonly skipped?: 'not sealed' | 'nothing to merge' | 'replaced meanwhile';
  readonly filesBefore: number;
  readonly filesAfter: number;
  /** Rows in the merged files (exact replays of one Kafka message are kept once). */
  readonly rows: number;
}

/**
 * Merges the small files of a sealed hour: per Kafka partition with several files, one file
 * `p<partition>-<first>-<last>.parquet` with their rows (exact replays of one message kept once),
 * sorted by (user_id, ts, event_id), published by the storage's `replace`: on a local folder the
 * merged file is renamed in BEFORE the inputs are deleted, so a reader (or a crash) in between
 * sees every event, at worst twice, which the dedupe absorbs; on S3 one manifest swaps the inputs
 * for it, so readers see either. Content is unchanged, so the hour is not marked dirty.
 */
export async function compactHour(options: {
  context: BatchContext;
  hour: number;
  /** Compact even if the hour is not sealed yet. */
  force?: boolean;
  duckdb?: DuckDBSession;
}): Promise<CompactResult> {
  const ctx = options.context;
  const hour = hourStart(options.hour);
  const folder = hourFolderKey('events', hour);
  const files = await hourFiles(ctx.archive, hour);
  const result = (skipped: CompactResult['skipped'], after = files.length, rows = 0): CompactResult => ({
    hourStart: hour,
    ...(skipped ? { skipped } : {}),
    filesBefore: files.length,
    filesAfter: after,
    rows,
  });
  if (!options.force) {
    const sealed = archiveSealedThrough(await readArchiveWatermarks(ctx.redis, ctx.keys, ctx.topic), ctx.settings);
    if (!isHourSealed(hour, sealed)) return result('not sealed');
  }
  const byPartition = new Map<number, { file: StoredFile; first: bigint; last: bigint }[]>();
  for (const file of files) {
    const parsed = parseArchiveFileName(file.name);
    if (!parsed) continue;
    const list = byPartition.get(parsed.partition) ?? [];
    list.push({ file, first: parsed.firstOffset, last: parsed.lastOffset });
    byPartition.set(parsed.partition, list);
  }
  const groups = [...byPartition].filter(([, list]) => list.length > 1);
  if (groups.length === 0) return result('nothing to merge');

  const session = options.duckdb ?? (await DuckDBSession.open({ threads: ctx.config.batch.duckdbThreads }));
  const staging = await StagingArea.open(ctx.archive.localRoot);
  let rows = 0;
  try {
    for (const [partition, list] of groups) {
      const first = list.reduce((m, f) => (f.first < m ? f.first : m), list[0]!.first);
      const last = list.reduce((m, f) => (f.last > m ? f.last : m), list[0]!.last);
      const staged = staging.tempPath();
      const inputs = await ctx.archive.localPaths(list.map((x) => x.file));
      const f = filesParam(inputs);
      const format = compactedFileFormat(await rowsOf(session, f));
      // Files from before a column joined the format get it as NULLs: the merged file has every column.
      const copied = await withArchiveColumns(session.connection, inputs, (columns) =>
        session.connection.run(
          `COPY (SELECT DISTINCT ${columns} FROM ${readFiles('files')} ORDER BY user_id, ts, event_id)
           TO $path (${format})`,
          { files: f.value, path: staged },
          { files: f.type },
        ),
      );
      rows += copied.rowsChanged;
      // The content landed when its newest input did (not a late file for the batch layer).
      const landedAtMs = Math.max(...list.map((x) => x.file.landedAtMs));
      const name = archiveFileName(partition, String(first), String(last));
      // Another host replaced some of these files first (its compaction, an erasure): its version stands.
      if (!(await replaceUnlessGone(ctx.archive, folder, list.map((x) => x.file), [{ staged, name, landedAtMs }]))) return result('replaced meanwhile');
    }
  } finally {
    await staging.close();
    if (!options.duckdb) session.close();
  }
  return result(undefined, (await hourFiles(ctx.archive, hour)).length, rows);
}

/** The rows of Parquet files, from their footers (a merge's size before its duplicates go). */
async function rowsOf(session: DuckDBSession, files: ReturnType<typeof filesParam>): Promise<number> {
  const answer = await session.connection.runAndReadAll('SELECT coalesce(sum(num_rows), 0)::DOUBLE FROM parquet_file_metadata($files)', { files: files.value }, { files: files.type });
  return Number(answer.getRows()[0]?.[0] ?? 0);
}

import fs from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  archiveFileFormat,
  ArchiveFileGoneError,
  eventFolders,
  hourOfFolderKey,
  readableFiles,
  replaceUnlessGone,
  StagingArea,
  type ArchiveStorage,
  type ReadableFile,
} from '@sigflow/archive';
import { markDirtyCommand } from '@sigflow/store/batch';
import type { BatchContext } from './batch-context.js';
import { filesParam, readFiles } from './archive-scan.js';
import type { DuckDBSession } from './duckdb-session.js';
import { hoursReachedThroughFloods } from './erasure-flood-reach.js';
import { ArchiveScanError } from './errors.js';
import { pruneHourVerdicts } from './touchpoint-verdicts.js';

/** An archive file holding some of a person's rows. */
interface HoldingFile {
  readonly file: ReadableFile;
  readonly hour: number;
  readonly rows: number;
}

/** What removing a person from the archive did. */
export interface ArchiveErasure {
  /** Files rewritten without the person's rows, and files removed (they held nothing else). */
  readonly filesRewritten: number;
  readonly filesRemoved: number;
  readonly rowsRemoved: number;
  /** Hours whose files changed, and the computed hours the person's clicks reached through other people's IP floods. */
  readonly hours: number[];
  /** Scans of the whole archive (the last one found nothing). */
  readonly passes: number;
}

/** The hour of an archive file from its `dt=/hr=` folder. */
function hourOfFile(file: ReadableFile): number {
  const hour = hourOfFolderKey(file.folder);
  if (hour === null) throw new ArchiveScanError(`${file.folder}/${file.name} is not in an hour folder of the archive`);
  return hour;
}

/** Every archive file holding rows of `userId`, read with DuckDB (one scan of the user_id column). */
async function filesHolding(session: DuckDBSession, archive: ArchiveStorage, userId: string): Promise<HoldingFile[]> {
  const folders = (await archive.hours('events')).flatMap((h) => eventFolders(h, h + 1));
  const files = await readableFiles(archive, folders);
  if (files.length === 0) return [];
  const byPath = new Map(files.map((file) => [file.path, file]));
  const f = filesParam(files.map((file) => file.path));
  const found = await session.connection.runAndReadAll(
    `SELECT filename, count(*)::DOUBLE FROM read_parquet($files, union_by_name = true, hive_partitioning = false, filename = true) WHERE user_id = $user GROUP BY filename ORDER BY filename`,
    { files: f.value, user: userId },
    { files: f.type },
  );
  return (found.getRows() as [string, number][]).map(([path, rows]) => {
    const file = byPath.get(path) as ReadableFile;
    return { file, rows, hour: hourOfFile(file) };
  });
}

/**
 * Rewrites one file without the person's rows: DuckDB copies the other rows to a staging file,
 * which replaces the original in one step (`ArchiveStorage.replace`: readers see the old file or
 * the new one, never a part). A file with nothing else is removed. Returns 'gone' when the file
 * had gone (compacted meanwhile: the next pass looks at the merged one).
 */
async function rewriteWithout(session: DuckDBSession, archive: ArchiveStorage, staging: StagingArea, file: ReadableFile, userId: string): Promise<'rewritten' | 'removed' | 'gone'> {
  const staged = staging.tempPath();
  const f = filesParam([file.path]);
  if (!(await stillPublished(archive, file))) return 'gone';
  try {
    const copied = await session.connection.run(
      `COPY (SELECT * FROM ${readFiles('files')} WHERE user_id <> $user) TO $path (${archiveFileFormat})`,
      { files: f.value, user: userId, path: staged },
      { files: f.type },
    );
    if (copied.rowsChanged === 0) {
      await fs.rm(staged, { force: true });
      return (await replaceUnlessGone(archive, file.folder, [file], [])) ? 'removed' : 'gone';
    }
  } catch (cause) {
    await fs.rm(staged, { force: true });
    if (!(await stillPublished(archive, file))) return 'gone';
    throw new ArchiveScanError(`rewriting ${archive.locationOf(file)} without a deleted person failed: ${(cause as Error).message}`, { cause });
  }
  // What is left of the file landed when the file did (not a late file for the batch layer).
  return (await replaceUnlessGone(archive, file.folder, [file], [{ staged, name: file.name, landedAtMs: file.landedAtMs }])) ? 'rewritten' : 'gone';
}


/** True while `file` is still published (a compaction may have replaced it since it was listed). */
async function stillPublished(archive: ArchiveStorage, file: ReadableFile): Promise<boolean> {
  try {
    return (await archive.list(file.folder)).some((f) => f.name === file.name) && (await archive.localPaths([file])).length === 1;
  } catch (err) {
    if (err instanceof ArchiveFileGoneError) return false;
    throw err;
  }
}

/**
 * Removes every row of a person from the Parquet archive. Each file holding some is rewritten
 * ({@link rewriteWithout}) after its hour is marked dirty and its touchpoint verdicts are
 * removed, so a crash in between leaves the hour to be recomputed. The archive stays
 * append-safe: the archiver keeps adding files (new names, never these), and the files
 * rewritten are whole at every moment. Then, after `privacy.archiveSettleMs` (a flush that
 * began before the archiver read the tombstone), the whole archive is scanned again, and so on
 * until a scan finds no row of the person.
 */
export async function eraseFromArchive(
  ctx: BatchContext,
  session: DuckDBSession,
  userId: string,
  onFile: (done: { filesWithRows: number; filesDone: number; hours: readonly number[] }) => void | Promise<void>,
  maxPasses = 5,
): Promise<ArchiveErasure> {
  const staging = await StagingArea.open(ctx.archive.localRoot);
  const hours = new Set<number>();
  let filesRewritten = 0;
  let filesRemoved = 0;
  let rowsRemoved = 0;
  try {
    for (let pass = 1; pass <= maxPasses; pass++) {
      const holding = await filesHolding(session, ctx.archive, userId);
      if (holding.length === 0) {
        // Reads in flight keep the files they listed readable: not the person's rows.
        await ctx.archive.releaseReads();
        return { filesRewritten, filesRemoved, rowsRemoved, hours: [...hours].sort((a, b) => a - b), passes: pass };
      }
      let done = 0;
      // Every hour this pass will change is reported (kept in the job's progress) before any file
      // changes: an attempt killed right after a rewrite leaves that hour listed for the retry,
      // which finds the file clean and would otherwise never recompute it. So are the hours the
      // person's clicks reach through other people's IP floods, found while the clicks are there.
      const reached = await hoursReachedThroughFloods(ctx, session.connection, userId, holding.map((h) => h.file.path));
      for (const h of [...holding.map((f) => f.hour), ...reached]) hours.add(h);
      await onFile({ filesWithRows: holding.length, filesDone: 0, hours: [...hours] });
      const reachedDirty = markDirtyCommand(ctx.keys, reached, Date.now());
      if (reachedDirty) await ctx.redis.call(...(reachedDirty as [string, ...(string | number)[]]));
      for (const h of holding) {
        const dirty = markDirtyCommand(ctx.keys, [h.hour], Date.now());
        if (dirty) await ctx.redis.call(...(dirty as [string, ...(string | number)[]]));
        // The hour's touchpoint verdicts hold the person's touchpoints too; dirty, it no longer uses them.
        await pruneHourVerdicts(ctx.archive, h.hour, null);
        const outcome = await rewriteWithout(session, ctx.archive, staging, h.file, userId);
        if (outcome === 'rewritten') filesRewritten++;
        if (outcome === 'removed') filesRemoved++;
        if (outcome !== 'gone') rowsRemoved += h.rows;
        await onFile({ filesWithRows: holding.length, filesDone: ++done, hours: [...hours] });
      }
      if (pass === 1) await sleep(ctx.config.privacy.archiveSettleMs);
    }
  } finally {
    await staging.close();
  }
  throw new ArchiveScanError(`the archive still held rows of a deleted person after ${maxPasses} passes`);
}

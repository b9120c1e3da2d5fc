import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { stagingRoot } from './archive-layout.js';
import { openProcessFolder } from './process-folder.js';

/** Flushes a file or folder to disk (a rename is only as durable as what it points at). */
async function fsyncPath(p: string): Promise<void> {
  const handle = await fs.open(p, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes a complete file visible under its final name in one step: fsync the staged file,
 * rename it (atomic on one filesystem: readers see the old state or the whole new file, never
 * a part), then fsync the folder so the new name survives a machine crash.
 *
 * An archive file's mtime says when its content landed (the batch layer finds late files by it:
 * `markLateDependents`). A rewrite of content that had landed before (a compaction, a person's
 * erasure) passes `landedAtMs`, the newest mtime of the files it rewrites ({@link landedAtOf}),
 * so it is not taken for a late file. (Seconds with their fraction: a `Date` would cut it to whole
 * milliseconds.)
 */
export async function publishFile(staged: string, final: string, options: { landedAtMs?: number } = {}): Promise<void> {
  if (options.landedAtMs !== undefined) await fs.utimes(staged, options.landedAtMs / 1000, options.landedAtMs / 1000);
  await fsyncPath(staged);
  await fs.mkdir(path.dirname(final), { recursive: true });
  await fs.rename(staged, final);
  await fsyncPath(path.dirname(final));
}

/**
 * When the newest of `files` landed (its mtime, ms with the fraction the file system keeps): the
 * `landedAtMs` of a rewrite of their content. Null when none of them exists any more.
 */
export async function landedAtOf(files: readonly string[]): Promise<number | null> {
  const times = await Promise.all(files.map((f) => fs.stat(f).then((st) => st.mtimeMs, () => null)));
  const known = times.filter((t): t is number => t !== null);
  return known.length === 0 ? null : Math.max(...known);
}

/** A staging folder of this process: `_staging/<host>--<pid>--<random>` (one per writer). */
export class StagingArea {
  private constructor(readonly dir: string) {}

  /**
   * Creates a staging folder for this writer after removing the folders of dead processes of
   * this host (a kill -9 mid-write leaves a partial file there; it was never visible under
   * `events/`, and its events were not committed, so they are read again).
   */
  static async open(root: string): Promise<StagingArea> {
    return new StagingArea(await openProcessFolder(stagingRoot(root)));
  }

  /** A fresh temporary path in the staging folder. */
  tempPath(suffix = '.parquet.tmp'): string {
    return path.join(this.dir, `${randomUUID()}${suffix}`);
  }

  /** Removes the folder (clean shutdown). */
  async close(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

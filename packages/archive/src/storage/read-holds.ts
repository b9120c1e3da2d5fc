import fs from 'node:fs/promises';
import path from 'node:path';
import { ArchiveFileGoneError } from '../errors.js';
import { openProcessFolder } from '../process-folder.js';
import type { StoredFile } from './archive-storage.js';

/**
 * How long a read's links stay (10 minutes, as the S3 cache holds the copies a read uses): the
 * reads of the batch layer open their files within seconds to minutes of listing them.
 */
export const READ_HOLD_MS = 10 * 60_000;

/** Links made at once. */
const PARALLEL_LINKS = 32;

/** Root of the read holds of a local archive (`_reads/<host>--<pid>--<id>/<read>/<folder>/<name>`). */
export function readHoldsRoot(root: string): string {
  return path.join(root, '_reads');
}

async function entriesOf(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => []);
}

/** Removes the reads (`<ms>-<n>` folders) of a process's folder that `which` picks (all by default). */
async function removeReads(owner: string, which: (read: string) => boolean = () => true): Promise<void> {
  for (const read of await entriesOf(owner)) if (which(read)) await fs.rm(path.join(owner, read), { recursive: true, force: true });
}

/**
 * Hard links to the files a read of a local archive listed, in a folder of that read: a
 * compaction deleting a listed file once its merge is published leaves the read its link (the
 * file's data stays until the link goes), so a long read is not failed by the compactions of
 * the hours it spans. A read's folder goes when its process's reads are over (a batch job's end:
 * {@link releaseOwn}), else after {@link READ_HOLD_MS} (swept at the process's next read), with
 * the process's folder at its close or, after a kill, at another process's start on the host; a
 * person's erasure ends every hold at once ({@link releaseAll}).
 */
export class ReadHolds {
  private processFolder: Promise<string> | undefined;
  private reads = 0;

  constructor(
    private readonly root: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Links to `paths` (the published files `files`) in a new read folder, in order; the paths
   * themselves where the filesystem takes no links or no more entries (a full disk). Throws
   * `ArchiveFileGoneError` when one is gone.
   */
  async hold(files: readonly StoredFile[], paths: readonly string[]): Promise<string[]> {
    let read: string | undefined;
    try {
      const own = await (this.processFolder ??= this.openProcessFolder());
      await this.sweep(own);
      read = path.join(own, `${this.now()}-${this.reads++}`);
      return await linkAll(read, files, paths);
    } catch (err) {
      if (!UNHELD.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      if (read !== undefined) await fs.rm(read, { recursive: true, force: true });
      return inPlace(paths);
    }
  }

  /**
   * Ends every read's hold, of every process on the archive's filesystem: a person's erasure
   * rewrote or removed files, and their old rows must not stay readable in a hold. A read whose
   * links go before DuckDB opened them lists its folders again, as before holds.
   */
  async releaseAll(): Promise<void> {
    const base = readHoldsRoot(this.root);
    for (const owner of await entriesOf(base)) await removeReads(path.join(base, owner));
  }

  /** Ends this process's holds: its reads are over (a batch worker's job ended). */
  async releaseOwn(): Promise<void> {
    if (this.processFolder) await removeReads(await this.processFolder);
  }

  /** Removes this process's folder (a clean close). */
  async close(): Promise<void> {
    if (this.processFolder) await fs.rm(await this.processFolder, { recursive: true, force: true });
    this.processFolder = undefined;
  }

  /** This process's folder; opened again at the next read when it could not be made. */
  private openProcessFolder(): Promise<string> {
    return openProcessFolder(readHoldsRoot(this.root)).catch((err: unknown) => {
      this.processFolder = undefined;
      throw err;
    });
  }

  /** Removes this process's reads older than {@link READ_HOLD_MS}. */
  private async sweep(own: string): Promise<void> {
    await removeReads(own, (read) => this.now() - Number(read.split('-')[0]) > READ_HOLD_MS);
  }
}

/** Why a read cannot hold its files (no hard links there, a full disk): it uses them in place. */
const UNHELD = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSPC', 'EDQUOT', 'EROFS']);

/** Links to `paths` under `read`, mirroring the files' folders and names. */
async function linkAll(read: string, files: readonly StoredFile[], paths: readonly string[]): Promise<string[]> {
  const links = files.map((f) => path.join(read, ...f.folder.split('/'), f.name));
  for (const folder of new Set(files.map((f) => f.folder))) await fs.mkdir(path.join(read, ...folder.split('/')), { recursive: true });
  for (let i = 0; i < paths.length; i += PARALLEL_LINKS) {
    await Promise.all(paths.slice(i, i + PARALLEL_LINKS).map((p, j) => link(p, links[i + j] as string)));
  }
  return links;
}

async function link(target: string, at: string): Promise<void> {
  try {
    await fs.link(target, at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArchiveFileGoneError(target);
    throw err;
  }
}

/** The files themselves, unheld (each still there now). */
async function inPlace(paths: readonly string[]): Promise<string[]> {
  for (const p of paths) if (!(await fs.access(p).then(() => true, () => false))) throw new ArchiveFileGoneError(p);
  return [...paths];
}

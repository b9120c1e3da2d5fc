/**
 * Where the archive's files live, behind one interface: a local folder (`LocalArchiveStorage`,
 * the default) or an S3-compatible bucket (`S3ArchiveStorage`). Everything above it (the
 * archiver's writer, the batch layer's readers, compaction, a person's erasure, retention)
 * speaks in folders and names; `packages/archive/README.md` says how each keeps the archive's
 * guarantees.
 *
 * A folder is a key relative to the archive root, with `/` between segments
 * (`events/dt=2026-11-20/hr=10`, `verdicts/dt=.../hr=...`, `views/<view>/dt=.../hr=...`).
 */

/** One published file of a folder. */
export interface StoredFile {
  readonly folder: string;
  readonly name: string;
  /**
   * When its content landed (ms): the batch layer finds late files by it. A rewrite of landed
   * content (compaction, erasure) keeps the time of what it rewrote.
   */
  readonly landedAtMs: number;
  readonly bytes: number;
}

/** A complete local file to publish under `name`. */
export interface StagedFile {
  /** Its local path (in a staging folder of this host); the storage takes it over. */
  readonly staged: string;
  readonly name: string;
  /** When its content landed, for a rewrite of landed content (default: now). */
  readonly landedAtMs?: number;
}

/** A published file with a local path DuckDB can read. */
export interface ReadableFile extends StoredFile {
  readonly path: string;
}

/** How a publish treats a file already published under the same name. */
export type PublishMode =
  /** Kept: the new one holds the same rows (an archiver's replay of the same offsets). */
  | 'keep-existing'
  /** Replaced whole (readers see the old or the new file). */
  | 'overwrite';

export interface ArchiveStorage {
  /** Where it is, for logs and answers (a path, or `s3://bucket/prefix`; never credentials). */
  readonly location: string;
  /** This host's local folder: staging folders (and, on S3, nothing else of the archive). */
  readonly localRoot: string;
  /** The published files of a folder, sorted by name; none when it has none. */
  list(folder: string): Promise<StoredFile[]>;
  /** {@link list} of each of `folders`, in their order (on S3 with fewer listings: the hours of a day together). */
  listFolders(folders: readonly string[]): Promise<StoredFile[][]>;
  /** The folders directly under `parent` (`views` -> the view names), sorted. */
  subfolders(parent: string): Promise<string[]>;
  /** Every hour with a `dt=/hr=` folder under `tree` (`events`, `verdicts`, `views/<view>`), sorted. */
  hours(tree: string): Promise<number[]>;
  /** Makes a staged file visible in `folder`, whole, in one step. */
  publish(file: StagedFile, folder: string, mode: PublishMode): Promise<StoredFile>;
  /**
   * Replaces `removed` with `added` in one folder (compaction, a person's erasure): readers see
   * the folder before or after, and the data of `added` is durable before any of `removed` goes.
   */
  replace(folder: string, removed: readonly StoredFile[], added: readonly StagedFile[]): Promise<void>;
  /** Removes published files (touchpoint verdicts of a replaced version). */
  remove(files: readonly StoredFile[]): Promise<void>;
  /** Removes a folder with everything in it (retention); returns the published files it held. */
  removeFolder(folder: string): Promise<number>;
  /**
   * Local paths of `files` for DuckDB, which stay readable even if the files are replaced
   * meanwhile, until {@link endReads} or for 10 minutes: hard links in a folder of the read on a
   * local folder, copies in this process's cache on S3. Throws `ArchiveFileGoneError` when one
   * was replaced already.
   */
  localPaths(files: readonly StoredFile[]): Promise<string[]>;
  /**
   * Ends what keeps replaced files readable for reads in flight (a person's erasure is done: the
   * rows it removed must not stay readable). Local: every read's links, of every process; S3:
   * nothing (a cache drops the copies no longer visible at its next listing of their folder).
   */
  releaseReads(): Promise<void>;
  /**
   * This process's reads are over (a batch worker's job ended): what keeps their files readable
   * goes. Local: this process's read links; S3: nothing (its cache keeps copies by its own bound).
   */
  endReads(): Promise<void>;
  /** Where a file is, for answers and logs (a path or an s3:// URL). */
  locationOf(file: StoredFile): string;
  close(): Promise<void>;
}

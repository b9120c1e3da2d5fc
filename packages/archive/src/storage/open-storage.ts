import path from 'node:path';
import type { ArchiveStorage } from './archive-storage.js';
import { ArchiveFileCache } from './file-cache.js';
import { LocalArchiveStorage } from './local-storage.js';
import type { S3ArchiveOptions } from './s3-storage.js';

/** The settings an archive storage is opened with (`@sigflow/config`: `archiver.dir` and `archive`). */
export interface ArchiveStorageSettings {
  /** The local folder (`SIGFLOW_ARCHIVE_DIR`): the archive, or with `s3` this host's staging folder. */
  readonly dir: string;
  readonly s3: S3ArchiveOptions | null;
  readonly cacheDir: string;
  readonly cacheBytes: number;
}

/** What a process does with the archive. */
export interface ArchiveStorageUse {
  /** It reads files (the batch layer): on S3 it gets a cache of local copies. */
  readonly reads: boolean;
  /** Told when the cache must hold more than its bound (files a job is using). */
  readonly onCacheOverflow?: (heldBytes: number) => void;
}

/**
 * The archive storage the settings choose: the local folder, or the S3 bucket of
 * `SIGFLOW_ARCHIVE_URL` (relative folders are resolved against the working directory).
 */
export async function openArchiveStorage(settings: ArchiveStorageSettings, use: ArchiveStorageUse): Promise<ArchiveStorage> {
  const dir = path.resolve(settings.dir);
  if (settings.s3 === null) return new LocalArchiveStorage(dir);
  const cache = use.reads
    ? await ArchiveFileCache.open(path.resolve(settings.cacheDir), { maxBytes: settings.cacheBytes, ...(use.onCacheOverflow ? { onOverflow: use.onCacheOverflow } : {}) })
    : null;
  // Loaded here, not imported above: a process with a local archive never loads the AWS SDK.
  const { createS3Client, S3ArchiveStorage } = await import('./s3-storage.js');
  return new S3ArchiveStorage(createS3Client(settings.s3), settings.s3, dir, cache);
}

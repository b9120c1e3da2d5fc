import { setTimeout as sleep } from 'node:timers/promises';
import { HOUR_MS } from '@sigflow/core';
import { hourFolderKey } from '../archive-layout.js';
import { ArchiveFileGoneError } from '../errors.js';
import type { ArchiveStorage, ReadableFile } from './archive-storage.js';

/** Times a read lists its folders again after a listed file was replaced before it was read. */
const RELISTS = 3;

/**
 * The pause before the first relisting, doubled before each next one (100, 200, 400 ms). A local
 * compaction deletes its inputs one by one after publishing its file: relisting at once met
 * that deletion still running three times in a row (the soak of 2026-11-29 03:47), so a
 * relisting waits for it to end.
 */
const FIRST_RELIST_PAUSE_MS = 100;

/**
 * The published files of `folders` with local paths DuckDB can read, in folder order. A file
 * replaced between the listing and its copy (a compaction or erasure that published meanwhile)
 * makes it list again after a pause: the reader gets the folder as it was before the replacement
 * or after it.
 */
export async function readableFiles(storage: ArchiveStorage, folders: readonly string[]): Promise<ReadableFile[]> {
  for (let attempt = 1; ; attempt++) {
    const files = (await storage.listFolders(folders)).flat();
    try {
      const paths = await storage.localPaths(files);
      return files.map((f, i) => ({ ...f, path: paths[i] as string }));
    } catch (err) {
      if (!(err instanceof ArchiveFileGoneError) || attempt > RELISTS) throw err;
    }
    await sleep(FIRST_RELIST_PAUSE_MS * 2 ** (attempt - 1));
  }
}

/** The event folders of the hours [from, to) (hour starts). */
export function eventFolders(from: number, to: number): string[] {
  const folders: string[] = [];
  for (let h = from; h < to; h += HOUR_MS) folders.push(hourFolderKey('events', h));
  return folders;
}

/** Local paths of the archive files of the hours [from, to), in hour order (the batch layer's reads). */
export async function readableRange(storage: ArchiveStorage, from: number, to: number): Promise<string[]> {
  return (await readableFiles(storage, eventFolders(from, to))).map((f) => f.path);
}

/** The published archive files of one hour. */
export function hourFiles(storage: ArchiveStorage, hourStart: number) {
  return storage.list(hourFolderKey('events', hourStart));
}

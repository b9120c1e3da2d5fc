import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveFileGoneError, LocalArchiveStorage, readableFiles, type StoredFile } from '../src/index.js';

const HOUR = 'events/dt=2026-11-20/hr=10';

/**
 * A local archive whose listings lag: until `freshAt` (ms since the epoch) a listing of HOUR
 * still shows `stale`, the files a compaction is deleting one by one, as a listing taken in the
 * middle of that deletion does.
 */
class LaggingListing extends LocalArchiveStorage {
  stale: StoredFile[] = [];
  freshAt = 0;
  listings = 0;

  override async listFolders(folders: readonly string[]): Promise<StoredFile[][]> {
    this.listings++;
    if (Date.now() < this.freshAt) return folders.map((f) => (f === HOUR ? this.stale : []));
    return super.listFolders(folders);
  }
}

// readableFiles lists again when a listed file is gone before its copy (ArchiveFileGoneError),
// pausing first (100, 200, 400 ms): relisting at once met a local compaction's deletion of its
// inputs still running three times in a row.
describe('readableFiles', () => {
  let dir: string;
  let storage: LaggingListing;

  const stage = (name: string) => {
    const staged = path.join(dir, `staged-${name}`);
    fs.writeFileSync(staged, name);
    return { staged, name };
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-readable-'));
    storage = new LaggingListing(path.join(dir, 'archive'));
    for (const name of ['p0-0-0.parquet', 'p0-1-1.parquet', 'p0-2-2.parquet']) await storage.publish(stage(name), HOUR, 'keep-existing');
    storage.stale = await storage.list(HOUR);
    await storage.replace(HOUR, storage.stale, [stage('p0-0-2.parquet')]);
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('waits out a replacement that takes 250 ms to finish, and returns the folder after it', async () => {
    const started = Date.now();
    storage.freshAt = started + 250;
    const files = await readableFiles(storage, [HOUR]);
    expect(files.map((f) => f.name)).toEqual(['p0-0-2.parquet']);
    expect(fs.readFileSync(files[0]!.path, 'utf8')).toBe('p0-0-2.parquet');
    // Listed at 0, ~100 and ~300 ms: the third listing is fresh.
    expect(storage.listings).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('gives up with ArchiveFileGoneError after three relistings (100 + 200 + 400 ms)', async () => {
    const started = Date.now();
    storage.freshAt = started + 10_000;
    const error = await readableFiles(storage, [HOUR]).then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(ArchiveFileGoneError);
    expect(storage.listings).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });
});

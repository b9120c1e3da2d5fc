import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveFileGoneError, LocalArchiveStorage, readableFiles } from '../src/index.js';
import { READ_HOLD_MS, ReadHolds, readHoldsRoot } from '../src/storage/read-holds.js';
import { filesUnder } from '@sigflow/test-support';

const HOUR = 'events/dt=2026-11-20/hr=10';
const NEXT = 'events/dt=2026-11-20/hr=11';

// A read of a local archive reads hard links to the files it listed: a compaction that deletes
// them after publishing its merge (a long recompute read spans several) no longer fails it.
describe('read holds of a local archive', () => {
  let dir: string;
  let root: string;
  let storage: LocalArchiveStorage;

  const stage = (name: string, content = name) => {
    const staged = path.join(dir, `staged-${name}-${Math.random()}`);
    fs.writeFileSync(staged, content);
    return { staged, name };
  };

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-holds-'));
    root = path.join(dir, 'archive');
    storage = new LocalArchiveStorage(root);
    for (const name of ['p0-0-0.parquet', 'p0-1-1.parquet']) await storage.publish(stage(name), HOUR, 'keep-existing');
    await storage.publish(stage('p1-0-0.parquet'), NEXT, 'keep-existing');
  });

  afterEach(async () => {
    await storage.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the listed files readable after a compaction replaced them, and a new listing reads the merge', async () => {
    const listed = await readableFiles(storage, [HOUR, NEXT]);
    expect(listed.map((f) => `${f.folder}/${f.name}`)).toEqual([`${HOUR}/p0-0-0.parquet`, `${HOUR}/p0-1-1.parquet`, `${NEXT}/p1-0-0.parquet`]);
    await storage.replace(HOUR, await storage.list(HOUR), [stage('p0-0-1.parquet', 'merged')]);
    expect(fs.existsSync(path.join(root, HOUR, 'p0-0-0.parquet'))).toBe(false);
    // The read's paths still hold what it listed, under the archive's folders and names.
    expect(listed.map((f) => fs.readFileSync(f.path, 'utf8'))).toEqual(['p0-0-0.parquet', 'p0-1-1.parquet', 'p1-0-0.parquet']);
    expect(listed.every((f) => f.path.startsWith(readHoldsRoot(root)) && f.path.endsWith(path.join(...f.folder.split('/'), f.name)))).toBe(true);
    const after = await readableFiles(storage, [HOUR]);
    expect(after.map((f) => [f.name, fs.readFileSync(f.path, 'utf8')])).toEqual([['p0-0-1.parquet', 'merged']]);
  });

  it('refuses a file already gone when the read holds it (ArchiveFileGoneError: list again)', async () => {
    const listed = await storage.list(HOUR);
    await storage.replace(HOUR, listed, [stage('p0-0-1.parquet')]);
    await expect(storage.localPaths(listed)).rejects.toBeInstanceOf(ArchiveFileGoneError);
  });

  it('reads the files in place where the holds folder takes no links to them (another filesystem: EXDEV), and leaves no read folder', async () => {
    // The holds folder on /dev/shm's tmpfs, the archive on the temporary folder's filesystem.
    const elsewhere = fs.mkdtempSync(path.join('/dev/shm', 'sigflow-holds-'));
    try {
      expect(fs.statSync(elsewhere).dev).not.toBe(fs.statSync(root).dev);
      fs.symlinkSync(elsewhere, readHoldsRoot(root));
      const listed = await readableFiles(storage, [HOUR, NEXT]);
      expect(listed.map((f) => f.path)).toEqual([path.join(root, HOUR, 'p0-0-0.parquet'), path.join(root, HOUR, 'p0-1-1.parquet'), path.join(root, NEXT, 'p1-0-0.parquet')]);
      expect(listed.map((f) => fs.readFileSync(f.path, 'utf8'))).toEqual(['p0-0-0.parquet', 'p0-1-1.parquet', 'p1-0-0.parquet']);
      // Only the process's folder is there: the read's own folder went with its failed links.
      expect(fs.readdirSync(elsewhere, { recursive: true })).toHaveLength(1);
      // Unheld, a file a compaction removed is gone for the read: it lists again.
      await storage.replace(HOUR, await storage.list(HOUR), [stage('p0-0-1.parquet', 'merged')]);
      await expect(storage.localPaths(listed)).rejects.toBeInstanceOf(ArchiveFileGoneError);
    } finally {
      await storage.close();
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("sweeps this process's reads older than 10 minutes at its next read, and its folder at close", async () => {
    let now = 1_000_000;
    const holds = new ReadHolds(root, () => now);
    const files = await storage.list(HOUR);
    const paths = files.map((f) => path.join(root, HOUR, f.name));
    const [first] = await holds.hold(files, paths);
    now += READ_HOLD_MS;
    const [second] = await holds.hold(files, paths);
    expect([fs.existsSync(first!), fs.existsSync(second!)]).toEqual([true, true]);
    now += 1;
    const [third] = await holds.hold(files, paths);
    expect([fs.existsSync(first!), fs.existsSync(second!), fs.existsSync(third!)]).toEqual([false, true, true]);
    await holds.close();
    expect(fs.existsSync(third!)).toBe(false);
    expect(fs.existsSync(path.join(root, HOUR, files[0]!.name))).toBe(true);
  });

  it("endReads ends this process's holds only (a batch job's reads are over)", async () => {
    const other = new LocalArchiveStorage(root);
    try {
      const mine = await readableFiles(storage, [HOUR]);
      const theirs = await readableFiles(other, [NEXT]);
      await storage.endReads();
      expect(mine.map((f) => fs.existsSync(f.path))).toEqual([false, false]);
      expect(theirs.map((f) => fs.readFileSync(f.path, 'utf8'))).toEqual(['p1-0-0.parquet']);
      const again = await readableFiles(storage, [HOUR]);
      expect(again.map((f) => fs.readFileSync(f.path, 'utf8'))).toEqual(['p0-0-0.parquet', 'p0-1-1.parquet']);
    } finally {
      await other.close();
    }
  });

  it("releaseReads ends every process's holds (a person's erasure is done), and reads go on after it", async () => {
    const other = new LocalArchiveStorage(root);
    try {
      await readableFiles(storage, [HOUR]);
      await readableFiles(other, [HOUR, NEXT]);
      expect(filesUnder(readHoldsRoot(root))).toHaveLength(5);
      await storage.releaseReads();
      expect(filesUnder(readHoldsRoot(root))).toEqual([]);
      const again = await readableFiles(other, [NEXT]);
      expect(fs.readFileSync(again[0]!.path, 'utf8')).toBe('p1-0-0.parquet');
    } finally {
      await other.close();
    }
  });
});

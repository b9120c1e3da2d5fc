import fs from 'node:fs/promises';
import path from 'node:path';
import { parseHourPartition } from '../archive-layout.js';
import { publishFile } from '../atomic-file.js';
import type { ArchiveStorage, PublishMode, StagedFile, StoredFile } from './archive-storage.js';
import { ReadHolds } from './read-holds.js';

async function readdirOrNone(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * The archive in a local folder (the default, `SIGFLOW_ARCHIVE_DIR`): a file is published by
 * fsync and rename (visible whole or not at all), a replacement is published before what it
 * replaces is removed (a reader in between sees some rows twice, which the batch layer's dedupe
 * absorbs), and DuckDB reads hard links to the files a read listed (`ReadHolds`), so a
 * replacement that deletes them meanwhile does not fail the read.
 */
export class LocalArchiveStorage implements ArchiveStorage {
  readonly location: string;
  private readonly holds: ReadHolds;

  constructor(readonly localRoot: string) {
    this.location = localRoot;
    this.holds = new ReadHolds(localRoot);
  }

  private pathOf(folder: string, name = ''): string {
    return path.join(this.localRoot, ...folder.split('/'), name);
  }

  async list(folder: string): Promise<StoredFile[]> {
    const dir = this.pathOf(folder);
    const names = (await readdirOrNone(dir)).filter((n) => n.endsWith('.parquet')).sort();
    const files = await Promise.all(
      names.map(async (name) => {
        const st = await fs.stat(path.join(dir, name)).catch(() => null);
        return st === null ? null : { folder, name, landedAtMs: st.mtimeMs, bytes: st.size };
      }),
    );
    return files.filter((f): f is StoredFile => f !== null);
  }

  listFolders(folders: readonly string[]): Promise<StoredFile[][]> {
    return Promise.all(folders.map((f) => this.list(f)));
  }

  async subfolders(parent: string): Promise<string[]> {
    const entries = await fs.readdir(this.pathOf(parent), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  async hours(tree: string): Promise<number[]> {
    const base = this.pathOf(tree);
    const hours: number[] = [];
    for (const dt of await readdirOrNone(base)) {
      for (const hr of await readdirOrNone(path.join(base, dt)).catch(() => [])) {
        const h = parseHourPartition(dt, hr);
        if (h !== null) hours.push(h);
      }
    }
    return hours.sort((a, b) => a - b);
  }

  async publish(file: StagedFile, folder: string, _mode: PublishMode): Promise<StoredFile> {
    const { size } = await fs.stat(file.staged);
    const landedAtMs = file.landedAtMs ?? Date.now();
    await publishFile(file.staged, this.pathOf(folder, file.name), { landedAtMs });
    return { folder, name: file.name, landedAtMs, bytes: size };
  }

  async replace(folder: string, removed: readonly StoredFile[], added: readonly StagedFile[]): Promise<void> {
    for (const file of added) await this.publish(file, folder, 'overwrite');
    const kept = new Set(added.map((f) => f.name));
    for (const file of removed) if (!kept.has(file.name)) await fs.rm(this.pathOf(folder, file.name), { force: true });
  }

  async remove(files: readonly StoredFile[]): Promise<void> {
    for (const file of files) await fs.rm(this.pathOf(file.folder, file.name), { force: true });
  }

  async removeFolder(folder: string): Promise<number> {
    const dir = this.pathOf(folder);
    const files = (await readdirOrNone(dir)).filter((n) => n.endsWith('.parquet')).length;
    await fs.rm(dir, { recursive: true, force: true });
    // A `dt=` folder emptied by it goes too.
    await fs.rmdir(path.dirname(dir)).catch(() => undefined);
    return files;
  }

  localPaths(files: readonly StoredFile[]): Promise<string[]> {
    return this.holds.hold(files, files.map((f) => this.pathOf(f.folder, f.name)));
  }

  releaseReads(): Promise<void> {
    return this.holds.releaseAll();
  }

  endReads(): Promise<void> {
    return this.holds.releaseOwn();
  }

  locationOf(file: StoredFile): string {
    return this.pathOf(file.folder, file.name);
  }

  close(): Promise<void> {
    return this.holds.close();
  }
}

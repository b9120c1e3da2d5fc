import fs from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { openProcessFolder } from '../process-folder.js';

/** How a cache is bounded. */
export interface FileCacheOptions {
  /** Bytes it may hold; the least recently used files go first. */
  readonly maxBytes: number;
  /**
   * A file used this recently is not evicted, even past `maxBytes` (default 10 minutes): a
   * batch pass lists its hours' files, then reads them; evicting one in between would fail it.
   */
  readonly holdMs?: number;
  /** Told when the files held must exceed `maxBytes` (they were all used within `holdMs`). */
  readonly onOverflow?: (heldBytes: number) => void;
  readonly now?: () => number;
}

interface Entry {
  readonly bytes: number;
  lastUsed: number;
}

/**
 * Local copies of archive files, under this process's own folder (`<host>--<pid>--<id>`, so
 * batch workers sharing a host never evict each other's files mid-read), keyed by the file's
 * folder and name. Every name on object storage holds the same bytes for its life (replacements
 * get new names), so a copy is never stale; copies of files no longer visible are dropped
 * ({@link retainOnly}) so a person's erased rows do not stay here.
 */
export class ArchiveFileCache {
  /** Entries in least recently used order (a Map keeps insertion order; a use re-inserts). */
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<string>>();
  private heldBytes = 0;
  private readonly now: () => number;

  private constructor(
    readonly dir: string,
    private readonly options: FileCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A cache in a new folder of this process under `base` (dead processes' folders removed). */
  static async open(base: string, options: FileCacheOptions): Promise<ArchiveFileCache> {
    return new ArchiveFileCache(await openProcessFolder(base), options);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.heldBytes;
  }

  private pathOf(key: string): string {
    return path.join(this.dir, ...key.split('/'));
  }

  /**
   * The local path of `key` (`<folder>/<name>`), `bytes` long, copied in by `download` (given a
   * temporary path in the cache's folder) when it is not held.
   */
  async get(key: string, bytes: number, download: (temp: string) => Promise<void>): Promise<string> {
    const entry = this.entries.get(key);
    if (entry) {
      this.touch(key, entry);
      return this.pathOf(key);
    }
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const load = this.load(key, bytes, download).finally(() => this.loading.delete(key));
    this.loading.set(key, load);
    return load;
  }

  /** Takes over a local file as the copy of `key` (a file this process just published). */
  async put(key: string, file: string): Promise<void> {
    const { size } = await fs.stat(file);
    await this.makeRoom(size);
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(file, target);
    this.add(key, size);
  }

  /** Drops the copies under `folder` whose names are not in `names` (replaced or erased files). */
  async retainOnly(folder: string, names: ReadonlySet<string>): Promise<void> {
    const prefix = `${folder}/`;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix) && !key.slice(prefix.length).includes('/') && !names.has(key.slice(prefix.length))) await this.drop(key);
    }
  }

  /** Drops every copy under `folder` (a folder removed by retention). */
  async dropFolder(folder: string): Promise<void> {
    await this.retainOnly(folder, new Set());
  }

  /** Removes the cache's folder (clean shutdown). */
  async close(): Promise<void> {
    this.entries.clear();
    this.heldBytes = 0;
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  private async load(key: string, bytes: number, download: (temp: string) => Promise<void>): Promise<string> {
    await this.makeRoom(bytes);
    const temp = path.join(this.dir, `${randomUUID()}.part`);
    const target = this.pathOf(key);
    try {
      await download(temp);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
    this.add(key, bytes);
    return target;
  }

  private add(key: string, bytes: number): void {
    this.entries.set(key, { bytes, lastUsed: this.now() });
    this.heldBytes += bytes;
  }

  private touch(key: string, entry: Entry): void {
    entry.lastUsed = this.now();
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private async drop(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.heldBytes -= entry.bytes;
    await fs.rm(this.pathOf(key), { force: true });
  }

  /** Evicts least recently used copies not used within `holdMs` until `incoming` more bytes fit. */
  private async makeRoom(incoming: number): Promise<void> {
    const holdSince = this.now() - (this.options.holdMs ?? 600_000);
    for (const [key, entry] of [...this.entries]) {
      if (this.heldBytes + incoming <= this.options.maxBytes) return;
      if (entry.lastUsed < holdSince) await this.drop(key);
    }
    if (this.heldBytes + incoming > this.options.maxBytes) this.options.onOverflow?.(this.heldBytes + incoming);
  }
}

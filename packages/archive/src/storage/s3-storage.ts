import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3ArchiveConfig } from '@sigflow/config';
import { parseHourPartition } from '../archive-layout.js';
import { ArchiveFileGoneError, ArchiveStorageError } from '../errors.js';
import type { ArchiveStorage, PublishMode, StagedFile, StoredFile } from './archive-storage.js';
import type { ArchiveFileCache } from './file-cache.js';
import {
  appliedManifests,
  conflictsWith,
  isManifestName,
  landedAtOfListed,
  MANIFEST_FOLDER,
  manifestName,
  nextManifestNumber,
  newTag,
  parseManifest,
  sweepable,
  taggedName,
  visibleFiles,
  type HourManifest,
  type ListedManifest,
  type ListedObject,
} from './hour-manifest.js';

/** Where the archive is on S3 and how to reach it, as `@sigflow/config` reads it. */
export type S3ArchiveOptions = S3ArchiveConfig;

/** A folder as listed: its data objects and its manifests. */
interface FolderState {
  readonly objects: ListedObject[];
  readonly manifests: ListedManifest[];
}

/** Files larger than this go up in parts of this size (S3's minimum part is 5 MiB). */
const PART_BYTES = 8 * 1024 * 1024;
/** Requests a listing or a fetch keeps in flight. */
const PARALLEL = 8;
/** A replacement no manifest names is an orphan this long after it was put (see `sweepable`). */
const ORPHAN_AGE_MS = 3_600_000;

/** The S3 client of a bucket: path-style for local servers; checksums only where S3 requires them (GCS and older servers take no others). */
export function createS3Client(options: S3ArchiveOptions): S3Client {
  return new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    maxAttempts: 5,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

function statusOf(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

/** The folder `folder` is in (`events/dt=2026-11-20` of `events/dt=2026-11-20/hr=10`). */
function parentOf(folder: string): string {
  return folder.slice(0, folder.lastIndexOf('/'));
}

/** Runs `fn` over `items`, at most {@link PARALLEL} at a time, results in order. */
async function inParallel<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, run));
  return out;
}

/**
 * The archive in an S3-compatible bucket: the same folders and names as on disk, as keys under
 * the configured prefix. S3 has no rename; a put (and a multipart upload, at its completion) is
 * visible whole or not at all, so:
 * - an archiver's file is put under its final name, once (`If-None-Match: *`: a replay's file of
 *   the same name holds the same rows, and the one there stays);
 * - a replacement (compaction, erasure) is put under a tagged name and published, with what it
 *   replaces, by one manifest (`hour-manifest.ts`: the first of two that replace the same files
 *   wins); the replaced objects are deleted after it;
 * - readers list a folder and its manifests, and read local copies from this process's cache.
 */
export class S3ArchiveStorage implements ArchiveStorage {
  readonly location: string;
  /** Manifests read so far, by key and ETag (a manifest never changes). */
  private readonly manifests = new Map<string, ListedManifest>();
  /** False once the server refused `If-None-Match` (then a put overwrites: the same rows). */
  private conditionalPuts = true;
  /** Whether the server honours `If-None-Match` on puts, checked at the first replacement. */
  private conditionalPutCheck: Promise<void> | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly options: S3ArchiveOptions,
    readonly localRoot: string,
    private readonly cache: ArchiveFileCache | null,
  ) {
    this.location = `s3://${options.bucket}/${options.prefix}`;
  }

  private key(folder: string, name = ''): string {
    return `${this.options.prefix}${folder}/${name}`;
  }

  locationOf(file: StoredFile): string {
    return `s3://${this.options.bucket}/${this.key(file.folder, file.name)}`;
  }

  /** Every object under `prefix`, page by page. */
  private async listAll(prefix: string, delimiter?: string): Promise<{ objects: _Object[]; folders: string[] }> {
    const objects: _Object[] = [];
    const folders: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.send(`listing ${prefix}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token })),
      );
      objects.push(...(page.Contents ?? []));
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { objects, folders };
  }

  /**
   * The folder's data objects, then its manifests, as listed now: in this order (see
   * `visibleFiles`), each listing strongly consistent as S3 lists since 2020.
   */
  private async folderState(folder: string): Promise<FolderState> {
    const base = this.key(folder);
    const data = (await this.listAll(base, '/')).objects
      .map((o) => ({ name: (o.Key ?? '').slice(base.length), bytes: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0 }))
      .filter((o) => o.name.endsWith('.parquet'));
    const manifests = (await this.listAll(`${base}${MANIFEST_FOLDER}/`, '/')).objects.filter((o) => o.Key?.endsWith('.json'));
    return { objects: data, manifests: await inParallel(manifests, (o) => this.manifest(o)) };
  }

  /** A listed manifest's content, read once per key and ETag (a folder removed by retention may number its manifests again). */
  private async manifest(listed: _Object): Promise<ListedManifest> {
    const key = listed.Key as string;
    const name = key.slice(key.lastIndexOf('/') + 1);
    if (!isManifestName(name)) throw new ArchiveStorageError(`manifest ${key} is not named as one (<15 digits>.json)`);
    const known = this.manifests.get(`${key} ${listed.ETag}`);
    if (known) return known;
    const answer = await this.send(`reading ${key}`, () => this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key })));
    const text = await (answer.Body as { transformToString(): Promise<string> }).transformToString();
    const manifest = { name, ...parseManifest(key, text) };
    this.manifests.set(`${key} ${listed.ETag}`, manifest);
    return manifest;
  }

  async list(folder: string): Promise<StoredFile[]> {
    return this.visibleIn(folder, await this.folderState(folder));
  }

  /**
   * The folders' files, listed by their parents: the hours of one day (`events/dt=...`) in two
   * listings of the day, data objects then manifests, instead of two per hour (a pass's
   * attribution lookback reads a week of hours' verdict folders, mostly empty).
   */
  async listFolders(folders: readonly string[]): Promise<StoredFile[][]> {
    const byParent = new Map<string, string[]>();
    for (const f of folders) byParent.set(parentOf(f), [...(byParent.get(parentOf(f)) ?? []), f]);
    const states = new Map<string, FolderState>();
    await inParallel([...byParent.values()], async (members) => {
      if (members.length === 1) states.set(members[0] as string, await this.folderState(members[0] as string));
      else for (const [folder, state] of await this.parentState(parentOf(members[0] as string), members)) states.set(folder, state);
    });
    return Promise.all(folders.map((f) => this.visibleIn(f, states.get(f) as FolderState)));
  }

  /** What readers see in `folder` in a listed state; the cache drops its copies of files no longer there. */
  private async visibleIn(folder: string, { objects, manifests }: FolderState): Promise<StoredFile[]> {
    const visible = visibleFiles(objects, manifests).map((f) => ({ folder, ...f }));
    await this.cache?.retainOnly(folder, new Set(visible.map((f) => f.name)));
    return visible;
  }

  /** The states of `members`, subfolders of `parent`, from two listings of the parent: data objects, then manifests. */
  private async parentState(parent: string, members: readonly string[]): Promise<Map<string, FolderState>> {
    const base = this.key(parent);
    const states = new Map(members.map((m) => [m, { objects: [] as ListedObject[], manifests: [] as _Object[] }]));
    const place = (o: _Object) => {
      const rest = (o.Key ?? '').slice(base.length);
      const slash = rest.indexOf('/');
      return { state: states.get(`${parent}/${rest.slice(0, slash)}`), name: rest.slice(slash + 1) };
    };
    for (const o of (await this.listAll(base)).objects) {
      const { state, name } = place(o);
      if (state && !name.includes('/') && name.endsWith('.parquet')) state.objects.push({ name, bytes: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0 });
    }
    for (const o of (await this.listAll(base)).objects) {
      const { state, name } = place(o);
      if (state && name.startsWith(`${MANIFEST_FOLDER}/`) && name.endsWith('.json')) state.manifests.push(o);
    }
    const out = new Map<string, FolderState>();
    for (const [folder, s] of states) out.set(folder, { objects: s.objects, manifests: await inParallel(s.manifests, (m) => this.manifest(m)) });
    return out;
  }

  async subfolders(parent: string): Promise<string[]> {
    return (await this.listAll(this.key(parent), '/')).folders.sort();
  }

  async hours(tree: string): Promise<number[]> {
    const days = await this.subfolders(tree);
    const perDay = await inParallel(days, async (dt) => (await this.subfolders(`${tree}/${dt}`)).map((hr) => parseHourPartition(dt, hr)));
    return perDay.flat().filter((h): h is number => h !== null).sort((a, b) => a - b);
  }

  async publish(file: StagedFile, folder: string, mode: PublishMode): Promise<StoredFile> {
    const key = this.key(folder, file.name);
    const existing = mode === 'keep-existing' ? await this.head(key) : null;
    if (existing) {
      await fs.rm(file.staged, { force: true });
      return { folder, name: file.name, ...existing };
    }
    const { size } = await fs.stat(file.staged);
    await this.upload(file.staged, key, size, mode === 'keep-existing');
    await this.keepCopy(folder, file.name, file.staged);
    return { folder, name: file.name, landedAtMs: file.landedAtMs ?? Date.now(), bytes: size };
  }

  /**
   * What is stored under `key` (size, and when it landed as a listing says it), or null. Asked
   * before a put that keeps what is there, since not every server honours `If-None-Match`
   * (s3proxy's filesystem backend ignores it and overwrites).
   */
  private async head(key: string): Promise<{ bytes: number; landedAtMs: number } | null> {
    try {
      const answer = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return { bytes: answer.ContentLength ?? 0, landedAtMs: landedAtOfListed(answer.LastModified?.getTime() ?? 0) };
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw new ArchiveStorageError(`reading s3://${this.options.bucket}/${key} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Uploads the replacements, then claims the folder's next manifest number with them
   * (`hour-manifest.ts`): while the files to remove still hold after the listed manifests, put
   * the next number if absent; another writer's put of that number first means listing again.
   * When another writer replaced some of the same files first, this replacement never shows:
   * its uploads are deleted and `ArchiveFileGoneError` says so.
   */
  async replace(folder: string, removed: readonly StoredFile[], added: readonly StagedFile[]): Promise<void> {
    await this.requireConditionalPuts();
    const manifest: HourManifest = { adds: await this.uploadReplacements(folder, added), removes: removed.map((f) => f.name) };
    for (;;) {
      const state = await this.folderState(folder);
      if (conflictsWith(appliedManifests(state.manifests), manifest.removes) !== null) {
        await this.deleteKeys(manifest.adds.map((a) => this.key(folder, a.name)));
        throw new ArchiveFileGoneError(this.locationOf(removed[0] as StoredFile));
      }
      const key = this.key(`${folder}/${MANIFEST_FOLDER}`, manifestName(nextManifestNumber(state.manifests)));
      if (await this.putIfAbsent(key, JSON.stringify(manifest))) return void (await this.sweep(folder));
    }
  }

  /** Puts a manifest unless its number is taken: false when another writer's put came first. */
  private async putIfAbsent(key: string, body: string): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
      return true;
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 409) return false;
      throw new ArchiveStorageError(`publishing s3://${this.options.bucket}/${key} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Checks once that the server honours `If-None-Match: *` on a put (a second put of one key is
   * refused), which replacements need to claim a manifest number. AWS S3 (since 2024), GCS,
   * Cloudflare R2, MinIO and S3Proxy 4.1 do (checked); S3Proxy 2.6 accepts the header and overwrites.
   */
  private requireConditionalPuts(): Promise<void> {
    this.conditionalPutCheck ??= (async () => {
      const key = `${this.options.prefix}_sigflow/conditional-put-check/${newTag()}`;
      const first = await this.putIfAbsent(key, '1');
      const second = first && (await this.putIfAbsent(key, '2'));
      await this.deleteKeys([key]);
      if (second) {
        throw new ArchiveStorageError(
          `s3://${this.options.bucket} ignores If-None-Match on puts: compaction and a person's erasure need conditional writes to publish a replacement (AWS S3, GCS, R2, MinIO, S3Proxy 4.1)`,
        );
      }
    })();
    return this.conditionalPutCheck;
  }

  /** Puts each staged file under a tagged name, invisible until a manifest adds it. */
  private async uploadReplacements(folder: string, added: readonly StagedFile[]): Promise<HourManifest['adds'][number][]> {
    const adds: HourManifest['adds'][number][] = [];
    for (const file of added) {
      const name = taggedName(file.name, newTag());
      const { size } = await fs.stat(file.staged);
      await this.upload(file.staged, this.key(folder, name), size, true);
      adds.push({ name, landedAtMs: file.landedAtMs ?? Date.now(), bytes: size });
      await this.keepCopy(folder, name, file.staged);
    }
    return adds;
  }

  /** Deletes what the folder's applied manifests removed, and replacements orphaned by a writer that died or lost. */
  async sweep(folder: string): Promise<number> {
    const { objects, manifests } = await this.folderState(folder);
    const names = sweepable(objects, manifests, Date.now(), ORPHAN_AGE_MS);
    await this.deleteKeys(names.map((n) => this.key(folder, n)));
    return names.length;
  }

  async remove(files: readonly StoredFile[]): Promise<void> {
    await this.deleteKeys(files.map((f) => this.key(f.folder, f.name)));
  }

  async removeFolder(folder: string): Promise<number> {
    const base = this.key(folder);
    const { objects, manifests } = await this.folderState(folder);
    const published = visibleFiles(objects, manifests).length;
    await this.deleteKeys((await this.listAll(base)).objects.map((o) => o.Key as string));
    await this.cache?.dropFolder(folder);
    return published;
  }

  async localPaths(files: readonly StoredFile[]): Promise<string[]> {
    const cache = this.cache;
    if (!cache) throw new ArchiveStorageError('this process reads no archive files (opened without a cache)');
    return inParallel(files, (f) => cache.get(`${f.folder}/${f.name}`, f.bytes, (temp) => this.download(this.key(f.folder, f.name), temp)));
  }

  /** Nothing to end: a cache drops the copies no longer visible at its next listing of their folder. */
  async releaseReads(): Promise<void> {}

  /** Nothing to end: the cache keeps copies by its own bound and hold time. */
  async endReads(): Promise<void> {}

  async close(): Promise<void> {
    await this.cache?.close();
    this.client.destroy();
  }

  private async download(key: string, target: string): Promise<void> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      await pipeline(answer.Body as Readable, createWriteStream(target));
    } catch (err) {
      if (statusOf(err) === 404) throw new ArchiveFileGoneError(`s3://${this.options.bucket}/${key}`);
      throw new ArchiveStorageError(`reading s3://${this.options.bucket}/${key} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Puts a local file: whole or in parts; with `ifAbsent`, an object already there is kept. */
  private async upload(file: string, key: string, size: number, ifAbsent: boolean): Promise<void> {
    const condition = ifAbsent && this.conditionalPuts ? { IfNoneMatch: '*' } : {};
    const params = { Bucket: this.options.bucket, Key: key, ContentType: 'application/vnd.apache.parquet', ...condition };
    try {
      if (size <= PART_BYTES) await this.client.send(new PutObjectCommand({ ...params, Body: await fs.readFile(file), ContentLength: size }));
      else await new Upload({ client: this.client, params: { ...params, Body: createReadStream(file) }, partSize: PART_BYTES, queueSize: 4 }).done();
    } catch (err) {
      const status = statusOf(err);
      if (status === 412) return;
      if (status === 501 && 'IfNoneMatch' in condition) {
        this.conditionalPuts = false;
        return this.upload(file, key, size, ifAbsent);
      }
      throw new ArchiveStorageError(`putting s3://${this.options.bucket}/${key} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Keeps a just published file as this process's copy (a batch worker reads what it wrote), else removes it. */
  private async keepCopy(folder: string, name: string, staged: string): Promise<void> {
    if (this.cache) await this.cache.put(`${folder}/${name}`, staged);
    else await fs.rm(staged, { force: true });
  }

  /**
   * Deletes objects one request each, {@link PARALLEL} at a time: multi-object delete is not
   * served by GCS's S3 interoperability, and s3proxy refuses the checksum header the SDK sends
   * with it instead of Content-MD5 (501). Deleting an absent key succeeds.
   */
  private async deleteKeys(keys: readonly string[]): Promise<void> {
    await inParallel(keys, (Key) => this.send(`deleting ${Key}`, () => this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key }))));
  }

  private async send<T>(what: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw new ArchiveStorageError(`${what} in s3://${this.options.bucket} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}

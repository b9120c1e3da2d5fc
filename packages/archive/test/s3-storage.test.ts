import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScratchS3Proxy, type ScratchS3Proxy } from '../../../infra/s3proxy/s3proxy.mjs';
import { createS3Client, type S3ArchiveStorage } from '../src/storage/s3-storage.js';
import {
  ArchiveFileGoneError,
  openArchiveStorage,
  readableFiles,
  type ArchiveStorage,
  type S3ArchiveOptions,
  type StoredFile,
} from '../src/index.js';

const BUCKET = 'sigflow-archive-test';
const HOUR_10 = 'events/dt=2026-11-20/hr=10';
const HOUR_11 = 'events/dt=2026-11-20/hr=11';

/** A staged file holding `ids`, one a line: the "rows" these tests count. */
function stage(dir: string, ids: readonly string[]): string {
  const file = path.join(dir, `staged-${Math.random().toString(16).slice(2)}`);
  fs.writeFileSync(file, ids.map((id) => `${id}\n`).join(''));
  return file;
}

/** The ids of the files a reader sees in `folders`, read from its local copies. */
async function readIds(storage: ArchiveStorage, folders: readonly string[]): Promise<string[]> {
  const files = await readableFiles(storage, folders);
  return files.flatMap((f) => fs.readFileSync(f.path, 'utf8').split('\n').filter((l) => l !== '')).sort();
}

const range = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);

// S3ArchiveStorage against a real S3 server (S3Proxy, filesystem backend, started by this suite):
// the publish step, replacement by manifest, the sweep, retention, listing and the local copies.
describe('S3ArchiveStorage on S3Proxy', () => {
  let server: ScratchS3Proxy;
  let work: string;
  let options: S3ArchiveOptions;
  let client: S3Client;
  const opened: ArchiveStorage[] = [];

  /** A storage of one "host": its own staging folder and cache, the shared bucket under `prefix`. */
  async function host(prefix: string, cacheBytes = 64 * 1024 ** 2): Promise<S3ArchiveStorage> {
    const dir = fs.mkdtempSync(path.join(work, 'host-'));
    const env = server.archiveEnv(BUCKET, prefix);
    const s3 = { ...options, prefix: env.SIGFLOW_ARCHIVE_URL.replace(`s3://${BUCKET}/`, '') };
    const storage = await openArchiveStorage({ dir, s3, cacheDir: path.join(dir, 'cache'), cacheBytes }, { reads: true });
    opened.push(storage);
    return storage as S3ArchiveStorage;
  }

  /** The objects under `prefix`, less the folder markers S3Proxy's filesystem backend lists (`a/b/`). */
  async function keysUnder(prefix: string): Promise<string[]> {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => (o.Key as string).slice(prefix.length)).filter((k) => !k.endsWith('/')).sort();
  }

  beforeAll(async () => {
    server = await startScratchS3Proxy({ name: 'archive-test', buckets: [BUCKET] });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-s3-storage-'));
    const env = server.archiveEnv(BUCKET);
    options = {
      bucket: BUCKET,
      prefix: '',
      endpoint: env.SIGFLOW_ARCHIVE_S3_ENDPOINT,
      region: env.SIGFLOW_ARCHIVE_S3_REGION,
      credentials: { accessKeyId: env.SIGFLOW_ARCHIVE_S3_ACCESS_KEY_ID, secretAccessKey: env.SIGFLOW_ARCHIVE_S3_SECRET_ACCESS_KEY },
      forcePathStyle: true,
    };
    client = createS3Client(options);
  }, 120_000);
  afterAll(async () => {
    for (const s of opened) await s.close().catch(() => undefined);
    client?.destroy();
    await server?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('publishes under the final name; keep-existing keeps the first file, overwrite replaces it', async () => {
    const a = await host('publish/');
    const first = await a.publish({ staged: stage(work, ['e1', 'e2']), name: 'p0-0-1.parquet' }, HOUR_10, 'keep-existing');
    expect(first).toMatchObject({ folder: HOUR_10, name: 'p0-0-1.parquet', bytes: 6 });
    const kept = await a.publish({ staged: stage(work, ['e1', 'e2', 'e3']), name: 'p0-0-1.parquet' }, HOUR_10, 'keep-existing');
    expect(kept.bytes).toBe(6);
    expect(await readIds(await host('publish/'), [HOUR_10])).toEqual(['e1', 'e2']);
    await a.publish({ staged: stage(work, ['e1', 'e2', 'e3']), name: 'p0-0-1.parquet' }, HOUR_10, 'overwrite');
    expect(await readIds(await host('publish/'), [HOUR_10])).toEqual(['e1', 'e2', 'e3']);
    expect(await keysUnder('publish/')).toEqual([`${HOUR_10}/p0-0-1.parquet`]);
  });

  it('a file larger than a part goes up in parts and is listed only whole', async () => {
    const a = await host('multipart/');
    const reader = await host('multipart/');
    const big = path.join(work, 'big');
    // 17 MiB + 3 bytes: two 8 MiB parts and a third of 1 MiB + 3 bytes.
    const bytes = Buffer.alloc(17 * 1024 * 1024 + 3);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
    fs.writeFileSync(big, bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    let done = false;
    const upload = a.publish({ staged: big, name: 'p1-0-99.parquet' }, HOUR_10, 'overwrite').finally(() => (done = true));
    const seen: number[] = [];
    while (!done) {
      for (const f of await reader.list(HOUR_10)) seen.push(f.bytes);
    }
    await upload;
    expect(seen.every((b) => b === bytes.length)).toBe(true);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `multipart/${HOUR_10}/p1-0-99.parquet` }));
    expect(head.ContentLength).toBe(bytes.length);
    expect(head.ETag).toMatch(/-3"$/);
    const [copy] = await reader.localPaths(await reader.list(HOUR_10));
    expect(createHash('sha256').update(fs.readFileSync(copy!)).digest('hex')).toBe(sha);
  });

  it('compaction: readers on another host see the hour before or after the replacement, never rows twice or missing', async () => {
    const writer = await host('compact/');
    const reader = await host('compact/');
    const all = range('e', 0, 300);
    for (let p = 0; p < 3; p++) {
      await writer.publish({ staged: stage(work, all.slice(p * 100, p * 100 + 100)), name: `p${p}-0-99.parquet` }, HOUR_10, 'keep-existing');
    }
    let stop = false;
    const reads: string[][] = [];
    const readLoop = (async () => {
      while (!stop) reads.push(await readIds(reader, [HOUR_10]));
    })();
    // Five rounds: the hour's files merged into one, then split back into two, and so on.
    for (let round = 0; round < 5; round++) {
      // The reader reads twice between rounds, so reads overlap the replacements.
      const readsBefore = reads.length;
      while (reads.length < readsBefore + 2) await new Promise((resolve) => setTimeout(resolve, 5));
      const listed = await writer.list(HOUR_10);
      const halves = round % 2 === 0 ? [all] : [all.slice(0, 150), all.slice(150)];
      await writer.replace(HOUR_10, listed, halves.map((ids, i) => ({ staged: stage(work, ids), name: `p${i}-0-99.parquet`, landedAtMs: 1_000 })));
    }
    stop = true;
    await readLoop;
    expect(reads.length).toBeGreaterThanOrEqual(10);
    for (const ids of reads) expect(ids).toEqual([...all].sort());
    const files = await reader.list(HOUR_10);
    expect(files.map((f) => f.landedAtMs)).toEqual([1_000]);
    // Left in the bucket: the last replacement and the five manifests; every replaced object was swept.
    const keys = await keysUnder(`compact/${HOUR_10}/`);
    expect(keys.filter((k) => k.startsWith('_manifest/'))).toHaveLength(5);
    expect(keys.filter((k) => !k.startsWith('_manifest/'))).toEqual([files[0]!.name]);
  });

  it("a person's erasure: the rewritten file replaces the old one whole, for this host and another", async () => {
    const writer = await host('erasure/');
    const reader = await host('erasure/');
    await writer.publish({ staged: stage(work, ['alice-1', 'bob-1', 'alice-2']), name: 'p0-0-2.parquet' }, HOUR_10, 'keep-existing');
    await writer.publish({ staged: stage(work, ['carol-1']), name: 'p1-0-0.parquet' }, HOUR_10, 'keep-existing');
    expect(await readIds(reader, [HOUR_10])).toEqual(['alice-1', 'alice-2', 'bob-1', 'carol-1']);
    const [file] = await writer.list(HOUR_10);
    await writer.replace(HOUR_10, [file!], [{ staged: stage(work, ['bob-1']), name: file!.name, landedAtMs: file!.landedAtMs }]);
    expect(await readIds(reader, [HOUR_10])).toEqual(['bob-1', 'carol-1']);
    expect(await readIds(writer, [HOUR_10])).toEqual(['bob-1', 'carol-1']);
    // No copy of the erased rows stays in the bucket or in the reader's cache.
    const cached = fs.readdirSync(path.join(reader.localRoot, 'cache'), { recursive: true }).map(String);
    expect(cached.filter((f) => f.endsWith('p0-0-2.parquet'))).toEqual([]);
    expect((await keysUnder(`erasure/${HOUR_10}/`)).filter((k) => k === 'p0-0-2.parquet')).toEqual([]);
    // An archiver's replay of the same offsets puts the old name again: it stays hidden.
    await writer.publish({ staged: stage(work, ['alice-1', 'bob-1', 'alice-2']), name: 'p0-0-2.parquet' }, HOUR_10, 'keep-existing');
    expect(await readIds(reader, [HOUR_10])).toEqual(['bob-1', 'carol-1']);
  });

  it('two hosts replace the same files at once: one manifest wins, the other writer is told, readers see the rows once', async () => {
    const a = await host('race/');
    const b = await host('race/');
    const reader = await host('race/');
    await a.publish({ staged: stage(work, ['e1', 'e2']), name: 'p0-0-1.parquet' }, HOUR_10, 'keep-existing');
    await a.publish({ staged: stage(work, ['e3']), name: 'p0-2-2.parquet' }, HOUR_10, 'keep-existing');
    const listed = await a.list(HOUR_10);
    const merged = () => [{ staged: stage(work, ['e1', 'e2', 'e3']), name: 'p0-0-2.parquet' }];
    const outcomes = await Promise.allSettled([a.replace(HOUR_10, listed, merged()), b.replace(HOUR_10, listed, merged())]);
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ArchiveFileGoneError);
    expect(await readIds(reader, [HOUR_10])).toEqual(['e1', 'e2', 'e3']);
    // One manifest, the winner's replacement; the loser's upload and the replaced files are gone.
    const keys = await keysUnder(`race/${HOUR_10}/`);
    expect(keys.filter((k) => k.startsWith('_manifest/'))).toEqual(['_manifest/000000000000001.json']);
    expect(keys.filter((k) => !k.startsWith('_manifest/'))).toHaveLength(1);
    // A writer that listed before the winner (a stale listing) loses too, and changes nothing.
    await expect(b.replace(HOUR_10, listed, merged())).rejects.toBeInstanceOf(ArchiveFileGoneError);
    expect(await keysUnder(`race/${HOUR_10}/`)).toEqual(keys);
  });

  it('crash points: a replacement without its manifest stays invisible; replaced objects left by a crash are swept', async () => {
    const s = await host('crash/');
    await s.publish({ staged: stage(work, ['e1']), name: 'p0-0-0.parquet' }, HOUR_10, 'keep-existing');
    // A compaction that died after its upload, before its manifest.
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `crash/${HOUR_10}/p0-0-0.0badc0de.parquet`, Body: 'e1\n' }));
    expect((await s.list(HOUR_10)).map((f) => f.name)).toEqual(['p0-0-0.parquet']);
    // Younger than the orphan age: the sweep leaves it (its manifest may be on the way).
    expect(await s.sweep(HOUR_10)).toBe(0);
    // One that died after its manifest, before deleting what it replaced.
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `crash/${HOUR_10}/p0-0-0.feedbeef.parquet`, Body: 'e1\n' }));
    const manifest = { adds: [{ name: 'p0-0-0.feedbeef.parquet', landedAtMs: 5_000, bytes: 3 }], removes: ['p0-0-0.parquet'] };
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `crash/${HOUR_10}/_manifest/000000000000001.json`, Body: JSON.stringify(manifest) }));
    expect(await s.list(HOUR_10)).toEqual([{ folder: HOUR_10, name: 'p0-0-0.feedbeef.parquet', landedAtMs: 5_000, bytes: 3 }]);
    expect(await s.sweep(HOUR_10)).toBe(1);
    expect(await keysUnder(`crash/${HOUR_10}/`)).toEqual(['_manifest/000000000000001.json', 'p0-0-0.0badc0de.parquet', 'p0-0-0.feedbeef.parquet']);
  });

  it('a manifest that is not one fails the listing with its key named', async () => {
    const s = await host('bad-manifest/');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `bad-manifest/${HOUR_10}/_manifest/000000000000001.json`, Body: '{"adds":[{"name":"x.parquet"}]}' }));
    await expect(s.list(HOUR_10)).rejects.toThrow(`manifest bad-manifest/${HOUR_10}/_manifest/000000000000001.json is not a manifest`);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `bad-manifest/${HOUR_11}/_manifest/000000000002000-aaaaaaaa.json`, Body: '{"adds":[],"removes":[]}' }));
    await expect(s.list(HOUR_11)).rejects.toThrow(`manifest bad-manifest/${HOUR_11}/_manifest/000000000002000-aaaaaaaa.json is not named as one`);
  });

  it('remove, removeFolder (retention), hours and subfolders', async () => {
    const s = await host('retention/');
    const folders = ['events/dt=2026-11-19/hr=23', 'events/dt=2026-11-20/hr=00', 'events/dt=2026-11-20/hr=07', 'views/window_metrics/dt=2026-11-20/hr=07'];
    for (const folder of folders) {
      await s.publish({ staged: stage(work, ['a']), name: 'p0-0-0.parquet' }, folder, 'keep-existing');
      await s.publish({ staged: stage(work, ['b']), name: 'p1-0-0.parquet' }, folder, 'keep-existing');
    }
    expect(await s.hours('events')).toEqual([Date.UTC(2026, 10, 19, 23), Date.UTC(2026, 10, 20, 0), Date.UTC(2026, 10, 20, 7)]);
    expect(await s.subfolders('views')).toEqual(['window_metrics']);
    expect(await s.subfolders('events')).toEqual(['dt=2026-11-19', 'dt=2026-11-20']);
    const [p0] = await s.list(folders[0]!);
    await s.remove([p0!]);
    expect((await s.list(folders[0]!)).map((f) => f.name)).toEqual(['p1-0-0.parquet']);
    // A replaced file in the hour: two files published, four objects (one removed, one added, the manifest).
    const [first] = await s.list(folders[1]!);
    await s.replace(folders[1]!, [first!], [{ staged: stage(work, ['a']), name: first!.name }]);
    expect(await s.removeFolder(folders[1]!)).toBe(2);
    expect(await s.removeFolder(folders[0]!)).toBe(1);
    expect(await keysUnder(`retention/${folders[1]}/`)).toEqual([]);
    expect(await s.hours('events')).toEqual([Date.UTC(2026, 10, 20, 7)]);
    expect(await s.subfolders('events')).toEqual(['dt=2026-11-20']);
  });

  it('listFolders: the hours of a day from two listings of the day, each as list() sees it', async () => {
    const s = await host('many/');
    const folders = ['events/dt=2026-11-19/hr=23', 'events/dt=2026-11-20/hr=00', 'events/dt=2026-11-20/hr=01', 'events/dt=2026-11-20/hr=02'];
    for (const folder of folders.slice(0, 3)) {
      await s.publish({ staged: stage(work, ['a']), name: 'p0-0-0.parquet' }, folder, 'keep-existing');
      await s.publish({ staged: stage(work, ['b']), name: 'p1-0-0.parquet' }, folder, 'keep-existing');
    }
    const [first] = await s.list(folders[1]!);
    await s.replace(folders[1]!, [first!], [{ staged: stage(work, ['a']), name: first!.name, landedAtMs: 7_000 }]);
    const together = await s.listFolders(folders);
    expect(together).toEqual(await Promise.all(folders.map((f) => s.list(f))));
    expect(together.map((files) => files.map((f) => f.name.replace(/\.[0-9a-f]{8}\./, '.<tag>.')))).toEqual([
      ['p0-0-0.parquet', 'p1-0-0.parquet'],
      ['p0-0-0.<tag>.parquet', 'p1-0-0.parquet'],
      ['p0-0-0.parquet', 'p1-0-0.parquet'],
      [],
    ]);
  });

  it('a file replaced between the listing and the copy: ArchiveFileGoneError, and readableFiles lists again', async () => {
    const writer = await host('gone/');
    const reader = await host('gone/');
    await writer.publish({ staged: stage(work, ['e1', 'e2']), name: 'p0-0-1.parquet' }, HOUR_10, 'keep-existing');
    const listed: StoredFile[] = await reader.list(HOUR_10);
    await writer.replace(HOUR_10, listed, [{ staged: stage(work, ['e1', 'e2']), name: 'p0-0-1.parquet' }]);
    const error = await reader.localPaths(listed).then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(ArchiveFileGoneError);
    expect((error as ArchiveFileGoneError).file).toBe(`s3://${BUCKET}/gone/${HOUR_10}/p0-0-1.parquet`);
    expect(await readIds(reader, [HOUR_10])).toEqual(['e1', 'e2']);
  });

  it('two prefixes of one bucket are two archives', async () => {
    const a = await host('tenant-a/');
    const b = await host('tenant-b/');
    await a.publish({ staged: stage(work, ['a1']), name: 'p0-0-0.parquet' }, HOUR_10, 'keep-existing');
    expect(await b.list(HOUR_10)).toEqual([]);
    expect(await b.hours('events')).toEqual([]);
    expect(a.locationOf((await a.list(HOUR_10))[0]!)).toBe(`s3://${BUCKET}/tenant-a/${HOUR_10}/p0-0-0.parquet`);
  });
});

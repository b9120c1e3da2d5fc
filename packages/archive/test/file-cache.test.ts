import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveFileCache } from '../src/index.js';

/** A download of `bytes` bytes, counted per key. */
function downloads() {
  const count = new Map<string, number>();
  const of = (key: string, bytes: number) => async (temp: string) => {
    count.set(key, (count.get(key) ?? 0) + 1);
    fs.writeFileSync(temp, Buffer.alloc(bytes, 1));
  };
  return { count, of };
}

// The batch layer's local copies of archive files on S3: bounded in bytes, least recently used
// out, files used within the hold time kept past the bound (a pass reads all its hours at once).
describe('ArchiveFileCache', () => {
  let base: string;
  let clock = 0;
  const now = () => clock;

  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-file-cache-'));
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('holds at most its bound; the least recently used copy goes first', async () => {
    const cache = await ArchiveFileCache.open(base, { maxBytes: 100, holdMs: 0, now });
    const d = downloads();
    const get = (key: string) => cache.get(key, 40, d.of(key, 40));
    clock = 1;
    const a = await get('events/h1/a.parquet');
    clock = 2;
    await get('events/h1/b.parquet');
    expect(cache.bytes).toBe(80);
    // a used again (now more recent than b): c (40 more: 120 > 100) evicts b, not a.
    clock = 3;
    expect(await get('events/h1/a.parquet')).toBe(a);
    clock = 4;
    await get('events/h1/c.parquet');
    expect(cache.bytes).toBe(80);
    clock = 5;
    await get('events/h1/b.parquet');
    expect(Object.fromEntries(d.count)).toEqual({ 'events/h1/a.parquet': 1, 'events/h1/b.parquet': 2, 'events/h1/c.parquet': 1 });
    // b came back by evicting a (the least recently used of a@3, c@4).
    expect(fs.existsSync(a)).toBe(false);
    expect(cache.bytes).toBe(80);
    await cache.close();
    expect(fs.existsSync(cache.dir)).toBe(false);
  });

  it('keeps copies used within the hold time past the bound, and says so', async () => {
    const overflows: number[] = [];
    const cache = await ArchiveFileCache.open(base, { maxBytes: 100, holdMs: 60_000, now, onOverflow: (b) => overflows.push(b) });
    const d = downloads();
    clock = 1_000;
    for (const key of ['x/1', 'x/2', 'x/3']) await cache.get(key, 40, d.of(key, 40));
    expect(cache.bytes).toBe(120);
    expect(overflows).toEqual([120]);
    // Past the hold time the oldest go: a fourth file of 40 needs 60 freed from 120 -> two out.
    clock = 1_000 + 60_001;
    await cache.get('x/4', 40, d.of('x/4', 40));
    expect(cache.bytes).toBe(80);
    await cache.close();
  });

  it('drops the copies of files no longer listed, and one download serves concurrent readers', async () => {
    const cache = await ArchiveFileCache.open(base, { maxBytes: 1_000, holdMs: 0, now });
    const d = downloads();
    const [p1, p2] = await Promise.all([cache.get('f/a', 10, d.of('f/a', 10)), cache.get('f/a', 10, d.of('f/a', 10))]);
    expect(p1).toBe(p2);
    expect(d.count.get('f/a')).toBe(1);
    await cache.get('f/b', 10, d.of('f/b', 10));
    await cache.get('g/a', 10, d.of('g/a', 10));
    await cache.retainOnly('f', new Set(['b']));
    expect(fs.existsSync(p1)).toBe(false);
    expect(cache.bytes).toBe(20);
    await cache.dropFolder('g');
    expect(cache.bytes).toBe(10);
    await cache.close();
  });
});

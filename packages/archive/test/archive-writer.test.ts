import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEvent, type ReceivedEvent } from '@sigflow/events';
import { tombstoneHash } from '@sigflow/privacy';
import {
  ArchiveWriter,
  archiveColumns,
  eventOfArchiveRecord,
  eventsOfColumns,
  hourFolder,
  listArchiveHours,
  openOwnDuckDB,
  stagingRoot,
  type ArchiveRecord,
  type ArchivedEvent,
  type ArchivedMessage,
} from '../src/index.js';

const H = 3_600_000;
const T = Date.UTC(2026, 10, 20, 10, 15);

/** Every event type with every optional field the contract allows. */
const events: ReceivedEvent[] = [
  { event_id: 'e1', type: 'impression', user_id: 'u1', ts: T, received_at: T + 5, campaign_id: 'c1', ad_id: 'a1', channel: 'search', placement: 'top', ip: '10.0.0.1', user_agent: 'UA/1', attrs: { k: 'v', 'ünï': 'çødé 😀' }, cost: 4_200 },
  { event_id: 'e2', type: 'click', user_id: 'u1', ts: T + 1_000, received_at: T + 1_010, campaign_id: 'c1', ad_id: 'a1', channel: 'search', cost: 1_000_000_000_000 },
  { event_id: 'e3', type: 'conversion', user_id: 'u2', ts: T + 2_000, received_at: T + 2_001, value: 12.5, currency: 'EUR', page_id: 'checkout' },
  { event_id: 'e4', type: 'conversion', user_id: 'u2', ts: T + 2_500, received_at: T + 2_501 },
  { event_id: 'e5', type: 'page_view', user_id: 'u3', ts: T + 3_000, received_at: T + 3_000, page_id: 'home' },
  { event_id: 'e6', type: 'element_click', user_id: 'u3', ts: T + 4_000, received_at: T + 4_000, page_id: 'home', element_id: 'buy' },
  { event_id: 'e7', type: 'scroll', user_id: 'u3', ts: T + 5_000, received_at: T + 5_000, page_id: 'home', depth: 42.5 },
  { event_id: 'e8', type: 'form_interaction', user_id: 'u4', ts: T + 6_000, received_at: T + 6_000, form_id: 'signup', action: 'submit' },
  { event_id: 'e9', type: 'link_follow', user_id: 'u4', ts: T + 7_000, received_at: T + 7_000, href: 'https://example.com/a?b=c&d=é' },
  { event_id: 'e10', type: 'mouse_move', user_id: 'u4', ts: T + 8_000, received_at: T + 8_000, page_id: 'home', x: 0, y: 99_999.5 },
  // Late: three hours older than the others, arrives in the same flush.
  { event_id: 'late-1', type: 'impression', user_id: 'u5', ts: T - 3 * H, received_at: T + 9_000, campaign_id: 'c2', ad_id: 'a9', channel: 'display' },
];

describe('ArchiveWriter', () => {
  let root: string;
  let db: DuckDBInstance;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-archive-writer-'));
    db = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => {
    db?.closeSync();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('writes one Parquet file per (partition, event hour), named by offsets; a late event lands in its own hour', async () => {
    for (const e of events) expect(validateEvent(e).ok).toBe(true);
    const archived: ArchivedEvent[] = events.map((event, i) => ({ event, partition: i % 2, offset: String(100 + i) }));
    const writer = await ArchiveWriter.open({ root });
    const files = await writer.write(archived);
    await writer.close();

    const byName = files.map((f) => path.relative(path.join(root, 'events'), f.path)).sort();
    expect(byName).toEqual([
      'dt=2026-11-20/hr=07/p0-110-110.parquet',
      'dt=2026-11-20/hr=10/p0-100-108.parquet',
      'dt=2026-11-20/hr=10/p1-101-109.parquet',
    ]);
    expect(files.reduce((a, f) => a + f.rows, 0)).toBe(events.length);
    expect(await listArchiveHours(root)).toEqual([T - 3 * H - (T % H), T - (T % H)]);
    expect(fs.existsSync(hourFolder(root, T - 3 * H))).toBe(true);
    // Nothing left in staging after a clean close.
    expect(fs.readdirSync(stagingRoot(root))).toEqual([]);
  });

  it('keeps every field: the events rebuilt from the Parquet rows equal the originals', async () => {
    const conn = await db.connect();
    const reader = await conn.runAndReadAll(
      `SELECT ${archiveColumns.map((c) => (c.type === 'BIGINT' ? `${c.name}::DOUBLE AS ${c.name}` : c.name)).join(', ')}
       FROM read_parquet($glob, hive_partitioning = false) ORDER BY event_id`,
      { glob: path.join(root, 'events', '**', '*.parquet') },
    );
    const records = reader.getRowObjectsJS() as ArchiveRecord[];
    const rebuilt = records.map(eventOfArchiveRecord);
    const byId = (a: { event_id: string }, b: { event_id: string }) => (a.event_id < b.event_id ? -1 : 1);
    expect(rebuilt.sort(byId)).toEqual([...events].sort(byId));
    // The batch layer's column-wise path rebuilds the same events.
    const names = reader.columnNames();
    const columns = names.map((n) => records.map((r) => r[n as keyof ArchiveRecord] ?? null));
    expect(eventsOfColumns(names, columns, records.length).sort(byId)).toEqual([...events].sort(byId));
    expect(records.find((r) => r.event_id === 'late-1')).toMatchObject({ kafka_partition: 0 });
    conn.closeSync();
  });

  it('archives the messages that are events and counts the others (not JSON, cut short, not an object, missing fields, unknown type, a time that is not a number)', async () => {
    const good = events[1] as ReceivedEvent;
    const writer = await ArchiveWriter.open({ root });
    const result = await writer.writeMessages([
      { value: Buffer.from(JSON.stringify({ ...good, event_id: 'ok-1' })), partition: 2, offset: '7' },
      { value: Buffer.from('not json'), partition: 2, offset: '8' },
      { value: null, partition: 2, offset: '9' },
      { value: JSON.stringify({ ...good, event_id: 'no-type', type: 'teleport' }), partition: 2, offset: '10' },
      { value: JSON.stringify({ event_id: 'no-user', type: 'page_view', ts: T, received_at: T, page_id: 'p' }), partition: 2, offset: '11' },
      { value: JSON.stringify([1, 2]), partition: 2, offset: '12' },
      { value: JSON.stringify({ ...good, event_id: 'ok-2' }), partition: 2, offset: '13' },
      { value: JSON.stringify({ ...good, event_id: 'ts-object', ts: { at: good.ts } }), partition: 2, offset: '14' },
      { value: '{"event_id":"cut', partition: 2, offset: '15' },
      { value: '"a string"', partition: 2, offset: '16' },
    ]);
    await writer.close();
    expect(result.rows).toBe(2);
    expect(result.rejected).toBe(8);
    expect(result.rejectedSample.map((r) => r.offset)).toEqual(['8', '9', '10', '11', '12', '14', '15', '16']);
    expect(result.files.map((f) => path.basename(f.path))).toEqual(['p2-7-13.parquet']);
    expect(result.maxTs).toEqual(new Map([[2, good.ts]]));
  });

  it('archives a value that is not valid UTF-8 as the speed layer reads it: each bad sequence as U+FFFD', async () => {
    const good = events[1] as ReceivedEvent;
    const [head, tail] = JSON.stringify({ ...good, event_id: 'bad-utf8', user_id: 'SPLIT' }).split('SPLIT') as [string, string];
    // A lone continuation byte and a truncated 3-byte sequence inside the user id.
    const value = Buffer.concat([Buffer.from(`${head}u`), Buffer.from([0x80]), Buffer.from('x'), Buffer.from([0xe2, 0x82]), Buffer.from(tail)]);
    const badRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-archive-utf8-'));
    const writer = await ArchiveWriter.open({ root: badRoot });
    const result = await writer.writeMessages([{ value, partition: 0, offset: '1' }]);
    await writer.close();
    expect(result.rows).toBe(1);
    const conn = await db.connect();
    const read = await conn.runAndReadAll(`SELECT user_id FROM read_parquet($glob)`, { glob: path.join(badRoot, 'events', '**', '*.parquet') });
    expect(read.getRows()).toEqual([['u\ufffdx\ufffd']]);
    conn.closeSync();
    fs.rmSync(badRoot, { recursive: true, force: true });
  });

  it('writes each file in Kafka offset order, whatever order the messages came in', async () => {
    const good = events[1] as ReceivedEvent;
    // Partition 0 out of order; partition 2 in order, 3,000 rows interleaved with it (2 threads).
    const shuffled = [5, 3, 4, 1, 2].map((o) => ({ value: JSON.stringify({ ...good, event_id: `s${o}` }), partition: 0, offset: String(o) }));
    const ordered = Array.from({ length: 3_000 }, (_, i) => ({ value: JSON.stringify({ ...good, event_id: `o${i}` }), partition: 2, offset: String(10 + i) }));
    const orderRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-archive-order-'));
    const writer = await ArchiveWriter.open({ root: orderRoot, threads: 2, lanes: 1 });
    const { files } = await writer.writeMessages([...shuffled.slice(0, 2), ...ordered, ...shuffled.slice(2)]);
    await writer.close();
    const conn = await db.connect();
    const offsets = async (file: string) =>
      (await conn.runAndReadAll(`SELECT kafka_offset::DOUBLE FROM read_parquet($file)`, { file })).getRows().map((r) => r[0]);
    expect(files.map((f) => path.basename(f.path))).toEqual(['p0-1-5.parquet', 'p2-10-3009.parquet']);
    expect(await offsets(files[0]?.path as string)).toEqual([1, 2, 3, 4, 5]);
    expect(await offsets(files[1]?.path as string)).toEqual(ordered.map((m) => Number(m.offset)));
    conn.closeSync();
    fs.rmSync(orderRoot, { recursive: true, force: true });
  });

  it('a lane given several chunks of rows keeps every value, partition and offset (nulls and non-events between them)', async () => {
    const good = events[2] as ReceivedEvent;
    // One lane, 5,000 messages of two partitions: two full chunks of 2,048 rows and a part.
    const messages: ArchivedMessage[] = Array.from({ length: 5_000 }, (_, i) => ({
      value: i % 997 === 5 ? null : i % 1_009 === 7 ? 'not json' : JSON.stringify({ ...good, event_id: `m${i}`, value: i }),
      partition: i % 2 === 0 ? 0 : 2,
      offset: String(1_000_000_000_000 + i),
    }));
    const chunkRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-archive-chunks-'));
    const writer = await ArchiveWriter.open({ root: chunkRoot, lanes: 1 });
    const result = await writer.writeMessages(messages);
    await writer.close();
    const conn = await db.connect();
    const rows = (
      await conn.runAndReadAll(
        'SELECT event_id, kafka_partition, kafka_offset::VARCHAR, value FROM read_parquet($files) ORDER BY kafka_offset',
        { files: listValue(result.files.map((f) => f.path)) },
        { files: LIST(VARCHAR) },
      )
    ).getRows();
    conn.closeSync();
    fs.rmSync(chunkRoot, { recursive: true, force: true });
    const expected = messages.flatMap((m, i) => (m.value === null || m.value === 'not json' ? [] : [[`m${i}`, m.partition, m.offset, i]]));
    expect(expected.length).toBe(5_000 - 6 - 5);
    expect(result.rejected).toBe(11);
    expect(rows).toEqual(expected);
  });

  it('shares a flush among its lanes by partition and reports it as one flush', async () => {
    const good = events[1] as ReceivedEvent;
    const event = (id: string, ts: number, user = 'u1') => JSON.stringify({ ...good, event_id: id, user_id: user, ts, received_at: ts });
    const messages: ArchivedMessage[] = [];
    for (let p = 0; p < 4; p++) {
      const at = (k: number) => String(p * 100 + k);
      messages.push({ value: event(`p${p}-a`, T + p * 1_000), partition: p, offset: at(0) });
      messages.push({ value: event(`p${p}-b`, T + p * 1_000 + 1), partition: p, offset: at(1) });
      // Partitions 1 and 3 also hold a late event, 3 hours back; 1 and 2 a deleted person's.
      if (p % 2 === 1) messages.push({ value: event(`p${p}-late`, T - 3 * H + p), partition: p, offset: at(2) });
      if (p === 1 || p === 2) messages.push({ value: event(`p${p}-gone`, T, 'gone-user'), partition: p, offset: at(3) });
      for (let k = 10; k < 13; k++) messages.push({ value: 'not json', partition: p, offset: at(k) });
    }
    const lanesRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-archive-lanes-'));
    const writer = await ArchiveWriter.open({ root: lanesRoot, lanes: 2 });
    const result = await writer.writeMessages(messages, { salt: 's', hashes: [tombstoneHash('s', 'gone-user')] });
    await writer.close();
    fs.rmSync(lanesRoot, { recursive: true, force: true });
    // Written out by hand from the messages above.
    expect(result.files.map((f) => [path.basename(f.path), f.rows])).toEqual([
      ['p1-102-102.parquet', 1],
      ['p3-302-302.parquet', 1],
      ['p0-0-1.parquet', 2],
      ['p1-100-101.parquet', 2],
      ['p2-200-201.parquet', 2],
      ['p3-300-301.parquet', 2],
    ]);
    expect(result.rows).toBe(10);
    expect(result.deleted).toBe(2);
    expect(result.rejected).toBe(12);
    expect(result.rejectedSample.map((r) => r.offset)).toEqual(['10', '11', '12', '110', '111', '112', '210', '211', '212', '310']);
    expect(result.maxTs).toEqual(new Map([[0, T + 1], [1, T + 1_001], [2, T + 2_001], [3, T + 3_001]]));
  });
});

describe('the archive writer spills into a directory of its own', () => {
  it('two writers get different directories under one base, set as DuckDB temp_directory, removed on close', async () => {
    // In-memory DuckDB spills into `.tmp` of the working directory by default, with file names
    // alike in every instance: two archivers (or an archiver and an export) would share them.
    const roots = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'sigflow-writer-spill-')));
    const writers = await Promise.all(roots.map((root) => ArchiveWriter.open({ root })));
    try {
      const dirs = writers.map((w) => w.spillDirectory);
      expect(dirs[0]).not.toBe(dirs[1]);
      for (const d of dirs) {
        expect(path.dirname(d)).toBe(path.join(os.tmpdir(), 'sigflow-duckdb'));
        expect(path.basename(d).startsWith(`${process.pid}-`)).toBe(true);
        expect(fs.statSync(d).isDirectory()).toBe(true);
      }
      const own = await openOwnDuckDB({ threads: 1, tempDirectory: roots[0] });
      const conn = await own.instance.connect();
      const setting = (await conn.runAndReadAll("SELECT current_setting('temp_directory')")).getRows()[0]?.[0];
      conn.closeSync();
      own.close();
      expect(setting).toBe(own.spillDirectory);
      expect(fs.existsSync(own.spillDirectory)).toBe(false);
    } finally {
      for (const w of writers) await w.close();
    }
    for (const w of writers) expect(fs.existsSync(w.spillDirectory)).toBe(false);
    for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  });
});

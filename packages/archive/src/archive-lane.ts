import { HOUR_MS } from '@sigflow/core';
import { isUtf8 } from 'node:buffer';
import {
  BIGINT,
  BLOB,
  DuckDBDataChunk,
  INTEGER,
  LIST,
  VARCHAR,
  blobValue,
  listValue,
  type DuckDBBigIntVector,
  type DuckDBBlobVector,
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBIntegerVector,
} from '@duckdb/node-api';
import { eventTypes } from '@sigflow/events';
import { tombstoneHashSql } from '@sigflow/privacy';
import { archiveColumns, eventJsonStructType, jsonColumns, type ArchivedMessage } from './archive-columns.js';
import { archiveFileFormat } from './archive-file-format.js';
import { archiveFileName, hourFolderKey } from './archive-layout.js';
import type { StagingArea } from './atomic-file.js';
import type { ArchiveStorage } from './storage/archive-storage.js';
import { emptyFlush, REJECTED_SAMPLE, type DeletedUsers, type FlushResult, type WrittenFile } from './flush-result.js';

const RAW = 'archive_raw';
const ROWS = 'archive_rows';
/** Rows of each chunk appended to `RAW` (DuckDB's vector size). */
const RAW_CHUNK_ROWS = 2048;

/** The COPY select list: archive columns from the parsed struct `e` plus the Kafka position. */
const selectList = archiveColumns
  .map((c) =>
    c.name === 'kafka_partition' || c.name === 'kafka_offset' ? c.name : jsonColumns.has(c.name) ? `e.${c.name}::VARCHAR AS ${c.name}` : `e.${c.name} AS ${c.name}`,
  )
  .join(', ');

/**
 * A message's value as the UTF-8 bytes DuckDB decodes (the raw table holds BLOBs): a Kafka
 * value as it came when it is valid UTF-8, which every value the collector produced is; any
 * other value decoded the way the speed layer decodes it (`toString`, each invalid sequence
 * becoming U+FFFD), so both layers see the same text. Appending the bytes saves decoding each
 * value into a JS string that the appender encodes again, on the main thread, which every lane's
 * append shares: from Kafka (1,000,000 events, 2 lanes) 151,926 / 157,640 / 129,250 rows/s
 * against 133,470 / 135,972 / 113,519 with strings (interleaved pairs, 2 shared cores).
 */
function utf8Bytes(value: Buffer | string): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return isUtf8(value) ? value : Buffer.from(value.toString('utf8'), 'utf8');
}

/**
 * The messages with each partition's in offset order: as given when they already are (a
 * consumer's are), else sorted. The files' COPY keeps the rows in the order they were appended
 * (DuckDB's `preserve_insertion_order`, on by default) instead of sorting them: a 50,000-row
 * flush's COPYs took 58-62 ms without `ORDER BY kafka_offset` against 78-97 ms with it, and
 * the writer alone (500,000 messages, 2 lanes) 321,510 / 295,361 / 315,269 rows/s at 4.5-4.8 µs
 * of CPU a row against 256,264 / 287,706 / 207,914 at 5.1-7.0 (interleaved pairs).
 */
function inOffsetOrder(messages: readonly ArchivedMessage[]): readonly ArchivedMessage[] {
  const last = new Map<number, number>();
  for (const m of messages) {
    const offset = Number(m.offset);
    if (offset < (last.get(m.partition) ?? -Infinity)) return [...messages].sort((a, b) => Number(a.offset) - Number(b.offset));
    last.set(m.partition, offset);
  }
  return messages;
}

/** One (partition, hour) group of a flush: its rows, offsets and newest event time. */
type Group = [partition: number, hourStart: number, rows: number, first: string, last: string, maxTs: number];

/**
 * One DuckDB connection of an {@link ArchiveWriter}, with its own temporary tables (DuckDB's
 * are per connection): writes the messages it is given, one Parquet file per (Kafka partition,
 * event hour). The writer gives each lane other partitions, and the lanes' queries run at once,
 * each on a thread of its own.
 *
 * The raw message bytes go through an appender into a temporary table (JS does no per-event
 * parsing), DuckDB decodes them as UTF-8 and parses the JSON into typed columns (`from_json`), then one
 * `COPY (SELECT ... WHERE partition AND hour) TO <staging> (archiveFileFormat)` per group, each
 * staged file published by the storage as `events/dt=.../hr=.../p<partition>-<first>-<last>.parquet`
 * (fsync and rename on a folder, one put on S3).
 * Rows keep Kafka offset order (appended in it: {@link inOffsetOrder}). Not safe for concurrent writes.
 */
export class ArchiveLane {
  private constructor(
    private readonly storage: ArchiveStorage,
    private readonly connection: DuckDBConnection,
    private readonly staging: StagingArea,
  ) {}

  static async open(instance: DuckDBInstance, storage: ArchiveStorage, staging: StagingArea): Promise<ArchiveLane> {
    const connection = await instance.connect();
    await ArchiveLane.emptyRaw(connection);
    return new ArchiveLane(storage, connection, staging);
  }

  /**
   * `RAW` made anew, empty. Not `DELETE FROM`: DuckDB keeps a deleted row's storage in an
   * in-memory table, so an archiver that emptied it so grew by each flush (1.4 GB of RSS after
   * 2,000,000 events, 200 MB a minute in the soak).
   */
  private static async emptyRaw(connection: DuckDBConnection): Promise<void> {
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${RAW} (j BLOB, kafka_partition INTEGER, kafka_offset BIGINT)`);
  }

  /** Writes `messages` (leaving out the events of `deleted` people) and returns what it did. */
  async write(messages: readonly ArchivedMessage[], deleted?: DeletedUsers): Promise<FlushResult> {
    if (messages.length === 0) return emptyFlush();
    const conn = this.connection;
    try {
      await this.appendRaw(inOffsetOrder(messages));
      const dropping = await this.parseRows(deleted);
      const groups = (
        await conn.runAndReadAll(
          `SELECT kafka_partition, (e.ts - e.ts % ${HOUR_MS})::DOUBLE AS hour, count(*)::DOUBLE AS n,
                  min(kafka_offset)::VARCHAR AS first, max(kafka_offset)::VARCHAR AS last, max(e.ts)::DOUBLE AS max_ts
           FROM ${ROWS} WHERE ok GROUP BY ALL ORDER BY hour, kafka_partition`,
        )
      ).getRows() as Group[];
      const rejectedSample = (
        await conn.runAndReadAll(`SELECT kafka_partition, kafka_offset::VARCHAR FROM ${ROWS} WHERE NOT ok AND NOT gone ORDER BY kafka_offset LIMIT ${REJECTED_SAMPLE}`)
      ).getRows() as [number, string][];
      const files: WrittenFile[] = [];
      const maxTs = new Map<number, number>();
      let rows = 0;
      for (const [partition, hour, n, first, last, groupMax] of groups) {
        files.push(await this.writeGroup(partition, hour, n, first, last));
        rows += n;
        maxTs.set(partition, Math.max(maxTs.get(partition) ?? -Infinity, groupMax));
      }
      const gone = dropping ? Number((await conn.runAndReadAll(`SELECT count(*)::DOUBLE FROM ${ROWS} WHERE gone`)).getRows()[0]?.[0] ?? 0) : 0;
      const sample = rejectedSample.map(([partition, offset]) => ({ partition, offset }));
      return { files, rows, deleted: gone, rejected: messages.length - rows - gone, rejectedSample: sample, maxTs };
    } finally {
      await ArchiveLane.emptyRaw(conn).catch(() => undefined);
      await conn.run(`DROP TABLE IF EXISTS ${ROWS}`).catch(() => undefined);
    }
  }

  /**
   * The messages into `RAW`, 2,048 rows a chunk: the partition and offset columns are written
   * into the chunk's vectors in JS and each value's bytes are copied once when the chunk is
   * flushed, where the appender took four calls into DuckDB per row (value, partition, offset,
   * end of row). On the main thread, which the fetches share: the archiver from Kafka
   * (500,000 events, 3 interleaved pairs on 2 cores) 213,850 / 223,584 / 217,297 rows/s against
   * 202,839 / 205,812 / 203,209.
   */
  private async appendRaw(messages: readonly ArchivedMessage[]): Promise<void> {
    const appender = await this.connection.createAppender(RAW, 'main', 'temp');
    try {
      const chunk = DuckDBDataChunk.create([BLOB, INTEGER, BIGINT]);
      for (let at = 0; at < messages.length; at += RAW_CHUNK_ROWS) {
        const n = Math.min(RAW_CHUNK_ROWS, messages.length - at);
        chunk.reset();
        chunk.rowCount = n;
        const values = chunk.getColumnVector(0) as DuckDBBlobVector;
        const partitions = chunk.getColumnVector(1) as DuckDBIntegerVector;
        const offsets = chunk.getColumnVector(2) as DuckDBBigIntVector;
        for (let i = 0; i < n; i++) {
          const m = messages[at + i] as ArchivedMessage;
          values.setItem(i, m.value === null ? null : blobValue(utf8Bytes(m.value)));
          partitions.setItem(i, m.partition);
          offsets.setItem(i, BigInt(m.offset));
        }
        values.flush();
        partitions.flush();
        offsets.flush();
        appender.appendDataChunk(chunk);
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /**
   * The raw values parsed into `ROWS`: each message's struct `e`, whether it is an event to
   * archive (`ok`) and whether it is a deleted person's (`gone`). Resolves with whether any
   * person is left out. Each value is parsed once: `from_json` gives a JSON value that is not
   * an object a struct of NULLs and a field of another type NULL (no event_id or ts: not ok),
   * and `TRY` makes text that is not JSON a NULL instead of failing the flush (a guard of
   * `json_valid` and `json_type` parsed each value three times: 92-101 against 73-83 ms for
   * the 72,000 rows of a lane's share of a flush).
   */
  private async parseRows(deleted: DeletedUsers | undefined): Promise<boolean> {
    const dropping = deleted !== undefined && deleted.hashes.length > 0;
    await this.connection.run(
      `CREATE OR REPLACE TEMP TABLE ${ROWS} AS
       SELECT kafka_partition, kafka_offset, e, valid AND NOT gone AS ok, valid AND gone AS gone
       FROM (SELECT kafka_partition, kafka_offset, e,
                    e IS NOT NULL AND e.event_id IS NOT NULL AND e.user_id IS NOT NULL AND list_contains($types, e.type)
                      AND e.ts IS NOT NULL AND e.ts >= 0 AND e.received_at IS NOT NULL AS valid,
                    ${dropping ? `coalesce(list_contains($tombstones, ${tombstoneHashSql('e.user_id', 'salt')}), false)` : 'false'} AS gone
             FROM (SELECT kafka_partition, kafka_offset,
                          TRY(from_json(j, '${eventJsonStructType}')) AS e
                   FROM (SELECT kafka_partition, kafka_offset, decode(j) AS j FROM ${RAW})))`,
      dropping ? { types: listValue([...eventTypes]), tombstones: listValue([...deleted.hashes]), salt: deleted.salt } : { types: listValue([...eventTypes]) },
      dropping ? { types: LIST(VARCHAR), tombstones: LIST(VARCHAR) } : { types: LIST(VARCHAR) },
    );
    return dropping;
  }

  private async writeGroup(partition: number, hourStart: number, rows: number, first: string, last: string): Promise<WrittenFile> {
    const staged = this.staging.tempPath();
    await this.connection.run(
      `COPY (SELECT ${selectList} FROM ${ROWS}
             WHERE ok AND kafka_partition = $partition AND e.ts >= $from AND e.ts < $to)
       TO $path (${archiveFileFormat})`,
      { partition, from: hourStart, to: hourStart + HOUR_MS, path: staged },
    );
    const file = await this.storage.publish({ staged, name: archiveFileName(partition, first, last) }, hourFolderKey('events', hourStart), 'keep-existing');
    return { path: this.storage.locationOf(file), hourStart, partition, rows, firstOffset: first, lastOffset: last, bytes: file.bytes };
  }

  close(): void {
    this.connection.closeSync();
  }
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';
import { eventTypes } from '@sigflow/events';
import { archiveColumns, eventJsonStructType, type ArchivedEvent, type ArchivedMessage } from './archive-columns.js';
import { archiveFileFormat } from './archive-file-format.js';
import { archiveFileName, hourFolder, HOUR_MS } from './archive-layout.js';
import { publishFile, StagingArea } from './atomic-file.js';
import { ArchiveWriteError } from './errors.js';
import { tombstoneHashSql } from '@sigflow/privacy';

/** One Parquet file a flush made visible. */
export interface WrittenFile {
  readonly path: string;
  readonly hourStart: number;
  readonly partition: number;
  readonly rows: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly bytes: number;
}

/** A message that is not an event (not JSON, or missing a required field): not archived. */
export interface RejectedMessage {
  readonly partition: number;
  readonly offset: string;
}

/** What one flush did. */
export interface FlushResult {
  readonly files: WrittenFile[];
  /** Rows archived (messages that are events). */
  readonly rows: number;
  readonly rejected: number;
  /** A sample of the rejected messages (at most 10), for the log. */
  readonly rejectedSample: RejectedMessage[];
  /** Highest event time archived per partition. */
  readonly maxTs: Map<number, number>;
  /** Events of deleted people left out (see {@link WriteOptions}). */
  readonly deleted: number;
}

/** People whose events a flush leaves out: the tombstones (salted hashes) and their salt. */
export interface DeletedUsers {
  readonly salt: string;
  readonly hashes: readonly string[];
}

export interface ArchiveWriterOptions {
  /** Archive root (the configured archive dir). */
  readonly root: string;
  /** DuckDB worker threads (the archiver shares the machine with the other services). */
  readonly threads?: number;
}

const RAW = 'archive_raw';
const ROWS = 'archive_rows';

/** The COPY select list: archive columns from the parsed struct `e` plus the Kafka position. */
const selectList = archiveColumns
  .map((c) =>
    c.name === 'kafka_partition' || c.name === 'kafka_offset' ? c.name : c.name === 'attrs' ? `e.attrs::VARCHAR AS attrs` : `e.${c.name} AS ${c.name}`,
  )
  .join(', ');

/**
 * Writes flushes of Kafka messages as Parquet files per (Kafka partition, event hour), with
 * DuckDB: the raw message values go through an appender into a temporary table (JS does no
 * per-event parsing), DuckDB parses the JSON into typed columns (`from_json`), then one
 * `COPY (SELECT ... WHERE partition AND hour) TO <staging> (archiveFileFormat)`
 * per (partition, hour) group, each staged file fsynced and renamed into
 * `events/dt=.../hr=.../p<partition>-<first>-<last>.parquet`. A late event lands in the folder of
 * its own event hour. Rows keep Kafka offset order.
 *
 * What it checks: a message must be a JSON object with event_id, type (one of the contract's
 * types), user_id, ts >= 0 and received_at. The collector validated the full contract before
 * producing; a message that is not an event is counted, not archived (the speed layer
 * dead-letters it).
 *
 * Not safe for concurrent writes; the consumer serializes its flushes.
 */
export class ArchiveWriter {
  private constructor(
    private readonly root: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly staging: StagingArea,
  ) {}

  static async open(options: ArchiveWriterOptions): Promise<ArchiveWriter> {
    const staging = await StagingArea.open(options.root);
    const instance = await DuckDBInstance.create(':memory:', { threads: String(options.threads ?? 1) });
    const connection = await instance.connect();
    await connection.run(`CREATE OR REPLACE TEMP TABLE ${RAW} (j VARCHAR, kafka_partition INTEGER, kafka_offset BIGINT)`);
    return new ArchiveWriter(options.root, instance, connection, staging);
  }

  /** Writes decoded events (serialized as the collector does); see {@link writeMessages}. */
  async write(events: readonly ArchivedEvent[]): Promise<WrittenFile[]> {
    const result = await this.writeMessages(
      events.map((e) => ({ value: JSON.stringify(e.event), partition: e.partition, offset: e.offset })),
    );
    return result.files;
  }

  /**
   * Writes raw Kafka messages and returns the files now visible. The events of `deleted`
   * people are left out (DuckDB hashes each user id as the tombstones do: no id is compared in
   * the clear) and counted.
   */
  async writeMessages(messages: readonly ArchivedMessage[], deleted?: DeletedUsers): Promise<FlushResult> {
    const empty: FlushResult = { files: [], rows: 0, rejected: 0, rejectedSample: [], maxTs: new Map(), deleted: 0 };
    if (messages.length === 0) return empty;
    const conn = this.connection;
    try {
      const appender = await conn.createAppender(RAW, 'main', 'temp');
      try {
        for (const m of messages) {
          if (m.value === null) appender.appendNull();
          else appender.appendVarchar(typeof m.value === 'string' ? m.value : m.value.toString('utf8'));
          appender.appendInteger(m.partition);
          appender.appendBigInt(BigInt(m.offset));
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      const dropping = deleted !== undefined && deleted.hashes.length > 0;
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE ${ROWS} AS
         SELECT kafka_partition, kafka_offset, e, valid AND NOT gone AS ok, valid AND gone AS gone
         FROM (SELECT kafka_partition, kafka_offset, e,
                      e IS NOT NULL AND e.event_id IS NOT NULL AND e.user_id IS NOT NULL AND list_contains($types, e.type)
                        AND e.ts IS NOT NULL AND e.ts >= 0 AND e.received_at IS NOT NULL AS valid,
                      ${dropping ? `coalesce(list_contains($tombstones, ${tombstoneHashSql('e.user_id', 'salt')}), false)` : 'false'} AS gone
               FROM (SELECT kafka_partition, kafka_offset,
                            CASE WHEN json_valid(j) AND json_type(j) = 'OBJECT' THEN from_json(j, '${eventJsonStructType}') END AS e
                     FROM ${RAW}))`,
        dropping ? { types: listValue([...eventTypes]), tombstones: listValue([...deleted.hashes]), salt: deleted.salt } : { types: listValue([...eventTypes]) },
        dropping ? { types: LIST(VARCHAR), tombstones: LIST(VARCHAR) } : { types: LIST(VARCHAR) },
      );
      const groups = (
        await conn.runAndReadAll(
          `SELECT kafka_partition, (e.ts - e.ts % ${HOUR_MS})::DOUBLE AS hour, count(*)::DOUBLE AS n,
                  min(kafka_offset)::VARCHAR AS first, max(kafka_offset)::VARCHAR AS last, max(e.ts)::DOUBLE AS max_ts
           FROM ${ROWS} WHERE ok GROUP BY ALL ORDER BY hour, kafka_partition`,
        )
      ).getRows() as [number, number, number, string, string, number][];
      const rejectedSample = (
        await conn.runAndReadAll(`SELECT kafka_partition, kafka_offset::VARCHAR FROM ${ROWS} WHERE NOT ok AND NOT gone ORDER BY kafka_offset LIMIT 10`)
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
      return {
        files,
        rows,
        deleted: gone,
        rejected: messages.length - rows - gone,
        rejectedSample: rejectedSample.map(([partition, offset]) => ({ partition, offset })),
        maxTs,
      };
    } catch (cause) {
      throw new ArchiveWriteError(`writing ${messages.length} messages to the archive failed: ${(cause as Error).message}`, { cause });
    } finally {
      await conn.run(`DELETE FROM ${RAW}`).catch(() => undefined);
      await conn.run(`DROP TABLE IF EXISTS ${ROWS}`).catch(() => undefined);
    }
  }

  private async writeGroup(partition: number, hourStart: number, rows: number, first: string, last: string): Promise<WrittenFile> {
    const staged = this.staging.tempPath();
    await this.connection.run(
      `COPY (SELECT ${selectList} FROM ${ROWS}
             WHERE ok AND kafka_partition = $partition AND e.ts >= $from AND e.ts < $to ORDER BY kafka_offset)
       TO $path (${archiveFileFormat})`,
      { partition, from: hourStart, to: hourStart + HOUR_MS, path: staged },
    );
    const final = path.join(hourFolder(this.root, hourStart), archiveFileName(partition, first, last));
    const { size } = await fs.stat(staged);
    await publishFile(staged, final);
    return { path: final, hourStart, partition, rows, firstOffset: first, lastOffset: last, bytes: size };
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
    await this.staging.close();
  }
}

import { HOUR_MS } from '@sigflow/core';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import { archiveColumns, eventFolders, eventsOfColumns, openOwnDuckDB, readableFiles, withArchiveColumns, type ArchiveStorage } from '@sigflow/archive';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor, userPartition } from '@sigflow/events';
import { committedOffsets, topicOffsets, type KafkaClient } from '@sigflow/kafka';

/** The archive columns of an event (where it came from in Kafka is not the person's data). */
const eventColumns = archiveColumns.map((c) => c.name).filter((n) => n !== 'kafka_partition' && n !== 'kafka_offset' && n !== 'ip_key');

/**
 * Waits until the archiver has committed, in the person's partition, every event Kafka held when
 * called: from then on the archive holds every event of theirs accepted before. False when it
 * has not within `timeoutMs` (the archiver is down or far behind).
 */
export async function archiveCaughtUp(kafka: KafkaClient, config: SigflowConfig, userId: string, timeoutMs: number): Promise<boolean> {
  const topic = topicsFor(config.kafka.topicPrefix).events;
  const partition = userPartition(userId, config.kafka.eventPartitions);
  const high = (await topicOffsets(kafka, topic, 'latest')).get(partition) ?? 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const committed = (await committedOffsets(kafka, config.archiver.groupId, topic)).get(partition) ?? -1;
    if (committed >= high) return true;
    if (Date.now() >= deadline) return false;
    await sleep(200);
  }
}

/**
 * Every archived event of a person as NDJSON lines, in event time (then event id), streamed:
 * DuckDB reads the archive's user_id column and hands the matching rows over chunk by chunk.
 * Each event once, as its first copy (DESIGN.md: earliest `received_at`, then lowest Kafka
 * position): exact replays of one Kafka message (the archive is at-least-once) and copies a
 * client sent again share the event id. `ip_key` (the flood rule's hash in truncated IP mode)
 * is internal and left out.
 */
export async function exportUserEvents(archive: ArchiveStorage, userId: string): Promise<Readable> {
  const folders = (await archive.hours('events')).flatMap((h) => eventFolders(h, h + HOUR_MS));
  // On S3 every file is copied into this process's cache first (DuckDB here reads local files only).
  const files = (await readableFiles(archive, folders)).map((f) => f.path);
  if (files.length === 0) return Readable.from([]);
  // Its sort may spill: into a directory of its own, not `.tmp` of the API's working directory.
  const db = await openOwnDuckDB({ threads: 1 });
  const conn = await db.instance.connect();
  const close = () => {
    conn.closeSync();
    db.close();
  };
  try {
    // Archives from before a column joined the format read it as NULL.
    const result = await withArchiveColumns(
      conn,
      files,
      (columns) =>
        conn.stream(
          `SELECT ${columns} FROM read_parquet($files, union_by_name = true, hive_partitioning = false)
           WHERE user_id = $user
           QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY received_at, kafka_partition, kafka_offset) = 1
           ORDER BY ts, event_id, kafka_partition, kafka_offset`,
          { files: listValue(files), user: userId },
          { files: LIST(VARCHAR) },
        ),
      eventColumns,
    );
    const names = result.columnNames();
    async function* lines(): AsyncGenerator<string> {
      try {
        for (;;) {
          const chunk = await result.fetchChunk();
          if (!chunk || chunk.rowCount === 0) return;
          const events = eventsOfColumns(names, chunk.getColumns(), chunk.rowCount);
          yield events.map((e) => `${JSON.stringify(e)}\n`).join('');
        }
      } finally {
        close();
      }
    }
    return Readable.from(lines());
  } catch (err) {
    close();
    throw err;
  }
}

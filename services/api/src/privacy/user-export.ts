import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { Kafka } from 'kafkajs';
import { archiveColumns, eventsOfColumns, listArchiveHours, listHourFiles, openOwnDuckDB, withArchiveColumns } from '@sigflow/archive';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor, userPartition } from '@sigflow/events';

/** The archive columns of an event (where it came from in Kafka is not the person's data). */
const eventColumns = archiveColumns.map((c) => c.name).filter((n) => n !== 'kafka_partition' && n !== 'kafka_offset' && n !== 'ip_key');

/**
 * Waits until the archiver has committed, in the person's partition, every event Kafka held when
 * called: from then on the archive holds every event of theirs accepted before. False when it
 * has not within `timeoutMs` (the archiver is down or far behind).
 */
export async function archiveCaughtUp(kafka: Kafka, config: SigflowConfig, userId: string, timeoutMs: number): Promise<boolean> {
  const topic = topicsFor(config.kafka.topicPrefix).events;
  const partition = userPartition(userId, config.kafka.eventPartitions);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const high = Number((await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition)?.high ?? 0);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [offsets] = await admin.fetchOffsets({ groupId: config.archiver.groupId, topics: [topic] });
      const committed = Number(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
      if (committed >= high) return true;
      if (Date.now() >= deadline) return false;
      await sleep(200);
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Every archived event of a person as NDJSON lines, in event time (then event id), streamed:
 * DuckDB reads the archive's user_id column and hands the matching rows over chunk by chunk.
 * Exact replays of one Kafka message (the archive is at-least-once) come once; events sent
 * twice by the client come twice, as they were received. `ip_key` (the flood rule's hash in
 * truncated IP mode) is internal and left out.
 */
export async function exportUserEvents(root: string, userId: string): Promise<Readable> {
  const files: string[] = [];
  for (const h of await listArchiveHours(root)) files.push(...(await listHourFiles(root, h)));
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
           QUALIFY row_number() OVER (PARTITION BY kafka_partition, kafka_offset ORDER BY received_at) = 1
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

import { openOwnDuckDB, type OwnDuckDB } from './own-duckdb.js';
import type { ArchivedEvent, ArchivedMessage } from './archive-columns.js';
import { ArchiveLane } from './archive-lane.js';
import { StagingArea } from './atomic-file.js';
import type { ArchiveStorage } from './storage/archive-storage.js';
import { LocalArchiveStorage } from './storage/local-storage.js';
import { ArchiveWriteError } from './errors.js';
import { emptyFlush, mergeFlushResults, type DeletedUsers, type FlushResult, type WrittenFile } from './flush-result.js';

export interface ArchiveWriterOptions {
  /** Archive root (the configured archive dir): the archive on the local folder, unless `storage` is given. */
  readonly root: string;
  /** Where the files go (default: the local folder `root`); the writer does not close it. */
  readonly storage?: ArchiveStorage;
  /** DuckDB worker threads of each query (the archiver shares the machine with the other services). */
  readonly threads?: number;
  /**
   * Connections writing at once (default 2), each the Kafka partitions `p` with
   * `p % lanes` its number. A flush of 50,000 messages is one DuckDB row group, which one
   * query parses and encodes on one thread; two lanes write two shares on two threads.
   */
  readonly lanes?: number;
}

/**
 * Writes flushes of Kafka messages as Parquet files per (Kafka partition, event hour), with
 * DuckDB: each flush's messages are shared out by Kafka partition among {@link ArchiveLane}s
 * (one connection each) that write at once, and the flush resolves when every lane is done.
 * A late event lands in the folder of its own event hour. Rows keep Kafka offset order.
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
    private readonly db: OwnDuckDB,
    private readonly lanes: readonly ArchiveLane[],
    private readonly staging: StagingArea,
  ) {}

  static async open(options: ArchiveWriterOptions): Promise<ArchiveWriter> {
    const storage = options.storage ?? new LocalArchiveStorage(options.root);
    const staging = await StagingArea.open(storage.localRoot);
    const db = await openOwnDuckDB({ threads: options.threads ?? 1 });
    const lanes: ArchiveLane[] = [];
    for (let i = 0; i < Math.max(1, options.lanes ?? 2); i++) lanes.push(await ArchiveLane.open(db.instance, storage, staging));
    return new ArchiveWriter(db, lanes, staging);
  }

  /** Where its DuckDB spills (a directory of its own, removed on close). */
  get spillDirectory(): string {
    return this.db.spillDirectory;
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
   * the clear) and counted. When a lane fails, the others finish first (a retry never meets
   * one still writing); files already published stay, and a retry of the same messages
   * writes them again under the same names.
   */
  async writeMessages(messages: readonly ArchivedMessage[], deleted?: DeletedUsers): Promise<FlushResult> {
    if (messages.length === 0) return emptyFlush();
    const shares: ArchivedMessage[][] = this.lanes.map(() => []);
    for (const m of messages) shares[m.partition % shares.length]?.push(m);
    const settled = await Promise.allSettled(this.lanes.map((lane, i) => lane.write(shares[i] as ArchivedMessage[], deleted)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      const cause = failed.reason as Error;
      throw new ArchiveWriteError(`writing ${messages.length} messages to the archive failed: ${cause.message}`, { cause });
    }
    return mergeFlushResults(settled.map((s) => (s as PromiseFulfilledResult<FlushResult>).value));
  }

  async close(): Promise<void> {
    for (const lane of this.lanes) lane.close();
    this.db.close();
    await this.staging.close();
  }
}

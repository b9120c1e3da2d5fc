/** One Parquet file a flush made visible. */
export interface WrittenFile {
  /** Where it is: a path on a local folder, an s3:// URL on object storage. */
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
  /** A sample of the rejected messages (at most {@link REJECTED_SAMPLE}, lowest offsets first), for the log. */
  readonly rejectedSample: RejectedMessage[];
  /** Highest event time archived per partition. */
  readonly maxTs: Map<number, number>;
  /** Events of deleted people left out (see {@link DeletedUsers}). */
  readonly deleted: number;
}

/** People whose events a flush leaves out: the tombstones (salted hashes) and their salt. */
export interface DeletedUsers {
  readonly salt: string;
  readonly hashes: readonly string[];
}

/** How many rejected messages a flush names. */
export const REJECTED_SAMPLE = 10;

/** A flush of nothing. */
export const emptyFlush = (): FlushResult => ({ files: [], rows: 0, rejected: 0, rejectedSample: [], maxTs: new Map(), deleted: 0 });

/**
 * One flush's result from the results of its parts (each part wrote other Kafka partitions):
 * files by hour, then partition; counts added; the rejected messages with the lowest offsets.
 */
export function mergeFlushResults(parts: readonly FlushResult[]): FlushResult {
  if (parts.length === 1) return parts[0] as FlushResult;
  const sum = (count: (part: FlushResult) => number) => parts.reduce((total, part) => total + count(part), 0);
  const maxTs = new Map<number, number>();
  for (const part of parts) for (const [partition, ts] of part.maxTs) maxTs.set(partition, Math.max(maxTs.get(partition) ?? -Infinity, ts));
  return {
    files: parts.flatMap((p) => p.files).sort((a, b) => a.hourStart - b.hourStart || a.partition - b.partition),
    rows: sum((p) => p.rows),
    rejected: sum((p) => p.rejected),
    deleted: sum((p) => p.deleted),
    rejectedSample: parts
      .flatMap((p) => p.rejectedSample)
      .sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)) || a.partition - b.partition)
      .slice(0, REJECTED_SAMPLE),
    maxTs,
  };
}

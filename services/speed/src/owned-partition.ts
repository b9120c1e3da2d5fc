import type { PartitionCache } from './partition-cache.js';
import type { PartitionCommitter } from './partition-committer.js';

/** A partition this instance processes: its cache and its commit chain. */
export interface OwnedPartition {
  readonly partition: number;
  readonly cache: PartitionCache;
  readonly committer: PartitionCommitter;
}

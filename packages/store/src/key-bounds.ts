import type { StoreKeys } from './store-keys.js';

/** A key pattern (after the prefix) that lives without a TTL, and what bounds it. */
interface BoundedKey {
  readonly pattern: RegExp;
  readonly bound: string;
}

/**
 * Every key of the layout that has no TTL, with what keeps it bounded (DESIGN.md "Data
 * lifecycle": every key has a TTL or a bound). Every other key is written with a TTL: signals,
 * snapshots, IP states, dedupe hashes, user directory buckets, recent users, speed and batch
 * views, batch version key sets, pending versions.
 */
const boundedKeys: readonly BoundedKey[] = [
  { pattern: /^speed:\{p\d+\}:(offset|epoch|partition|watermark)$/, bound: 'one value per Kafka partition' },
  { pattern: /^speed:\{p\d+\}:users:since$/, bound: 'one value per Kafka partition' },
  { pattern: /^speed:\{p\d+\}:counters$/, bound: 'one hash per Kafka partition with a fixed set of totals (events, duplicates, late, dlq, invalid by reason)' },
  { pattern: /^speed:\{p\d+\}:outbox$/, bound: 'drained: trimmed as soon as its messages are produced to analytics.v1' },
  { pattern: /^speed:\{p\d+\}:erase$/, bound: 'one entry per deletion in progress, removed by the erasure itself' },
  { pattern: /^speed:\{p\d+\}:(campaigns|pages)$/, bound: 'one member per campaign or page id (the advertiser catalogue, no personal data)' },
  { pattern: /^batch:(campaigns|pages)$/, bound: 'one member per campaign or page id (the advertiser catalogue, no personal data)' },
  { pattern: /^\{batch\}:(hours|dirty)$/, bound: 'one entry per archive hour within the retention (enforce-retention removes older hours)' },
  { pattern: /^\{batch\}:watermark$/, bound: 'one value' },
  { pattern: /^archive:watermarks$/, bound: 'one field per Kafka partition' },
  { pattern: /^\{attribution\}:(shapley:current|shapley:version|markov:current)$/, bound: 'one value, replaced by each training' },
  { pattern: /^\{budget\}:all$/, bound: 'one field per campaign with a budget (set and removed by ops)' },
  { pattern: /^\{budget\}:changes:.+$/, bound: "a campaign's newest 1,000 budget changes (the audit list, trimmed at each change)" },
  { pattern: /^bidding:published$/, bound: 'one field per campaign with a budget (removed with its budget)' },
  { pattern: /^\{segments\}:(definitions|meta)$/, bound: 'one field per segment, at most SIGFLOW_SEGMENTS_MAX' },
  { pattern: /^\{segments\}:version$/, bound: 'one value' },
  { pattern: /^\{alerts\}:rules$/, bound: 'one field per alert rule, at most SIGFLOW_ALERTS_MAX_RULES' },
  { pattern: /^\{alerts\}:series$/, bound: 'one field per alert rule and campaign (removed with the rule)' },
  { pattern: /^\{alerts\}:evaluated$/, bound: 'one value' },
  { pattern: /^\{alerts\}:(episodes|episodes-by-time|deliveries)$/, bound: 'the newest SIGFLOW_ALERTS_KEEP episodes and their deliveries (older ones are removed as new ones fire)' },
  { pattern: /^\{alerts\}:outbox$/, bound: 'drained: each delivery is removed once queued, right after the evaluation that committed it' },
  { pattern: /^meta:store$/, bound: 'one hash of three fields (the store marker)' },
  { pattern: /^meta:event-partitions$/, bound: 'one value' },
  { pattern: /^(\{[^}]+\}:meta:store|meta:store:\{.+\})$/, bound: "one value per hash slot of ops decisions (the store marker's copies)" },
  { pattern: /^privacy:tombstones$/, bound: 'the deletions of one retention period (older tombstones are removed)' },
  { pattern: /^(bull|\{bull\}):[^:]+:(completed|failed)$/, bound: 'finished jobs, removed by age and count (SIGFLOW_BATCH_KEEP_*)' },
  { pattern: /^(bull|\{bull\}):[^:]+:(wait|active|paused|delayed|prioritized|waiting-children|marker|pc|stalled|limiter)$/, bound: 'jobs in flight' },
  { pattern: /^(bull|\{bull\}):[^:]+:events$/, bound: "BullMQ's event stream, capped by BullMQ (about 10,000 entries)" },
  { pattern: /^(bull|\{bull\}):[^:]+:(meta|id)$/, bound: "one value of the queue's bookkeeping" },
  { pattern: /^(bull|\{bull\}):[^:]+:(repeat|repeat:.+)$/, bound: 'one entry per job scheduler (recompute-dirty, train-attribution, enforce-retention)' },
  { pattern: /^(bull|\{bull\}):[^:]+:[^:]+(:logs|:dependencies|:processed|:failed|:unsuccessful)?$/, bound: 'a job: finished jobs are removed by age and count (SIGFLOW_BATCH_KEEP_*)' },
];

/**
 * What bounds a key that has no TTL, or null when nothing does (a key of the layout that should
 * have had a TTL). `key` is a full key under `keys.prefix`.
 */
export function keyBound(keys: StoreKeys, key: string): string | null {
  const head = `${keys.prefix}:`;
  if (!key.startsWith(head)) return null;
  const rest = key.slice(head.length);
  return boundedKeys.find((b) => b.pattern.test(rest))?.bound ?? null;
}

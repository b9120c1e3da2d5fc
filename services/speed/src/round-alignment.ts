import type { AlignedPart, PartitionMessage, PendingMessages } from './round-types.js';

/** A partition holding more than this many fetched messages processes them whatever their time. */
export const MAX_PENDING_MESSAGES = 20_000;

/**
 * Aligns a fetch round's partitions in event time. When a backlog is read, each partition's
 * fetch spans its own stretch of event time; processing them whole would let one partition run
 * minutes ahead of another, and the IP flood rule would count an IP's clicks of the others too
 * late. So the round stops at the earliest of the newest event times of the partitions that
 * fetched something and have more to read (`cutoff`): each partition takes its messages in
 * arrival order up to the first one past it, the rest waits for the next round. A caught-up
 * partition (it fetched nothing, or up to its high watermark) holds nobody back: what it has
 * not fetched has not been written yet, and waiting for it held live events a fetch longer.
 * One holding too many messages takes them all. A partition whose
 * fetches moved past its committed offset with nothing to process gets an empty part, so its
 * commit moves the offset on.
 *
 * Returns each partition's part; `pending` keeps what is left.
 */
export function alignRound(
  pendingOf: ReadonlyMap<number, PendingMessages>,
  fetchedThisRound: ReadonlySet<number>,
  committedOf: (partition: number) => number,
): Map<number, AlignedPart> {
  let cutoff = Infinity;
  for (const p of fetchedThisRound) {
    const pending = pendingOf.get(p);
    if (!pending || pending.messages.length === 0 || pending.caughtUp) continue;
    let newest = -Infinity;
    for (const m of pending.messages) if (m.event.ts > newest) newest = m.event.ts;
    if (newest < cutoff) cutoff = newest;
  }
  const parts = new Map<number, AlignedPart>();
  for (const [p, pending] of pendingOf) {
    const limit = pending.messages.length > MAX_PENDING_MESSAGES ? Infinity : cutoff;
    let take = 0;
    while (take < pending.messages.length && (pending.messages[take] as PartitionMessage).event.ts <= limit) take++;
    const nextOffset = take < pending.messages.length ? (pending.messages[take] as PartitionMessage).offset : pending.fetchedNext;
    const deadLetters = pending.deadLetters.filter((d) => d.offset < nextOffset);
    // Nothing to process, but the offset may still move: past records with no event in them
    // (transaction markers), so that the stored offset reaches the log end.
    if (take === 0 && deadLetters.length === 0 && nextOffset <= committedOf(p)) continue;
    parts.set(p, { messages: pending.messages.splice(0, take), deadLetters, nextOffset });
    pending.deadLetters = pending.deadLetters.filter((d) => d.offset >= nextOffset);
  }
  return parts;
}

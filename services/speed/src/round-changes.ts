import { hourStart, OutcomeFold, type EventOutcome } from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import { signalReviewLine } from '@sigflow/store/speed-state';
import type { CachedUser } from './partition-cache.js';
import type { AnalyticsMessage } from './round-types.js';
import { SegmentChanges } from './segment-changes.js';

/**
 * Everything one partition's part of a round changes, collected in one pass over its events:
 * the outcomes (folded into view deltas as they come), each user's new signals, the IPs whose
 * state changed, what the speed layer left out per hour and campaign (reconciliation), counters,
 * new listings, the analytics messages and the dead letters sent. The partition's cache is updated as it goes;
 * the commit is built from these changes alone (`buildPartitionCommit`).
 */
export class RoundChanges {
  /** The outcomes folded into view deltas: an outcome is garbage once applied. */
  readonly views = new OutcomeFold();
  readonly signals = new Map<string, { readonly cached: CachedUser; readonly entries: string[] }>();
  readonly ips = new Set<string>();
  /** `${hour}\t${campaign}\t${cause}` -> count. */
  readonly quality = new Map<string, number>();
  readonly counters = new Map<string, number>();
  readonly newCampaigns: string[] = [];
  readonly newPages: string[] = [];
  /** Page id -> the URL its page views of this batch reported last (`attrs.url`, http(s) only). */
  readonly pageUrls = new Map<string, string>();
  readonly analytics: AnalyticsMessage[] = [];
  /** received_at of every applied event (event-to-view latency). */
  readonly receivedAt: number[] = [];
  /** Segment entries, exits, sizes and members. */
  readonly segments = new SegmentChanges();
  /** Hour -> the review lines of the signals the batch layer must review (store's `signalReviews`). */
  readonly reviews = new Map<number, string>();
  /** Messages of the part that failed decoding, sent to the dead-letter topic before the commit. */
  deadLetters = 0;

  bump(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  /** Asks the batch layer to review an event's signal: its verdict may not be the batch's. */
  review(event: ReceivedEvent): void {
    const hour = hourStart(event.ts);
    this.reviews.set(hour, (this.reviews.get(hour) ?? '') + signalReviewLine(event.event_id));
  }
}

/**
 * What the metrics need of a round's part once its commit is acknowledged: counts, so its
 * changes are garbage as soon as its commit is built.
 */
export interface RoundSummary {
  readonly receivedAt: readonly number[];
  readonly byStatus: Readonly<Record<EventOutcome['status'], number>>;
  readonly late: number;
  readonly events: number;
  readonly analytics: number;
  readonly segmentEntries: number;
  readonly segmentExits: number;
}

export function summarizeRound(changes: RoundChanges): RoundSummary {
  const { outcomes, duplicates, invalid, late } = changes.views.counts;
  const byStatus = { valid: outcomes - duplicates - invalid, invalid, duplicate: duplicates };
  const { entries, exits } = changes.segments;
  return { receivedAt: changes.receivedAt, byStatus, late, events: outcomes, analytics: changes.analytics.length, segmentEntries: entries, segmentExits: exits };
}

import { forEachSizeDelta, type SegmentSet, type SegmentStep, type SegmentTransition, type UserState } from '@sigflow/core';
import type { SegmentChangeMessage } from '@sigflow/events';
import { segmentSizeKey, type SegmentMemberChange } from '@sigflow/store/segments-alerts';
import type { AnalyticsMessage } from './round-types.js';

/**
 * What one partition's part of a round changed in segments, collected per event: entries and exits per
 * window, each user's memberships after it, the `analytics.v1` messages, and the users
 * whose snapshot must be rewritten (memberships are durable through the snapshot only).
 */
export class SegmentChanges {
  readonly sizes = new Map<string, number>();
  readonly members = new Map<string, SegmentMemberChange>();
  readonly snapshotUsers = new Set<string>();
  entries = 0;
  exits = 0;

  private readonly addSize = (id: string, windowStart: number, kind: 'in' | 'out', delta: number): void => {
    const key = segmentSizeKey(id, windowStart, kind);
    this.sizes.set(key, (this.sizes.get(key) ?? 0) + delta);
  };

  /** Records one step of a user (see core's `evaluateSegments`). */
  note(userId: string, user: UserState, step: SegmentStep, windowMs: number, analytics: AnalyticsMessage[]): void {
    forEachSizeDelta(step, windowMs, this.addSize);
    let change = this.members.get(userId);
    if (!change) this.members.set(userId, (change = { members: user.segments, expiresAt: step.expiresAt, entered: null, left: null }));
    change.members = user.segments;
    change.expiresAt = step.expiresAt;
    for (const t of step.transitions) {
      if (t.change === 'entered') {
        (change.entered ??= new Set()).add(t.id);
        this.entries++;
      } else {
        (change.left ??= new Set()).add(t.id);
        this.exits++;
      }
      analytics.push({ key: userId, value: segmentMessage(userId, t) });
    }
    if (step.changed) this.snapshotUsers.add(userId);
  }
}

/** The `analytics.v1` message of a segment entry or exit. */
function segmentMessage(userId: string, t: SegmentTransition): string {
  const message: SegmentChangeMessage = {
    kind: t.change === 'entered' ? 'segment_entered' : 'segment_left',
    user_id: userId,
    segment: t.name,
    segment_id: t.id,
    segment_version: t.version,
    at: t.at,
    reason: t.reason,
    entered_at: t.entered ?? t.at,
  };
  return JSON.stringify(message);
}

/** Whether a user's event needs a segment evaluation: segments defined, or memberships to keep or end. */
export function needsSegments(set: SegmentSet, user: UserState): boolean {
  return set.segments.length > 0 || user.segments.length > 0;
}

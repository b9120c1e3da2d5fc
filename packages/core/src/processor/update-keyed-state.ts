import type { EventType } from '@sigflow/events';
import type { RuleSettings } from '../rule-settings.js';
import { compareEventKeys, insertByEventKey, type EventKey } from '../ordering/event-order.js';
import { recordFloodClick } from '../validity/flood-rule.js';
import { rememberImpression } from '../join/impression-click-join.js';
import { addToSessionsInPlace, type SessionChange } from '../sessions/session-windows.js';
import { absorbEngagementInPlace, engagementWeights } from '../engagement/engagement-score.js';
import { absorbSegmentFeatures } from '../segments/segment-features.js';
import type { Touchpoint } from '../attribution/touchpoint.js';
import { ownList, type UserState } from './user-state.js';
import { floodClickCap, outOfOrderSlackMs, stateLimits } from './state-limits.js';

/**
 * The part of an event the keyed user state depends on. Events carry it, and so do the user's
 * signals: replaying a user's signals through {@link updateKeyedState} rebuilds the state.
 */
export interface KeyedStateInput extends EventKey {
  readonly type: EventType;
  readonly campaign_id?: string | undefined;
  readonly ad_id?: string | undefined;
  readonly channel?: string | undefined;
  readonly value?: number | undefined;
  /** A custom event's name (its `count:track:<name>` feature). */
  readonly name?: string | undefined;
  /** An identify's traits. */
  readonly traits?: Readonly<Record<string, string | number | boolean>> | undefined;
}

function touchpointOf(event: KeyedStateInput): Touchpoint | null {
  if (event.type !== 'impression' && event.type !== 'click') return null;
  const { ts, event_id, type, campaign_id, ad_id, channel } = event;
  if (campaign_id === undefined || ad_id === undefined || channel === undefined) return null;
  return { ts, event_id, type, campaign_id, ad_id, channel };
}

function pruneUser(user: UserState, settings: RuleSettings): void {
  if (user.maxTs === null) return;
  const pathFrom = user.maxTs - settings.attributionLookbackMs - outOfOrderSlackMs(settings);
  let drop = 0;
  while (drop < user.path.length && (user.path[drop] as Touchpoint).ts < pathFrom) drop++;
  drop = Math.max(drop, user.path.length - stateLimits.pathTouchpoints);
  if (drop > 0) user.path.splice(0, drop);
  if (user.sessions.length > stateLimits.sessions) user.sessions.splice(0, user.sessions.length - stateLimits.sessions);
}

function absorbValid(user: UserState, event: KeyedStateInput, touchpoint: Touchpoint | null, settings: RuleSettings, viewsOnly: boolean): SessionChange | null {
  if (touchpoint) {
    if (touchpoint.type === 'impression') {
      const slack = outOfOrderSlackMs(settings);
      const limits = { perAdCap: stateLimits.joinImpressionsPerAd, cap: stateLimits.joinImpressions };
      // The same object as in the path (a touchpoint is a join impression with its type): one
      // copy per impression held in memory, not two.
      rememberImpression((user.recentImpressions = ownList(user.recentImpressions)), touchpoint, (user.maxTs as number) - settings.joinWindowMs - slack, limits);
    }
    insertByEventKey((user.path = ownList(user.path)), touchpoint);
    if (user.lastTouch === null || compareEventKeys(touchpoint, user.lastTouch) > 0) user.lastTouch = touchpoint;
  }
  if (viewsOnly) return null;
  const change = addToSessionsInPlace((user.sessions = ownList(user.sessions)), event.ts, settings.sessionGapMs);
  absorbEngagementInPlace(user.engagement, event.ts, engagementWeights[event.type], settings.engagementHalfLifeMs);
  if (event.type === 'conversion') {
    user.conversions = { count: user.conversions.count + 1, value: user.conversions.value + (event.value ?? 0) };
  }
  return change;
}

/**
 * Step 4 of {@link processEvent}: what one non-duplicate event (late ones too) does to its
 * user's keyed state. Every click is remembered for the user's flood rule, valid or not; valid
 * impressions join later clicks; valid touchpoints enter the path and last touch; valid events
 * update sessions, engagement and conversions; every event updates the segment features. Returns the session change of a valid event.
 * With `viewsOnly` (see `ProcessContext.viewsOnly`) only what the views read is updated: the
 * flood clicks, join impressions, path and last touch; sessions, engagement, conversions and
 * segment features stay as they were, and no session change is returned.
 */
export function updateKeyedState(user: UserState, event: KeyedStateInput, valid: boolean, settings: RuleSettings, viewsOnly = false): SessionChange | null {
  user.maxTs = user.maxTs === null ? event.ts : Math.max(user.maxTs, event.ts);
  if (event.type === 'click') {
    const keepFrom = user.maxTs - settings.floodWindowMs - outOfOrderSlackMs(settings);
    recordFloodClick((user.recentClicks = ownList(user.recentClicks)), event, keepFrom, floodClickCap(settings));
  }
  const change = valid ? absorbValid(user, event, touchpointOf(event), settings, viewsOnly) : null;
  if (!viewsOnly) absorbSegmentFeatures(user.segmentFeatures, event, valid, user.maxTs);
  pruneUser(user, settings);
  return change;
}

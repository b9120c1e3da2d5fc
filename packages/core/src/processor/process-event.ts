import type { SigflowEvent } from '@sigflow/events';
import type { RuleSettings } from '../rule-settings.js';
import { compareEventKeys, insertByEventKey, type EventKey } from '../ordering/event-order.js';
import { isBotUserAgent } from '../validity/bot-rule.js';
import { isFloodClick, recordFloodClick } from '../validity/flood-rule.js';
import { isOrphanClick } from '../validity/orphan-rule.js';
import { isTooFastClick } from '../validity/too-fast-rule.js';
import { classifyEvent } from '../validity/classify-event.js';
import { findJoinImpression, joinOf, rememberImpression, type ClickJoin } from '../join/impression-click-join.js';
import { windowStart } from '../windows/tumbling-window.js';
import { advanceWatermark, currentWatermark, isLateEvent, type PartitionState } from '../windows/watermark.js';
import { addToSessions, type SessionChange } from '../sessions/session-windows.js';
import { absorbEngagement, engagementWeights } from '../engagement/engagement-score.js';
import type { Touchpoint } from '../attribution/touchpoint.js';
import { attributeConversion, type ConversionAttribution } from '../attribution/attribute-conversion.js';
import type { ShapleyTable } from '../attribution/shapley-table.js';
import type { MarkovModel } from '../attribution/markov.js';
import type { UserState } from './user-state.js';
import type { IpState } from './ip-state.js';
import { floodClickCap, outOfOrderSlackMs, stateLimits } from './state-limits.js';
import type { EventOutcome, HeatmapIncrement, UserSignal, WindowMetrics } from './event-outcome.js';

/** Everything {@link processEvent} reads besides the event; the three states are mutated. */
export interface ProcessContext {
  /** The state of the event's user. */
  readonly user: UserState;
  /**
   * Speed layer: the state of the event's IP in this partition; the IP half of the flood rule
   * is decided and recorded here, in arrival order. Ignored for events without `ip`.
   */
  readonly ip?: IpState | undefined;
  /**
   * Batch layer: the IP flood verdict of this click computed beforehand by `floodedIpClicks`
   * (the batch scan is sorted by user, so it cannot see an IP's clicks in order). Takes
   * precedence over `ip`.
   */
  readonly ipFlood?: boolean | undefined;
  /** Speed layer: the partition's watermark state. Absent (batch): no event is late. */
  readonly partition?: PartitionState | undefined;
  readonly settings: RuleSettings;
  /** The latest published Shapley table; absent: equal split over channels, version null. */
  readonly shapley?: ShapleyTable | null | undefined;
  /** Batch layer: a trained Markov chain adds the `markov` model. */
  readonly markov?: MarkovModel | null | undefined;
  /** The caller's dedupe decision (see `classifyCopy`): true = a copy already processed. */
  readonly isDuplicate: boolean;
}

function touchpointOf(event: SigflowEvent): Touchpoint | null {
  if (event.type !== 'impression' && event.type !== 'click') return null;
  const { ts, event_id, type, campaign_id, ad_id, channel } = event;
  return { ts, event_id, type, campaign_id, ad_id, channel };
}

function signalOf(event: SigflowEvent, reason: UserSignal['reason'], late: boolean): UserSignal {
  // Built by assignment rather than conditional spreads: this runs once per event.
  const signal: { -readonly [K in keyof UserSignal]: UserSignal[K] } = {
    event_id: event.event_id,
    type: event.type,
    ts: event.ts,
    invalid: reason !== null,
    reason,
    late,
  };
  if (event.type === 'impression' || event.type === 'click') {
    signal.campaign_id = event.campaign_id;
    signal.ad_id = event.ad_id;
    signal.channel = event.channel;
  }
  if (event.page_id !== undefined) signal.page_id = event.page_id;
  if (event.type === 'element_click') signal.element_id = event.element_id;
  if (event.type === 'conversion' && event.value !== undefined) signal.value = event.value;
  return signal;
}

function pruneUser(user: UserState, settings: RuleSettings): void {
  if (user.maxTs === null) return;
  const slack = outOfOrderSlackMs(settings);
  const pathFrom = user.maxTs - settings.attributionLookbackMs - slack;
  let drop = 0;
  while (drop < user.path.length && (user.path[drop] as Touchpoint).ts < pathFrom) drop++;
  drop = Math.max(drop, user.path.length - stateLimits.pathTouchpoints);
  if (drop > 0) user.path.splice(0, drop);
  if (user.sessions.length > stateLimits.sessions) user.sessions.splice(0, user.sessions.length - stateLimits.sessions);
}

/**
 * Runs one event through every shared rule with the keyed state of its user, IP and partition,
 * and returns what it did. This is the one execution both layers drive:
 * - speed: per Kafka partition in arrival order, with `ip` and `partition`, state loaded from and
 *   saved to Redis as JSON;
 * - batch: events sorted by (user_id, ts, event_id), with `ipFlood` from `floodedIpClicks` and
 *   no `partition` (nothing is late). On in-order input both give the same outcomes.
 *
 * Mutates `ctx.user`, `ctx.ip` and `ctx.partition` in place. Steps:
 * 1. Duplicate: outcome `duplicate`, no state change at all (not even the watermark).
 * 2. Late = the event's window closed before the partition's watermark (before this event
 *    advances it); then the watermark advances.
 * 3. Validity, first matching rule: bot; flood (user or IP; every non-duplicate click is
 *    recorded for later flood decisions, whatever its verdict); orphan; too_fast.
 * 4. State, for late events too (the batch layer, which has no late events, includes them, so
 *    this keeps later decisions closest to it): valid impressions join later clicks; valid
 *    touchpoints enter the path and last touch; valid events update sessions, engagement and
 *    the conversion count/value.
 * 5. Views, for events that are NOT late only: window metrics (impressions and clicks, valid or
 *    invalid), attribution of valid conversions, heatmap increments of valid element_clicks.
 *    Late events are still signals (flagged `late`).
 */
export function processEvent(ctx: ProcessContext, event: SigflowEvent): EventOutcome {
  const { user, settings } = ctx;
  const ws = windowStart(event.ts, settings.windowMs);
  if (ctx.isDuplicate) {
    // Object literals spelled out (no spread): this runs once per event on the hot path.
    return {
      event_id: event.event_id,
      user_id: event.user_id,
      type: event.type,
      ts: event.ts,
      windowStart: ws,
      status: 'duplicate',
      reason: null,
      late: false,
      signal: null,
      windowMetric: null,
      join: null,
      attribution: null,
      heatmap: null,
      session: null,
      profile: null,
    };
  }

  // 2. Lateness against the watermark as it was before this event.
  let late = false;
  if (ctx.partition) {
    late = isLateEvent(event.ts, currentWatermark(ctx.partition, settings), settings);
    advanceWatermark(ctx.partition, event.ts);
  }
  user.maxTs = user.maxTs === null ? event.ts : Math.max(user.maxTs, event.ts);
  const slack = outOfOrderSlackMs(settings);
  const key: EventKey = { ts: event.ts, event_id: event.event_id };

  // 3. Validity.
  const bot = isBotUserAgent(event.user_agent);
  let join: ClickJoin | null = null;
  let reason;
  if (event.type === 'click') {
    const userFlood = isFloodClick(user.recentClicks, key, settings);
    let ipFlood = ctx.ipFlood ?? false;
    const ip = ctx.ip;
    if (ctx.ipFlood === undefined && ip && event.ip !== undefined) {
      ipFlood = isFloodClick(ip.recentClicks, key, settings);
      ip.maxTs = ip.maxTs === null ? event.ts : Math.max(ip.maxTs, event.ts);
      recordFloodClick(ip.recentClicks, key, ip.maxTs - settings.floodWindowMs - slack, floodClickCap(settings));
    }
    recordFloodClick(user.recentClicks, key, user.maxTs - settings.floodWindowMs - slack, floodClickCap(settings));
    const joined = findJoinImpression(user.recentImpressions, event, settings);
    join = joined ? joinOf(joined, event) : null;
    reason = classifyEvent({
      type: event.type,
      bot,
      flood: userFlood || ipFlood,
      orphan: isOrphanClick(joined),
      tooFast: isTooFastClick(event.ts, joined, settings),
    });
  } else {
    reason = classifyEvent({ type: event.type, bot });
  }
  const valid = reason === null;

  // 4. Keyed state (late events included).
  const touchpoint = touchpointOf(event);
  let session: SessionChange | null = null;
  if (valid) {
    if (event.type === 'impression') {
      rememberImpression(
        user.recentImpressions,
        { ts: event.ts, event_id: event.event_id, campaign_id: event.campaign_id, ad_id: event.ad_id, channel: event.channel },
        user.maxTs - settings.joinWindowMs - slack,
        { perAdCap: stateLimits.joinImpressionsPerAd, cap: stateLimits.joinImpressions },
      );
    }
    if (touchpoint) {
      insertByEventKey(user.path, touchpoint);
      if (user.lastTouch === null || compareEventKeys(touchpoint, user.lastTouch) > 0) user.lastTouch = touchpoint;
    }
    const added = addToSessions(user.sessions, event.ts, settings.sessionGapMs);
    user.sessions = added.sessions;
    session = added.change;
    user.engagement = absorbEngagement(user.engagement, event.ts, engagementWeights[event.type], settings.engagementHalfLifeMs);
    if (event.type === 'conversion') {
      user.conversions = { count: user.conversions.count + 1, value: user.conversions.value + (event.value ?? 0) };
    }
  }

  // 5. View updates (not for late events).
  let windowMetric: WindowMetrics | null = null;
  if (touchpoint && !late) {
    const isImpression = event.type === 'impression';
    windowMetric = {
      windowStart: ws,
      campaign_id: touchpoint.campaign_id,
      ad_id: touchpoint.ad_id,
      impressions: valid && isImpression ? 1 : 0,
      clicks: valid && !isImpression ? 1 : 0,
      invalidImpressions: !valid && isImpression ? 1 : 0,
      invalidClicks: !valid && !isImpression ? 1 : 0,
    };
  }
  let attribution: ConversionAttribution | null = null;
  if (event.type === 'conversion' && valid && !late) {
    attribution = attributeConversion(user.path, event, { settings, shapley: ctx.shapley, markov: ctx.markov });
  }
  let heatmap: HeatmapIncrement | null = null;
  // The schema requires page_id on element_click; the check only narrows the type.
  if (event.type === 'element_click' && event.page_id !== undefined && valid && !late) {
    heatmap = { page_id: event.page_id, windowStart: ws, element_id: event.element_id, clicks: 1 };
  }

  pruneUser(user, settings);
  return {
    event_id: event.event_id,
    user_id: event.user_id,
    type: event.type,
    ts: event.ts,
    windowStart: ws,
    status: valid ? 'valid' : 'invalid',
    reason,
    late,
    signal: signalOf(event, reason, late),
    windowMetric,
    join,
    attribution,
    heatmap,
    session,
    profile: valid ? { engagement: user.engagement, lastTouch: user.lastTouch, conversions: user.conversions } : null,
  };
}

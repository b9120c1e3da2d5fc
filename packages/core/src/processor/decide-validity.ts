import { floodIpOf, type SigflowEvent } from '@sigflow/events';
import type { EventKey } from '../ordering/event-order.js';
import { isBotUserAgent } from '../validity/bot-rule.js';
import { countFloodClicks, recordFloodClick } from '../validity/flood-rule.js';
import { isOrphanClick } from '../validity/orphan-rule.js';
import { isTooFastClick } from '../validity/too-fast-rule.js';
import { classifyEvent } from '../validity/classify-event.js';
import type { InvalidReason } from '../validity/invalid-reason.js';
import { findJoinImpression, joinOf, type ClickJoin } from '../join/impression-click-join.js';
import type { ProcessContext } from './process-context.js';
import { ipClickRetentionMs, stateLimits } from './state-limits.js';

/** What the validity rules decided about one non-duplicate event. */
export interface ValidityDecision {
  /** The first matching rule (bot, flood, orphan, too_fast), null when valid. */
  readonly reason: InvalidReason | null;
  /** Clicks: the impression the join found, null when none (or not a click). */
  readonly join: ClickJoin | null;
}

const validNonClick: ValidityDecision = Object.freeze({ reason: null, join: null });
const botNonClick: ValidityDecision = Object.freeze({ reason: 'bot', join: null });

/**
 * The speed layer's IP half of the flood rule for one click with an IP: whether enough earlier
 * clicks of its IP lie in its flood window, counted in its own partition (`ip`, then records the
 * click there) plus those other partitions had committed (`ipElsewhere`): exact up to arrival
 * order. (Batch passes the verdict precomputed over every partition, `ipFlood`.)
 */
function ipFloodOf(ctx: ProcessContext, click: EventKey): boolean {
  const ip = ctx.ip;
  if (!ip) return false;
  const { settings } = ctx;
  let prior = countFloodClicks(ip.recentClicks, click, settings);
  for (const clicks of ctx.ipElsewhere ?? []) prior += countFloodClicks(clicks, click, settings);
  ip.maxTs = ip.maxTs === null ? click.ts : Math.max(ip.maxTs, click.ts);
  recordFloodClick(ip.recentClicks, click, ip.maxTs - ipClickRetentionMs(settings), Math.max(stateLimits.ipFloodClicks, settings.floodThreshold));
  return prior >= settings.floodThreshold;
}

/**
 * Step 3 of {@link processEvent}: the validity rules, first match wins (bot, flood, orphan,
 * too_fast; only clicks can be more than bots). Reads the user's state; records the click in
 * its IP's state (speed), never in the user's (that is {@link updateKeyedState}).
 */
export function decideValidity(ctx: ProcessContext, event: SigflowEvent): ValidityDecision {
  const bot = isBotUserAgent(event.user_agent);
  if (event.type !== 'click') return bot ? botNonClick : validNonClick;
  const { user, settings } = ctx;
  const key: EventKey = { ts: event.ts, event_id: event.event_id };
  const userFlood = countFloodClicks(user.recentClicks, key, settings) >= settings.floodThreshold;
  const ipFlood = ctx.ipFlood ?? (floodIpOf(event) !== undefined && ipFloodOf(ctx, key));
  const joined = findJoinImpression(user.recentImpressions, event, settings);
  const reason = classifyEvent({
    type: event.type,
    bot,
    flood: userFlood || ipFlood,
    orphan: isOrphanClick(joined),
    tooFast: isTooFastClick(event.ts, joined, settings),
  });
  return { reason, join: joined ? joinOf(joined, event) : null };
}

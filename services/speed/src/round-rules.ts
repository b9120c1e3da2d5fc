import { causeCampaign, causeName, compareEventKeys, NO_CAMPAIGN, emptySegmentSet, encodeSignal, evaluateSegments, processEvent, type EventKey, type EventOutcome, type RuleSettings, type SegmentSet, type ShapleyTable, hourStart } from '@sigflow/core';
import { floodIpOf, type AttributedConversionMessage, type ReceivedEvent } from '@sigflow/events';
import { field } from '@sigflow/store';
import type { CachedUser, PartitionCache } from './partition-cache.js';
import type { RoundChanges } from './round-changes.js';
import type { ForeignClicks, PartitionMessage } from './round-types.js';
import { needsSegments } from './segment-changes.js';

/** What the rules need besides the partition's state. */
export interface RuleContext {
  readonly settings: RuleSettings;
  /** The latest published Shapley table; null: equal split over channels (stated in outcomes). */
  readonly shapley: ShapleyTable | null;
  /** The segment definitions in force (evaluated at each event of a user); none when absent. */
  readonly segments?: SegmentSet;
}

function noteListings(changes: RoundChanges, cache: PartitionCache, event: ReceivedEvent, outcome: EventOutcome): void {
  if ((event.type === 'impression' || event.type === 'click') && !cache.listedCampaigns.has(event.campaign_id)) {
    cache.listedCampaigns.add(event.campaign_id);
    changes.newCampaigns.push(event.campaign_id);
  }
  // Pages the heatmaps have data for: a valid, on-time element click or page activity.
  const page = outcome.heatmap?.page_id ?? outcome.pageActivity?.page_id;
  if (page !== undefined && !cache.listedPages.has(page)) {
    cache.listedPages.add(page);
    changes.newPages.push(page);
  }
  if (event.type === 'page_view' && outcome.pageActivity) {
    const url = event.attrs?.['url'];
    if (url !== undefined && /^https?:\/\//.test(url)) changes.pageUrls.set(event.page_id, url);
  }
}

function noteAttribution(changes: RoundChanges, outcome: EventOutcome, event: ReceivedEvent, hour: number): void {
  const attribution = outcome.attribution;
  if (!attribution) return;
  // Which Shapley table each conversion used, per hour: reconciliation names it as a cause.
  changes.bump(changes.quality, field(hour, NO_CAMPAIGN, causeName({ kind: 'shapley', version: attribution.shapleyVersion ?? 'none' })));
  const message: AttributedConversionMessage = {
    conversion_event_id: event.event_id,
    user_id: event.user_id,
    ts: event.ts,
    window_start: outcome.windowStart,
    value: attribution.value,
    path_length: attribution.pathLength,
    shapley_version: attribution.shapleyVersion,
    shapley_fallback: attribution.shapleyFallback,
    credits: attribution.credits,
  };
  changes.analytics.push({ key: event.user_id, value: JSON.stringify(message) });
}

/** Records a non-duplicate event's outcome: its signal, causes, counters and listings. */
function noteOutcome(changes: RoundChanges, cache: PartitionCache, cached: CachedUser, outcome: EventOutcome, event: ReceivedEvent): void {
  const hour = hourStart(event.ts);
  let entry = changes.signals.get(event.user_id);
  if (!entry) changes.signals.set(event.user_id, (entry = { cached, entries: [] }));
  // Identity records are no signals; traits live in the user's state, durable through its snapshot.
  if (outcome.signal) entry.entries.push(encodeSignal(outcome.signal));
  else if (event.type === 'identify') changes.segments.snapshotUsers.add(event.user_id);
  if (outcome.late) changes.bump(changes.quality, field(hour, causeCampaign(event), causeName({ kind: 'late', eventType: event.type })));
  else if (outcome.status === 'invalid' && outcome.windowMetric) {
    changes.bump(changes.quality, field(hour, outcome.windowMetric.campaign_id, causeName({ kind: 'invalid', reason: outcome.reason as string })));
  }
  if (outcome.reason) changes.bump(changes.counters, causeName({ kind: 'invalid', reason: outcome.reason }));
  noteListings(changes, cache, event, outcome);
  noteAttribution(changes, outcome, event, hour);
}

/** One partition's part of a round: its cache, its decoded messages, what they change. */
export interface PartitionWork {
  readonly cache: PartitionCache;
  readonly messages: readonly PartitionMessage[];
  readonly changes: RoundChanges;
}

/** The IP's clicks in every other partition: owned ones from memory, the rest as committed. */
function clicksElsewhere(owned: readonly PartitionCache[], self: PartitionCache, ip: string, foreign: ForeignClicks): EventKey[][] {
  const lists: EventKey[][] = [];
  for (const cache of owned) {
    if (cache === self) continue;
    const state = cache.ips.get(ip);
    if (state && state.recentClicks.length > 0) lists.push(state.recentClicks);
  }
  const committed = foreign.get(ip);
  if (committed) lists.push(...committed);
  return lists;
}

/** Runs one event through the rules with its partition's cache and records what it changed. */
function applyEvent(rules: RuleContext, work: PartitionWork, event: ReceivedEvent, ipElsewhere: EventKey[][] | undefined): void {
  const { cache, changes } = work;
  const verdict = cache.dedupe.remember(event.event_id, event.ts);
  if (verdict === 'unchecked') changes.bump(changes.counters, 'dedupe_unchecked');
  const cached = cache.users.get(event.user_id);
  if (!cached) throw new Error(`state of user ${event.user_id} was not loaded`);
  const ipKey = event.type === 'click' ? floodIpOf(event) : undefined;
  const previousMaxTs = cached.user.maxTs;
  const outcome = processEvent(
    {
      user: cached.user,
      ip: ipKey === undefined ? undefined : cache.ips.get(ipKey),
      ipElsewhere,
      partition: cache.state,
      settings: rules.settings,
      shapley: rules.shapley,
      isDuplicate: verdict === 'duplicate',
      unchecked: verdict === 'unchecked',
    },
    event,
  );
  changes.views.add(outcome);
  changes.receivedAt.push(event.received_at);
  if (outcome.status === 'duplicate') {
    changes.bump(changes.quality, field(hourStart(event.ts), causeCampaign(event), causeName({ kind: 'duplicates' })));
    return;
  }
  if (ipKey !== undefined) changes.ips.add(ipKey);
  noteOutcome(changes, cache, cached, outcome, event);
  // Verdicts that may differ from the batch layer's (which corrects the signal, see the store's
  // signal corrections): invalid traffic, late events and copies older than the dedupe horizon.
  if (verdict === 'unchecked' || outcome.status === 'invalid' || outcome.late) changes.review(event);
  const segments = rules.segments ?? emptySegmentSet;
  if (needsSegments(segments, cached.user)) {
    const step = evaluateSegments(cached.user, segments, previousMaxTs, rules.settings);
    if (step) changes.segments.note(event.user_id, cached.user, step, rules.settings.windowMs, changes.analytics);
  }
}

/**
 * Runs a fetch round through the shared rules ({@link processEvent}) with the partitions'
 * cached state, which it updates, collecting each partition's changes. Each partition's events
 * go in arrival order (its watermark and lateness depend on it); across partitions the one
 * whose next event comes first by (ts, event_id) goes first, so an IP's clicks in the partitions this instance owns
 * are counted in event-time order (the IP flood rule). Every user and dedupe bucket of the
 * round must be loaded (`loadRoundState`).
 */
export function collectRoundChanges(rules: RuleContext, works: readonly PartitionWork[], owned: readonly PartitionCache[], foreign: ForeignClicks): void {
  const next = works.map(() => 0);
  for (;;) {
    let pick = -1;
    let oldest: ReceivedEvent | null = null;
    for (let w = 0; w < works.length; w++) {
      const message = (works[w] as PartitionWork).messages[next[w] as number];
      if (message && (oldest === null || compareEventKeys(message.event, oldest) < 0)) {
        pick = w;
        oldest = message.event;
      }
    }
    if (pick < 0) return;
    const work = works[pick] as PartitionWork;
    const { event } = work.messages[(next[pick] as number)++] as PartitionMessage;
    const ip = event.type === 'click' ? floodIpOf(event) : undefined;
    applyEvent(rules, work, event, ip === undefined ? undefined : clicksElsewhere(owned, work.cache, ip, foreign));
  }
}

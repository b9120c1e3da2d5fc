import { compareEventKeys, emptySegmentSet, encodeSignal, evaluateSegments, processEvent, type EventKey, type EventOutcome, type RuleSettings, type SegmentSet, type ShapleyTable, type UserSignal } from '@sigflow/core';
import { floodIpOf, type ReceivedEvent } from '@sigflow/events';
import { field, hourStart } from '@sigflow/store';
import type { ForeignClicks } from './batch-loader.js';
import type { CachedUser, PartitionRuntime } from './partition-runtime.js';
import { needsSegments, SegmentChanges } from './segment-changes.js';

/** One decoded message of a partition batch. */
export interface PartitionMessage {
  readonly offset: number;
  readonly event: ReceivedEvent;
}

/** What the rules need besides the partition's state. */
export interface RuleContext {
  readonly settings: RuleSettings;
  /** The latest published Shapley table; null: equal split over channels (stated in outcomes). */
  readonly shapley: ShapleyTable | null;
  /** The segment definitions in force (evaluated at each event of a user); none when absent. */
  readonly segments?: SegmentSet;
}

/** An `analytics.v1` message (an attributed conversion), committed to the outbox with the views. */
export interface AnalyticsMessage {
  readonly key: string;
  readonly value: string;
}

/**
 * Everything one partition batch changes, collected in one pass over its events: the outcomes
 * (folded into view deltas), each user's new signals, the IPs whose state changed, what the
 * speed layer left out per hour and campaign (reconciliation), counters, new listings and the
 * analytics messages. The partition's cache is updated as it goes.
 */
export class BatchChanges {
  readonly outcomes: EventOutcome[] = [];
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

  bump(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }
}

/**
 * What the metrics need of a batch once its commit is acknowledged: counts, not outcomes, so
 * the batch's events and outcomes are garbage as soon as its commit is built.
 */
export interface BatchSummary {
  readonly receivedAt: readonly number[];
  readonly byStatus: Readonly<Record<EventOutcome['status'], number>>;
  readonly late: number;
  readonly events: number;
  readonly analytics: number;
  readonly segmentEntries: number;
  readonly segmentExits: number;
}

export function summarizeBatch(changes: BatchChanges): BatchSummary {
  let late = 0;
  const byStatus = { valid: 0, invalid: 0, duplicate: 0 };
  for (const o of changes.outcomes) {
    byStatus[o.status]++;
    if (o.late) late++;
  }
  const { entries, exits } = changes.segments;
  return { receivedAt: changes.receivedAt, byStatus, late, events: changes.outcomes.length, analytics: changes.analytics.length, segmentEntries: entries, segmentExits: exits };
}

/** Campaign of an event for reconciliation causes; '*' for events that have none. */
function campaignOf(event: ReceivedEvent): string {
  return event.type === 'impression' || event.type === 'click' ? event.campaign_id : '*';
}

function noteListings(changes: BatchChanges, runtime: PartitionRuntime, event: ReceivedEvent, outcome: EventOutcome): void {
  if ((event.type === 'impression' || event.type === 'click') && !runtime.listedCampaigns.has(event.campaign_id)) {
    runtime.listedCampaigns.add(event.campaign_id);
    changes.newCampaigns.push(event.campaign_id);
  }
  // Pages the heatmaps have data for: a valid, on-time element click or page activity.
  const page = outcome.heatmap?.page_id ?? outcome.pageActivity?.page_id;
  if (page !== undefined && !runtime.listedPages.has(page)) {
    runtime.listedPages.add(page);
    changes.newPages.push(page);
  }
  if (event.type === 'page_view' && outcome.pageActivity) {
    const url = event.attrs?.['url'];
    if (url !== undefined && /^https?:\/\//.test(url)) changes.pageUrls.set(event.page_id, url);
  }
}

function noteAttribution(changes: BatchChanges, outcome: EventOutcome, event: ReceivedEvent, hour: number): void {
  const attribution = outcome.attribution;
  if (!attribution) return;
  // Which Shapley table each conversion used, per hour: reconciliation names it as a cause.
  changes.bump(changes.quality, field(hour, '*', `shapley:${attribution.shapleyVersion ?? 'none'}`));
  changes.analytics.push({
    key: event.user_id,
    value: JSON.stringify({
      conversion_event_id: event.event_id,
      user_id: event.user_id,
      ts: event.ts,
      window_start: outcome.windowStart,
      value: attribution.value,
      path_length: attribution.pathLength,
      shapley_version: attribution.shapleyVersion,
      shapley_fallback: attribution.shapleyFallback,
      credits: attribution.credits,
    }),
  });
}

/** Records a non-duplicate event's outcome: its signal, causes, counters and listings. */
function noteOutcome(changes: BatchChanges, runtime: PartitionRuntime, cached: CachedUser, outcome: EventOutcome, event: ReceivedEvent): void {
  const hour = hourStart(event.ts);
  let entry = changes.signals.get(event.user_id);
  if (!entry) changes.signals.set(event.user_id, (entry = { cached, entries: [] }));
  entry.entries.push(encodeSignal(outcome.signal as UserSignal));
  if (outcome.late) changes.bump(changes.quality, field(hour, campaignOf(event), `late_${event.type}`));
  else if (outcome.status === 'invalid' && outcome.windowMetric) {
    changes.bump(changes.quality, field(hour, outcome.windowMetric.campaign_id, `invalid:${outcome.reason}`));
  }
  if (outcome.reason) changes.bump(changes.counters, `invalid:${outcome.reason}`);
  noteListings(changes, runtime, event, outcome);
  noteAttribution(changes, outcome, event, hour);
}

/** One partition's part of a fetch round: its cache, its decoded messages, what they change. */
export interface PartitionWork {
  readonly runtime: PartitionRuntime;
  readonly messages: readonly PartitionMessage[];
  readonly changes: BatchChanges;
}

/** The IP's clicks in every other partition: owned ones from memory, the rest as committed. */
function clicksElsewhere(owned: readonly PartitionRuntime[], self: PartitionRuntime, ip: string, foreign: ForeignClicks): EventKey[][] {
  const lists: EventKey[][] = [];
  for (const runtime of owned) {
    if (runtime === self) continue;
    const state = runtime.ips.get(ip);
    if (state && state.recentClicks.length > 0) lists.push(state.recentClicks);
  }
  const committed = foreign.get(ip);
  if (committed) lists.push(...committed);
  return lists;
}

/** Runs one event through the rules with its partition's cache and records what it changed. */
function applyEvent(rules: RuleContext, work: PartitionWork, event: ReceivedEvent, ipElsewhere: EventKey[][] | undefined): void {
  const { runtime, changes } = work;
  const verdict = runtime.dedupe.remember(event.event_id, event.ts);
  if (verdict === 'unchecked') changes.bump(changes.counters, 'dedupe_unchecked');
  const cached = runtime.users.get(event.user_id);
  if (!cached) throw new Error(`state of user ${event.user_id} was not loaded`);
  const ipKey = event.type === 'click' ? floodIpOf(event) : undefined;
  const previousMaxTs = cached.user.maxTs;
  const outcome = processEvent(
    {
      user: cached.user,
      ip: ipKey === undefined ? undefined : runtime.ips.get(ipKey),
      ipElsewhere,
      partition: runtime.state,
      settings: rules.settings,
      shapley: rules.shapley,
      isDuplicate: verdict === 'duplicate',
    },
    event,
  );
  changes.outcomes.push(outcome);
  changes.receivedAt.push(event.received_at);
  if (outcome.status === 'duplicate') {
    changes.bump(changes.quality, field(hourStart(event.ts), campaignOf(event), 'duplicates'));
    return;
  }
  if (ipKey !== undefined) changes.ips.add(ipKey);
  noteOutcome(changes, runtime, cached, outcome, event);
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
export function collectRoundChanges(rules: RuleContext, works: readonly PartitionWork[], owned: readonly PartitionRuntime[], foreign: ForeignClicks): void {
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
    applyEvent(rules, work, event, ip === undefined ? undefined : clicksElsewhere(owned, work.runtime, ip, foreign));
  }
}

import {
  classifyCopy,
  currentWatermark,
  foldOutcomes,
  processEvent,
  type EventOutcome,
  type RuleSettings,
  type ShapleyTable,
} from '@sigflow/core';
import type { ReceivedEvent } from '@sigflow/events';
import type { SpeedConfig } from '@sigflow/config';
import { field, hourStart, windowViewCommands, type RedisCommand, type StoreKeys, type WindowViewKeyspace } from '@sigflow/store';
import { encodeCopy, type LoadedPartitionState } from './partition-state-loader.js';

/** One decoded message of a partition batch. */
export interface PartitionMessage {
  readonly offset: string;
  readonly event: ReceivedEvent;
}

export interface PartitionCommitContext {
  readonly keys: StoreKeys;
  readonly topic: string;
  readonly partition: number;
  readonly settings: RuleSettings;
  readonly speed: SpeedConfig;
  /** The latest published Shapley table; null: equal split over channels (stated in outcomes). */
  readonly shapley: ShapleyTable | null;
}

/** What one partition batch does: the Redis commands of its atomic commit and what to report. */
export interface PartitionCommit {
  readonly commands: RedisCommand[];
  readonly outcomes: EventOutcome[];
  /** `analytics.v1` messages (attributed conversions), committed to the outbox with the views. */
  readonly analytics: { key: string; value: string }[];
  /** Events whose effects this commit writes (for the event-to-view latency). */
  readonly applied: ReceivedEvent[];
}

/** The speed layer's keyspace for windowed views. */
export function speedKeyspace(keys: StoreKeys): WindowViewKeyspace {
  return {
    metrics: (campaign, hour) => keys.speedMetrics(campaign, hour),
    attribution: (model, hour) => keys.speedAttribution(model, hour),
    heatmap: (page, hour) => keys.speedHeatmap(page, hour),
  };
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Adds `words + values` as several commands of at most `chunk` values each: the commit runs
 * in a Lua script, whose `unpack` takes a few thousand arguments at most.
 */
function pushChunked(commands: RedisCommand[], words: [string, ...string[]], values: readonly (string | number)[], chunk = 1_000) {
  for (let i = 0; i < values.length; i += chunk) commands.push([...words, ...values.slice(i, i + chunk)]);
}

/** Campaign of an event for reconciliation causes; '*' for events that have none. */
function campaignOf(event: ReceivedEvent): string {
  return event.type === 'impression' || event.type === 'click' ? event.campaign_id : '*';
}

/**
 * Runs a partition batch through the shared rules ({@link processEvent}, in arrival order)
 * with the state loaded from Redis, and returns every write of its atomic commit: views,
 * keyed state, remembered event ids, counters, watermark and outbox. Mutates `loaded`.
 */
export function buildPartitionCommit(
  ctx: PartitionCommitContext,
  loaded: LoadedPartitionState,
  messages: readonly PartitionMessage[],
): PartitionCommit {
  const { keys, partition, settings, speed } = ctx;
  const outcomes: EventOutcome[] = [];
  const applied: ReceivedEvent[] = [];
  const signals = new Map<string, string[]>();
  const touchedUsers = new Set<string>();
  const touchedIps = new Set<string>();
  const seenWrites = new Map<number, (string | number)[]>();
  const quality = new Map<string, number>();
  const counters = new Map<string, number>();
  const campaigns = new Set<string>();
  const pages = new Set<string>();
  const analytics: { key: string; value: string }[] = [];
  const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);

  for (const { offset, event } of messages) {
    const copy = { received_at: event.received_at, offset };
    const verdict = classifyCopy(loaded.seen.get(event.event_id), copy);
    // The remembered copy itself: its effects are already in Redis.
    if (verdict === 'redelivery') continue;
    const isDuplicate = verdict !== 'first';
    if (!isDuplicate) {
      loaded.seen.set(event.event_id, copy);
      const h = hourStart(event.ts);
      const writes = seenWrites.get(h) ?? [];
      writes.push(event.event_id, encodeCopy(copy));
      seenWrites.set(h, writes);
    }
    const user = loaded.users.get(event.user_id);
    if (!user) throw new Error(`state of user ${event.user_id} was not loaded`);
    const ip = event.type === 'click' && event.ip !== undefined ? loaded.ips.get(event.ip) : undefined;
    const outcome = processEvent(
      { user, ip, partition: loaded.partition, settings, shapley: ctx.shapley, isDuplicate },
      event,
    );
    outcomes.push(outcome);
    applied.push(event);
    const hour = hourStart(event.ts);
    if (isDuplicate) {
      bump(quality, field(hour, campaignOf(event), 'duplicates'));
      continue;
    }
    touchedUsers.add(event.user_id);
    if (ip && event.ip !== undefined) touchedIps.add(event.ip);
    if (outcome.signal) {
      const list = signals.get(event.user_id) ?? [];
      list.push(JSON.stringify(outcome.signal));
      signals.set(event.user_id, list);
    }
    if (outcome.late) bump(quality, field(hour, campaignOf(event), `late_${event.type}`));
    else if (outcome.status === 'invalid' && outcome.windowMetric) {
      bump(quality, field(hour, outcome.windowMetric.campaign_id, `invalid:${outcome.reason}`));
    }
    if (outcome.reason) bump(counters, `invalid:${outcome.reason}`);
    if (event.type === 'impression' || event.type === 'click') campaigns.add(event.campaign_id);
    if (event.type === 'element_click') pages.add(event.page_id);
    if (outcome.attribution) {
      // Which Shapley table each conversion used, per hour: reconciliation names it as a cause.
      bump(quality, field(hour, '*', `shapley:${outcome.attribution.shapleyVersion ?? 'none'}`));
      analytics.push({
        key: event.user_id,
        value: JSON.stringify({
          conversion_event_id: event.event_id,
          user_id: event.user_id,
          ts: event.ts,
          window_start: outcome.windowStart,
          value: outcome.attribution.value,
          path_length: outcome.attribution.pathLength,
          shapley_version: outcome.attribution.shapleyVersion,
          shapley_fallback: outcome.attribution.shapleyFallback,
          credits: outcome.attribution.credits,
        }),
      });
    }
  }

  const deltas = foldOutcomes(outcomes);
  const commands: RedisCommand[] = windowViewCommands(speedKeyspace(keys), deltas, seconds(speed.viewTtlMs));
  const userTtl = String(speed.userTtlMs);
  for (const userId of touchedUsers) {
    commands.push(['SET', keys.userState(userId), JSON.stringify(loaded.users.get(userId)), 'PX', userTtl]);
  }
  for (const [userId, list] of signals) {
    const key = keys.signals(userId);
    // LPUSH in arrival order leaves the newest signal at the head.
    pushChunked(commands, ['LPUSH', key], list);
    commands.push(['LTRIM', key, 0, speed.signalsCap - 1], ['PEXPIRE', key, userTtl]);
  }
  // An IP's state only matters for the flood window (plus the out-of-order slack).
  const ipTtl = String(settings.floodWindowMs + settings.watermarkDelayMs + settings.allowedLatenessMs);
  for (const ip of touchedIps) commands.push(['SET', keys.ipState(partition, ip), JSON.stringify(loaded.ips.get(ip)), 'PX', ipTtl]);
  for (const [h, writes] of seenWrites) {
    const key = keys.seenEvents(partition, h);
    // Pairs (id, copy): an even chunk size keeps each pair in one command.
    pushChunked(commands, ['HSET', key], writes, 1_000);
    commands.push(['PEXPIRE', key, String(speed.dedupeTtlMs)]);
  }
  const byHour = new Map<number, (string | number)[]>();
  for (const [f, n] of quality) {
    const [h, campaign, cause] = f.split('\t') as [string, string, string];
    const list = byHour.get(Number(h)) ?? [];
    list.push(field(campaign, cause), n);
    byHour.set(Number(h), list);
  }
  for (const [h, list] of byHour) {
    for (let i = 0; i < list.length; i += 2) commands.push(['HINCRBY', keys.speedQuality(h), list[i] as string, list[i + 1] as number]);
    commands.push(['EXPIRE', keys.speedQuality(h), seconds(speed.viewTtlMs)]);
  }
  bump(counters, 'events', deltas.counts.events);
  bump(counters, 'duplicates', deltas.counts.duplicates);
  bump(counters, 'late', deltas.counts.late);
  for (const [name, n] of counters) if (n !== 0) commands.push(['HINCRBY', keys.speedCounters(), name, n]);
  commands.push(['SET', keys.speedPartition(ctx.topic, partition), JSON.stringify(loaded.partition)]);
  const watermark = currentWatermark(loaded.partition, settings);
  if (watermark !== null) commands.push(['HSET', keys.speedWatermarks(), field(ctx.topic, partition), watermark]);
  pushChunked(commands, ['SADD', keys.campaigns()], [...campaigns]);
  pushChunked(commands, ['SADD', keys.pages()], [...pages]);
  pushChunked(commands, ['RPUSH', keys.speedOutbox(ctx.topic, partition)], analytics.map((m) => JSON.stringify(m)));
  return { commands, outcomes, analytics, applied };
}

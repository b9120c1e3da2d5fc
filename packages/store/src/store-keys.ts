/**
 * The Redis key layout of sigflow, in one place. Every key starts with the configured prefix
 * (tests use their own). Hash fields join their parts with a tab: the event contract forbids
 * control characters in ids, so a tab never occurs inside a part.
 *
 * Time buckets are hours (`hourStart`, ms since the epoch, aligned to the hour): a campaign's
 * views for a day are 24 hashes, so a range read is a handful of HGETALLs in one round trip.
 */
export class StoreKeys {
  constructor(readonly prefix: string) {}

  private k(...parts: (string | number)[]): string {
    return `${this.prefix}:${parts.join(':')}`;
  }

  // ---- speed layer operator state (written atomically with the views) ----

  /** Next Kafka offset to process for a partition (string). Fences zombie writers. */
  speedOffset(topic: string, partition: number): string {
    return this.k('speed', 'offset', topic, partition);
  }
  /** PartitionState JSON (the watermark). */
  speedPartition(topic: string, partition: number): string {
    return this.k('speed', 'partition', topic, partition);
  }
  /** Messages for `analytics.v1` committed with the views, produced after (transactional outbox). */
  speedOutbox(topic: string, partition: number): string {
    return this.k('speed', 'outbox', topic, partition);
  }
  /** UserState JSON of one user (keyed state of the rules). */
  userState(userId: string): string {
    return this.k('speed', 'user', userId);
  }
  /** IpState JSON of one IP within one partition (the IP flood rule is partition-local). */
  ipState(partition: number, ip: string): string {
    return this.k('speed', 'ip', partition, ip);
  }
  /** SET of event ids seen in a partition, bucketed by the event's hour (copies share ts). */
  seenEvents(partition: number, hourStart: number): string {
    return this.k('speed', 'seen', partition, hourStart);
  }

  // ---- speed views ----

  /** LIST of a user's signals (JSON), newest first, capped. */
  signals(userId: string): string {
    return this.k('signals', userId);
  }
  /** HASH `${windowStart}\t${adId}\t${metric}` -> count, one campaign-hour. */
  speedMetrics(campaignId: string, hourStart: number): string {
    return this.k('speed', 'metrics', campaignId, hourStart);
  }
  /** HASH `${windowStart}\t${campaignId}\t${channel}\t${c|r}` -> conversions | revenue, one model-hour. */
  speedAttribution(model: string, hourStart: number): string {
    return this.k('speed', 'attribution', model, hourStart);
  }
  /** HASH `${windowStart}\t${elementId}` -> valid clicks, one page-hour. */
  speedHeatmap(pageId: string, hourStart: number): string {
    return this.k('speed', 'heatmap', pageId, hourStart);
  }
  /** HASH `${campaignId}\t${cause}` -> count: what the speed layer left out, per hour (reconciliation). */
  speedQuality(hourStart: number): string {
    return this.k('speed', 'quality', hourStart);
  }
  /** HASH of running totals: events, duplicates, late, invalid:<reason>, dlq. */
  speedCounters(): string {
    return this.k('speed', 'counters');
  }
  /** HASH `${topic}\t${partition}` -> watermark (ms), for the API and dashboards. */
  speedWatermarks(): string {
    return this.k('speed', 'watermarks');
  }
  /** SET of campaign ids seen (dashboard listings). */
  campaigns(): string {
    return this.k('campaigns');
  }
  /** SET of page ids seen. */
  pages(): string {
    return this.k('pages');
  }

  // ---- archive and batch layer ----

  /** ZSET hourStart -> when it was marked: hours whose archive changed since last computed. */
  dirtyHours(): string {
    return this.k('batch', 'dirty');
  }
  /** HASH hourStart -> JSON {version, computedAt, rows}: the version each hour serves. */
  batchHours(): string {
    return this.k('batch', 'hours');
  }
  /** Event time (ms) up to which batch views are authoritative (string). */
  batchWatermark(): string {
    return this.k('batch', 'watermark');
  }
  /** HASH like {@link speedMetrics}, one campaign-hour of one batch version. */
  batchMetrics(campaignId: string, hourStart: number, version: string): string {
    return this.k('batch', 'metrics', campaignId, hourStart, version);
  }
  /** HASH like {@link speedAttribution} (models include `markov`), one version. */
  batchAttribution(model: string, hourStart: number, version: string): string {
    return this.k('batch', 'attribution', model, hourStart, version);
  }
  /** HASH like {@link speedHeatmap}, one version. */
  batchHeatmap(pageId: string, hourStart: number, version: string): string {
    return this.k('batch', 'heatmap', pageId, hourStart, version);
  }
  /** HASH `${campaignId}\t${cause}` -> count, one hour of one version: duplicates, invalid:<reason>. */
  batchQuality(hourStart: number, version: string): string {
    return this.k('batch', 'quality', hourStart, version);
  }
  /** HASH `${campaignId}` -> JSON of what changed against the speed view, one hour of one version. */
  batchChanges(hourStart: number, version: string): string {
    return this.k('batch', 'changes', hourStart, version);
  }

  // ---- attribution models ----

  /** The latest published Shapley table (JSON with its version). */
  shapleyTable(): string {
    return this.k('attribution', 'shapley', 'current');
  }
  /** Its version alone, so the speed layer can poll cheaply. */
  shapleyVersion(): string {
    return this.k('attribution', 'shapley', 'version');
  }
  /** The latest trained Markov chain (JSON), batch only. */
  markovModel(): string {
    return this.k('attribution', 'markov', 'current');
  }
}

/** The hour bucket of an event time. */
export function hourStart(ts: number): number {
  return ts - (((ts % 3_600_000) + 3_600_000) % 3_600_000);
}

/** Hash field separator (see {@link StoreKeys}). */
export const FIELD_SEPARATOR = '\t';

/** Joins hash field parts. */
export function field(...parts: (string | number)[]): string {
  return parts.join(FIELD_SEPARATOR);
}

/** Splits a hash field into its parts. */
export function fieldParts(f: string): string[] {
  return f.split(FIELD_SEPARATOR);
}

/** Metric names inside {@link StoreKeys.speedMetrics} / batchMetrics fields. */
export const windowMetricFields = {
  impressions: 'impressions',
  clicks: 'clicks',
  invalidImpressions: 'invalid_impressions',
  invalidClicks: 'invalid_clicks',
} as const;

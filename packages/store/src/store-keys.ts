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

  /**
   * The Redis Cluster hash tag of a Kafka partition: every key one partition's atomic commit
   * touches carries it, so the commit stays in one hash slot (the prefix must not contain '{').
   */
  partitionTag(partition: number): string {
    return `{p${partition}}`;
  }
  /** `${prefix}:speed:{p<partition>}:${kind}:${id}` (spelled out: these are built per event). */
  private speedKey(partition: number, kind: string, id?: string | number): string {
    return id === undefined ? `${this.prefix}:speed:{p${partition}}:${kind}` : `${this.prefix}:speed:{p${partition}}:${kind}:${id}`;
  }

  // ---- speed layer operator state (per Kafka partition, written atomically with the views) ----

  /** Next Kafka offset to process for a partition (string). Fences zombie writers. */
  speedOffset(partition: number): string {
    return this.speedKey(partition, 'offset');
  }
  /** Owner epoch of a partition (INCR on every assignment): fences a previous owner's writes and outbox drains. */
  speedEpoch(partition: number): string {
    return this.speedKey(partition, 'epoch');
  }
  /** PartitionState JSON (the watermark). */
  speedPartition(partition: number): string {
    return this.speedKey(partition, 'partition');
  }
  /** LIST of messages for `analytics.v1` committed with the views, produced after (transactional outbox). */
  speedOutbox(partition: number): string {
    return this.speedKey(partition, 'outbox');
  }
  /** A user's keyed state snapshot (core's `encodeUserSnapshot`); the signals after it complete it. */
  userSnapshot(partition: number, userId: string): string {
    return this.speedKey(partition, 'user', userId);
  }
  /** IpState of one IP's clicks within one partition; other partitions read it for the IP flood rule. */
  ipState(partition: number, ip: string): string {
    return this.speedKey(partition, 'ip', ip);
  }
  /** STRING of 8-byte event id hashes seen in a partition, for events of one hour (copies share ts). */
  seenEvents(partition: number, hourStart: number): string {
    return this.speedKey(partition, 'seen', hourStart);
  }

  // ---- speed views (per partition; readers sum the partitions) ----

  /** LIST of a user's signals (JSON), newest first, capped. `partition` = the user's Kafka partition. */
  signals(partition: number, userId: string): string {
    return this.speedKey(partition, 'signals', userId);
  }
  /** HASH `${windowStart}\t${adId}\t${metric}` -> count, one campaign-hour of one partition. */
  speedMetrics(partition: number, campaignId: string, hourStart: number): string {
    return this.speedKey(partition, 'metrics', `${campaignId}:${hourStart}`);
  }
  /** HASH `${windowStart}\t${campaignId}\t${channel}\t${c|r}` -> conversions | revenue, one model-hour of one partition. */
  speedAttribution(partition: number, model: string, hourStart: number): string {
    return this.speedKey(partition, 'attribution', `${model}:${hourStart}`);
  }
  /** HASH `${windowStart}\t${elementId}` -> valid clicks, one page-hour of one partition. */
  speedHeatmap(partition: number, pageId: string, hourStart: number): string {
    return this.speedKey(partition, 'heatmap', `${pageId}:${hourStart}`);
  }
  /** ZSET userId -> when the speed layer last committed a signal of theirs (ms), the newest `speed.recentUsers`. */
  recentUsers(partition: number): string {
    return this.speedKey(partition, 'recent-users');
  }
  /** HASH `${campaignId}\t${cause}` -> count: what the speed layer left out, per hour and partition (reconciliation). */
  speedQuality(partition: number, hourStart: number): string {
    return this.speedKey(partition, 'quality', hourStart);
  }
  /** HASH of running totals of a partition: events, duplicates, late, invalid:<reason>, dlq. */
  speedCounters(partition: number): string {
    return this.speedKey(partition, 'counters');
  }
  /** The partition's watermark (ms, string): max event time seen - the watermark delay. */
  speedWatermark(partition: number): string {
    return this.speedKey(partition, 'watermark');
  }
  /** SET of campaign ids a partition has seen (dashboard listings). */
  campaigns(partition: number): string {
    return this.speedKey(partition, 'campaigns');
  }
  /** SET of page ids a partition has seen. */
  pages(partition: number): string {
    return this.speedKey(partition, 'pages');
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
  /** SET of campaign ids the batch layer has views for (listings: with the speed partitions' sets). */
  batchCampaigns(): string {
    return this.k('batch', 'campaigns');
  }
  /** SET of page ids the batch layer has heatmaps for. */
  batchPages(): string {
    return this.k('batch', 'pages');
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

/**
 * The Redis key layout of sigflow, in one place. Every key starts with the configured prefix
 * (tests use their own). Hash fields join their parts with a tab: the event contract forbids
 * control characters in ids, so a tab never occurs inside a part.
 *
 * Time buckets are hours (`hourStart`, ms since the epoch, aligned to the hour): a campaign's
 * views for a day are 24 hashes, so a range read is a handful of HGETALLs in one round trip.
 *
 * Every key is written with a TTL or is bounded otherwise; `key-bounds.ts` names the bound of
 * each key kind below that has no TTL (a new kind without either fails the key scan of
 * `test/privacy/deletion.test.ts`).
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
  /**
   * STRING of the event ids (JSON strings, one a line) whose signals the speed layer appended
   * with a verdict the batch layer must review: invalid, late, or not checked for copies (older
   * than the dedupe horizon). Per partition and hour of event time; lives as long as signals do.
   */
  signalReviews(partition: number, hourStart: number): string {
    return this.speedKey(partition, 'signal-reviews', hourStart);
  }

  /**
   * STRING of 8-byte user id hashes: the users whose signals or snapshot TTL a commit of the
   * partition set during one wall-clock day (the speed layer's user directory).
   */
  knownUsers(partition: number, dayStart: number): string {
    return this.speedKey(partition, 'users', dayStart);
  }
  /**
   * HASH userId -> deletion request id: people whose speed state the partition's owner is asked
   * to erase inside its next fenced commit, which also removes the entry (privacy deletions).
   */
  speedErasures(partition: number): string {
    return this.speedKey(partition, 'erase');
  }
  /** Wall-clock ms from which the partition's user directory lists every user written ('0': from its first commit). */
  knownUsersSince(partition: number): string {
    return this.speedKey(partition, 'users', 'since');
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
  /** HASH `${windowStart}\t${metric}` -> count: {@link speedMetrics} summed over the campaign's ads (campaign reads). */
  speedCampaignMetrics(partition: number, campaignId: string, hourStart: number): string {
    return this.speedKey(partition, 'campaign-metrics', `${campaignId}:${hourStart}`);
  }
  /** HASH `${windowStart}\t${campaignId}\t${channel}\t${c|r}` -> conversions | revenue, one model-hour of one partition. */
  speedAttribution(partition: number, model: string, hourStart: number): string {
    return this.speedKey(partition, 'attribution', `${model}:${hourStart}`);
  }
  /**
   * HASH `${windowStart}\t${channel}\t${spend|invalid_spend|clicks}` -> micros | micros | valid
   * clicks, one campaign-hour of one partition (core's channel spend).
   */
  speedSpend(partition: number, campaignId: string, hourStart: number): string {
    return this.speedKey(partition, 'spend', `${campaignId}:${hourStart}`);
  }
  /** HASH `${windowStart}\t${elementId}` -> valid clicks, one page-hour of one partition. */
  speedHeatmap(partition: number, pageId: string, hourStart: number): string {
    return this.speedKey(partition, 'heatmap', `${pageId}:${hourStart}`);
  }
  /**
   * HASH of one page-hour of one partition's page activity: `${windowStart}\tview` -> page views,
   * `${windowStart}\tscroll\t${25|50|75|100}` -> page views reaching it,
   * `${windowStart}\tform\t${formId}\t${action}` -> form interactions,
   * `${windowStart}\tmouse\t${cellX}\t${cellY}` -> mouse moves (core's `PageActivityMetric`).
   */
  speedPageActivity(partition: number, pageId: string, hourStart: number): string {
    return this.speedKey(partition, 'activity', `${pageId}:${hourStart}`);
  }
  /**
   * HASH of one hour of one partition's custom events: `${windowStart}\t${name}\t${outcome}` ->
   * count, outcome `valid` or `invalid:<reason>` (core's `EventCount`).
   */
  speedEventCounts(partition: number, hourStart: number): string {
    return this.speedKey(partition, 'event-counts', hourStart);
  }
  /** HASH page id -> the URL its latest page view reported (`attrs.url`), one partition's: the heatmap shows that page. */
  pageUrls(partition: number): string {
    return this.speedKey(partition, 'page-urls');
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

  /**
   * ZSET hourStart -> when it was marked: hours whose archive changed since last computed. The
   * three keys of the batch switch share the hash tag `{batch}`: the switch is one script.
   */
  dirtyHours(): string {
    return this.k('{batch}', 'dirty');
  }
  /** HASH hourStart -> JSON {version, computedAt, rows}: the version each hour serves. */
  batchHours(): string {
    return this.k('{batch}', 'hours');
  }
  /** Event time (ms) up to which batch views are authoritative (string). */
  batchWatermark(): string {
    return this.k('{batch}', 'watermark');
  }
  /** HASH like {@link speedMetrics}, one campaign-hour of one batch version. */
  batchMetrics(campaignId: string, hourStart: number, version: string): string {
    return this.k('batch', 'metrics', campaignId, hourStart, version);
  }
  /** HASH like {@link speedCampaignMetrics}, one campaign-hour of one batch version. */
  batchCampaignMetrics(campaignId: string, hourStart: number, version: string): string {
    return this.k('batch', 'campaign-metrics', campaignId, hourStart, version);
  }
  /** HASH like {@link speedAttribution} (models include `markov`), one version. */
  batchAttribution(model: string, hourStart: number, version: string): string {
    return this.k('batch', 'attribution', model, hourStart, version);
  }
  /** HASH like {@link speedSpend}, one campaign-hour of one batch version. */
  batchSpend(campaignId: string, hourStart: number, version: string): string {
    return this.k('batch', 'spend', campaignId, hourStart, version);
  }
  /** HASH like {@link speedHeatmap}, one version. */
  batchHeatmap(pageId: string, hourStart: number, version: string): string {
    return this.k('batch', 'heatmap', pageId, hourStart, version);
  }
  /** HASH like {@link speedPageActivity}, one version. */
  batchPageActivity(pageId: string, hourStart: number, version: string): string {
    return this.k('batch', 'activity', pageId, hourStart, version);
  }
  /** HASH like {@link speedEventCounts}, one version. */
  batchEventCounts(hourStart: number, version: string): string {
    return this.k('batch', 'event-counts', hourStart, version);
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

  // ---- segments (definitions by ops; speed and batch memberships and sizes) ----

  /** HASH segment name -> JSON {rule, description, updatedAt} (at most SIGFLOW_SEGMENTS_MAX fields). */
  segmentDefinitions(): string {
    return this.k('{segments}', 'definitions');
  }
  /** HASH segment name -> `${id}\t${version}\t${createdAt}`: identity and version of each definition. */
  segmentMeta(): string {
    return this.k('{segments}', 'meta');
  }
  /** Counter moved by every change of the definitions (the speed layer polls it). */
  segmentsVersion(): string {
    return this.k('{segments}', 'version');
  }
  /** HASH `${windowStart}\t${in|out}` -> entries | exits, one segment-hour of one partition (exits include lapses ahead). */
  speedSegmentSizes(partition: number, segmentId: string, hourStart: number): string {
    return this.speedKey(partition, 'segment-sizes', `${segmentId}:${hourStart}`);
  }
  /** HASH `${dayStart}` -> entries - exits of that day, one segment of one partition: the base of sizes. */
  speedSegmentDays(partition: number, segmentId: string): string {
    return this.speedKey(partition, 'segment-days', segmentId);
  }
  /** ZSET (all scores 0, ordered by user id) of a segment's members in one partition. */
  speedSegmentMembers(partition: number, segmentId: string): string {
    return this.speedKey(partition, 'segment-members', segmentId);
  }
  /** HASH userId -> `${entered}\t${expiresAt}`: when each member entered and until when it lasts without an event. */
  speedSegmentMemberInfo(partition: number, segmentId: string): string {
    return this.speedKey(partition, 'segment-member-info', segmentId);
  }
  /** `${prefix}:batch:{segment:<id>}:${kind}`: a batch recompute writes a segment's keys in one transaction. */
  private batchSegmentKey(segmentId: string, kind: string, id?: number): string {
    return id === undefined ? this.k('batch', `{segment:${segmentId}}`, kind) : this.k('batch', `{segment:${segmentId}}`, kind, id);
  }
  /** HASH `${windowStart}\t${size|in|out}` -> count, one segment-hour recomputed by the batch layer. */
  batchSegmentSizes(segmentId: string, hourStart: number): string {
    return this.batchSegmentKey(segmentId, 'sizes', hourStart);
  }
  /** HASH hourStart -> JSON {computedAt, segmentVersion, definitionsVersion, computedBy}: the hours the batch layer recomputed. */
  batchSegmentHours(segmentId: string): string {
    return this.batchSegmentKey(segmentId, 'hours');
  }
  /** ZSET / HASH like the speed members, as of the end of the last recomputed range; `staging` while written. */
  batchSegmentMembers(segmentId: string, staging = false): string {
    return this.batchSegmentKey(segmentId, staging ? 'members-staging' : 'members');
  }
  batchSegmentMemberInfo(segmentId: string, staging = false): string {
    return this.batchSegmentKey(segmentId, staging ? 'member-info-staging' : 'member-info');
  }
  /** JSON {asOf, segmentVersion, definitionsVersion, computedAt, members}: what the batch members are as of. */
  batchSegmentMembersState(segmentId: string): string {
    return this.batchSegmentKey(segmentId, 'members-state');
  }

  // ---- alerts (rules by ops, evaluated by the alerts service) ----

  /** HASH rule name -> JSON rule with its webhook (at most SIGFLOW_ALERTS_MAX_RULES fields). */
  alertRules(): string {
    return this.k('{alerts}', 'rules');
  }
  /** HASH `${rule}\t${campaign}` -> JSON series state (streak, open episode). */
  alertSeries(): string {
    return this.k('{alerts}', 'series');
  }
  /** The start of the last window the alert rules were evaluated for (ms). */
  alertsEvaluated(): string {
    return this.k('{alerts}', 'evaluated');
  }
  /** HASH episode id -> JSON episode (rule, campaign, fired/resolved, deliveries). */
  alertEpisodes(): string {
    return this.k('{alerts}', 'episodes');
  }
  /** ZSET episode id -> when it fired (wall clock ms): the newest SIGFLOW_ALERTS_KEEP episodes. */
  alertEpisodesByTime(): string {
    return this.k('{alerts}', 'episodes-by-time');
  }
  /** HASH `${episodeId}-${fired|resolved}` -> JSON delivery state (attempts, last error, outcome). */
  alertDeliveries(): string {
    return this.k('{alerts}', 'deliveries');
  }
  /** SET of delivery ids committed with an evaluation and not yet queued (drained after each commit). */
  alertOutbox(): string {
    return this.k('{alerts}', 'outbox');
  }
  /** Which alerts service instance evaluates (a lease with a TTL). */
  alertsLease(): string {
    return this.k('{alerts}', 'lease');
  }

  // ---- privacy ----

  /**
   * ZSET sha256(salt TAB userId) -> when the person's deletion was requested (ms): the
   * tombstones. Collector, speed layer and archiver drop the events of these people; entries
   * older than the retention are removed (no event that old is accepted any more).
   */
  tombstones(): string {
    return this.k('privacy', 'tombstones');
  }

  /**
   * HASH `id` (random, written once per store), `layout` (the key layout's version), `at`: what
   * says this Redis still holds what the platform wrote. Gone (a Redis restarted empty, a failover
   * that lost it), the services restore what the ops topic keeps (`@sigflow/ops-log`).
   */
  storeMarker(): string {
    return this.k('meta', 'store');
  }
  /**
   * STRING: the marker's id again, in each hash slot that holds ops decisions, the tombstones,
   * the batch switch or the batch queue. A Redis Cluster that loses a master and its replica
   * loses their slots, not the store: a copy gone from its slot says which part went.
   */
  storeSlotMarkers(): string[] {
    return [this.budgets(), this.segmentDefinitions(), this.alertRules(), this.shapleyTable(), this.batchHours(), this.tombstones(), `${this.prefix}:{bull}:queue`].map((k) => this.markerBeside(k));
  }
  /** A marker key in the hash slot of `key`: its hash tag, or the whole key as the tag. */
  private markerBeside(key: string): string {
    const tag = /\{[^}]+\}/.exec(key)?.[0];
    return tag ? this.k(tag, 'meta', 'store') : this.k('meta', 'store', `{${key}}`);
  }
  /**
   * STRING: the events topic's partition count as Kafka last told a service: the API reads users'
   * keys by it when it starts while Kafka does not answer (`@sigflow/store/ops` eventPartitions).
   */
  eventPartitions(): string {
    return this.k('meta', 'event-partitions');
  }
  /** STRING: held (with a TTL) by the process restoring a lost store, so one restores at a time. */
  storeRestoring(): string {
    return this.k('meta', 'restoring');
  }

  // ---- budgets and bidding ----

  /**
   * HASH campaignId -> the campaign's budget as ops set it (JSON, see `StoredBudget`). The budget
   * keys share the hash tag `{budget}`: a change and its log entry are one script.
   */
  budgets(): string {
    return this.k('{budget}', 'all');
  }
  /** LIST of a campaign's budget changes (JSON: before, after, when, which key), newest first, capped. */
  budgetChanges(campaignId: string): string {
    return this.k('{budget}', 'changes', campaignId);
  }
  /** STRING: a campaign's bidding answer as the bidding service serialized it (served as is). */
  biddingState(campaignId: string): string {
    return this.k('bidding', 'state', campaignId);
  }
  /** HASH campaignId -> JSON {signature, at} of the last `bidding.v1` message published. */
  biddingPublished(): string {
    return this.k('bidding', 'published');
  }
  /** STRING: the bidding service instance that holds the lease to compute and publish. */
  biddingLeader(): string {
    return this.k('bidding', 'leader');
  }

  // ---- attribution models ----

  /**
   * The latest published Shapley table (JSON with its version). The trained models share the
   * hash tag `{attribution}`: a training publishes them in one transaction.
   */
  shapleyTable(): string {
    return this.k('{attribution}', 'shapley', 'current');
  }
  /** Its version alone, so the speed layer can poll cheaply. */
  shapleyVersion(): string {
    return this.k('{attribution}', 'shapley', 'version');
  }
  /** The latest trained Markov chain (JSON), batch only. */
  markovModel(): string {
    return this.k('{attribution}', 'markov', 'current');
  }
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

/** Names of the last part of {@link StoreKeys.speedSpend} / batchSpend fields. */
export const spendFields = {
  spend: 'spend',
  invalidSpend: 'invalid_spend',
  clicks: 'clicks',
} as const;

/** Metric names inside {@link StoreKeys.speedMetrics} / batchMetrics fields. */
export const windowMetricFields = {
  impressions: 'impressions',
  clicks: 'clicks',
  invalidImpressions: 'invalid_impressions',
  invalidClicks: 'invalid_clicks',
} as const;

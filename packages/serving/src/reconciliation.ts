import { parseCause, HOUR_MS } from '@sigflow/core';
import { forEachField, isEmptyHash, type LayerHashes, type ReconciliationData } from '@sigflow/store/views';
import { causesByCampaign, sumAttributionByCampaign, sumMetricsHash, type AttributedTotals } from './hash-sums.js';

/**
 * Reconciliation: per hour and campaign, the speed and batch values and why they differ.
 * One implementation (the API's report and the note the batch layer records when it computes a
 * version both call {@link compareCampaigns}) and ONE sign:
 *
 *   diff = speed - batch,   relDiff = diff / batch
 *
 * "how far real time is from the batch truth": negative when the speed layer counted less (late
 * events it kept out of its windows), positive when it counted more (duplicates beyond its
 * dedupe horizon, traffic the batch layer judged invalid).
 */

/** A value in both layers and how far real time is from the batch truth. */
export interface Comparison {
  readonly speed: number;
  /** null when the hour has no batch version yet. */
  readonly batch: number | null;
  /** speed - batch (null without batch). */
  readonly diff: number | null;
  /** (speed - batch) / batch; null without batch or when batch is 0. */
  readonly relDiff: number | null;
}

/** Rounds float sums (credits, revenue) so that equal totals summed in another order compare equal. */
const round = (x: number) => Math.round(x * 1e9) / 1e9;

/** Compares one value: diff = speed - batch, relDiff = diff / batch. */
export function compareValues(speed: number, batch: number | null): Comparison {
  if (batch === null) return { speed, batch, diff: null, relDiff: null };
  const diff = round(speed - batch);
  return { speed, batch, diff, relDiff: batch === 0 ? null : diff / batch };
}

/** Why the layers differ, from the cause counts both layers record. */
export interface ReconciliationCauses {
  /** Speed layer only: events kept out of the windowed views because their window had closed, by type. */
  readonly late: Record<string, number>;
  readonly duplicates: { readonly speed: number; readonly batch: number | null };
  /** Invalid touchpoints by reason, as each layer classified them. */
  readonly invalid: { readonly speed: Record<string, number>; readonly batch: Record<string, number> | null };
  /**
   * User signals of the hour the batch layer rewrote when it computed it, by what changed:
   * `verdict` (validity or reason), `late` (the speed layer had kept the event out as late),
   * `duplicate` (a copy beyond the dedupe horizon, dropped). Null without batch.
   */
  readonly signalsCorrected: Record<string, number> | null;
  /** Any other cause a layer recorded, as `layer:cause`. */
  readonly other: Record<string, number>;
  /** The named causes that explain a difference, one entry per cause whose counts differ (empty without batch). */
  readonly named: NamedCause[];
}

/**
 * Why real time differs from the batch truth, by name:
 * - `late_events`: the speed layer kept events out of closed windows (batch counts them);
 * - `duplicates_beyond_dedupe_horizon`: copies the speed layer no longer recognised;
 * - `ip_flood_arrival_order`: the per-IP flood rule spans partitions; the speed layer judges it
 *   in the order partitions reach it (exact when one instance owns every partition of the IP's
 *   clicks), batch by event time over all partitions;
 * - `invalid_reclassified`: other invalid reasons (an orphan whose impression came late, a newer
 *   isbot list in the batch version);
 * - `signals_corrected`: user signals the batch layer rewrote with its verdict (`reason`: what
 *   changed, as in {@link ReconciliationCauses.signalsCorrected}); `speed` counts the signals
 *   that carried the speed layer's verdict, `batch` is 0 (none carries it any more).
 */
export type NamedCauseName = 'late_events' | 'duplicates_beyond_dedupe_horizon' | 'ip_flood_arrival_order' | 'invalid_reclassified' | 'signals_corrected';

export interface NamedCause {
  readonly cause: NamedCauseName;
  /** The invalid reason, for `invalid_reclassified`; what changed, for `signals_corrected`. */
  readonly reason?: string;
  readonly speed: number;
  readonly batch: number;
}

const add = (into: Record<string, number>, key: string, n: number) => {
  into[key] = (into[key] ?? 0) + n;
};

export function reconciliationCauses(speed: Map<string, number> | undefined, batch: Map<string, number> | undefined, batchComputed: boolean): ReconciliationCauses {
  const late: Record<string, number> = {};
  const invalidSpeed: Record<string, number> = {};
  const invalidBatch: Record<string, number> = {};
  const other: Record<string, number> = {};
  const signalsCorrected: Record<string, number> = {};
  let dupSpeed = 0;
  let dupBatch = 0;
  for (const [name, n] of speed ?? []) {
    const cause = parseCause(name);
    if (cause.kind === 'late') add(late, cause.eventType, n);
    else if (cause.kind === 'duplicates') dupSpeed += n;
    else if (cause.kind === 'invalid') add(invalidSpeed, cause.reason, n);
    else other[`speed:${name}`] = n;
  }
  for (const [name, n] of batch ?? []) {
    const cause = parseCause(name);
    if (cause.kind === 'duplicates') dupBatch += n;
    else if (cause.kind === 'invalid') add(invalidBatch, cause.reason, n);
    else if (cause.kind === 'signals_corrected') add(signalsCorrected, cause.what, n);
    else other[`batch:${name}`] = n;
  }
  const named = batchComputed ? namedCauses(late, { speed: dupSpeed, batch: dupBatch }, invalidSpeed, invalidBatch) : [];
  if (batchComputed) for (const [what, n] of Object.entries(signalsCorrected).sort()) named.push({ cause: 'signals_corrected', reason: what, speed: n, batch: 0 });
  return {
    late,
    duplicates: { speed: dupSpeed, batch: batchComputed ? dupBatch : null },
    invalid: { speed: invalidSpeed, batch: batchComputed ? invalidBatch : null },
    signalsCorrected: batchComputed ? signalsCorrected : null,
    other,
    named,
  };
}

function namedCauses(
  late: Record<string, number>,
  duplicates: { speed: number; batch: number },
  invalidSpeed: Record<string, number>,
  invalidBatch: Record<string, number>,
): NamedCause[] {
  const named: NamedCause[] = [];
  const lateEvents = Object.values(late).reduce((a, b) => a + b, 0);
  if (lateEvents > 0) named.push({ cause: 'late_events', speed: lateEvents, batch: 0 });
  if (duplicates.speed !== duplicates.batch) named.push({ cause: 'duplicates_beyond_dedupe_horizon', ...duplicates });
  for (const reason of [...new Set([...Object.keys(invalidSpeed), ...Object.keys(invalidBatch)])].sort()) {
    const speed = invalidSpeed[reason] ?? 0;
    const batch = invalidBatch[reason] ?? 0;
    if (speed === batch) continue;
    named.push(reason === 'flood' ? { cause: 'ip_flood_arrival_order', speed, batch } : { cause: 'invalid_reclassified', reason, speed, batch });
  }
  return named;
}

/** Speed vs batch of one campaign in one hour. */
export interface CampaignComparison {
  readonly impressions: Comparison;
  readonly clicks: Comparison;
  readonly invalidImpressions: Comparison;
  readonly invalidClicks: Comparison;
  /** Attributed conversions and revenue credited to the campaign, for the compared model. */
  readonly conversions: Comparison;
  readonly revenue: Comparison;
  readonly causes: ReconciliationCauses;
}

/**
 * Compares one hour's hashes of both layers per campaign: every campaign with data in either
 * layer (metrics, causes or attribution: including the pseudo campaigns `none`, direct
 * conversions, and `*`, causes of events without a campaign), plus `alsoCampaigns`; by campaign.
 * Without a batch version (`batchComputed` false) the batch values are null.
 */
export function compareCampaigns(hour: LayerHashes, batchComputed: boolean, alsoCampaigns: Iterable<string> = []): Map<string, CampaignComparison> {
  const speedCauses = causesByCampaign(hour.speedQuality);
  const batchCauses = causesByCampaign(hour.batchQuality);
  const speedAttr = sumAttributionByCampaign(hour.speedAttribution);
  const batchAttr = sumAttributionByCampaign(hour.batchAttribution);
  const campaigns = new Set<string>(alsoCampaigns);
  for (const [c, hash] of [...hour.speedMetrics, ...hour.batchMetrics]) if (!isEmptyHash(hash)) campaigns.add(c);
  for (const c of [...speedCauses.keys(), ...batchCauses.keys(), ...speedAttr.keys(), ...batchAttr.keys()]) campaigns.add(c);
  const none: AttributedTotals = { conversions: 0, revenue: 0 };
  const out = new Map<string, CampaignComparison>();
  for (const c of [...campaigns].sort()) {
    const s = sumMetricsHash(hour.speedMetrics.get(c) ?? null);
    const b = batchComputed ? sumMetricsHash(hour.batchMetrics.get(c) ?? null) : null;
    const sa = speedAttr.get(c) ?? none;
    const ba = batchComputed ? (batchAttr.get(c) ?? none) : null;
    out.set(c, {
      impressions: compareValues(s.impressions, b?.impressions ?? null),
      clicks: compareValues(s.clicks, b?.clicks ?? null),
      invalidImpressions: compareValues(s.invalidImpressions, b?.invalidImpressions ?? null),
      invalidClicks: compareValues(s.invalidClicks, b?.invalidClicks ?? null),
      conversions: compareValues(round(sa.conversions), ba ? round(ba.conversions) : null),
      revenue: compareValues(round(sa.revenue), ba ? round(ba.revenue) : null),
      causes: reconciliationCauses(speedCauses.get(c), batchCauses.get(c), batchComputed),
    });
  }
  return out;
}

const compared = ['impressions', 'clicks', 'invalidImpressions', 'invalidClicks', 'conversions', 'revenue'] as const;

/** Whether the layers differ in any compared value (a value without batch counts as differing). */
export function layersDiffer(c: CampaignComparison): boolean {
  return compared.some((k) => c[k].diff !== 0);
}

/** The model whose attributed conversions the batch layer's recorded comparison uses. */
export const reconciledModel = 'last_touch';

/**
 * What the batch layer records per campaign when it computes (or reconciles) a version, in
 * `StoreKeys.batchChanges(hour, version)`: the comparison as it stood then, same sign.
 */
export interface RecordedComparison extends CampaignComparison {
  readonly campaignId: string;
  readonly hourStart: number;
  readonly version: string;
  /** The Shapley table version the batch version used (null: none). */
  readonly shapleyVersion: string | null;
  /** The model of `conversions` and `revenue` ({@link reconciledModel}). */
  readonly model: string;
}

/** One hour and campaign of the reconciliation report. */
export interface ReconciliationRow extends CampaignComparison {
  readonly hourStart: number;
  readonly campaignId: string;
  readonly batchVersion: string | null;
  readonly batchComputedAt: number | null;
  /** The Shapley table version the batch hour's attribution used (null: none, or no batch). */
  readonly batchShapleyVersion: string | null;
  /** The `isbot` version whose list the batch hour's bot rule used (null: none recorded, or no batch). */
  readonly batchIsbotVersion: string | null;
  /** Whether the whole hour is below the batch watermark (the API serves batch numbers for it). */
  readonly authoritative: boolean;
  /** The {@link RecordedComparison} of the served version (parsed JSON), null when none. */
  readonly changes: unknown;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The reconciliation report: per hour and campaign ({@link compareCampaigns}), with the served
 * version and what the batch layer recorded. `campaignId` (when given) keeps only that
 * campaign. Sorted by hour, then campaign.
 */
export function reconciliationRows(data: ReconciliationData, campaignId: string | null): ReconciliationRow[] {
  const rows: ReconciliationRow[] = [];
  for (const hour of data.hours) {
    const recorded = new Map<string, string>();
    if (hour.batchChanges) forEachField(hour.batchChanges, (c, json) => recorded.set(c, json));
    for (const [c, comparison] of compareCampaigns(hour, hour.batch !== null, recorded.keys())) {
      if (campaignId !== null && c !== campaignId) continue;
      rows.push({
        hourStart: hour.hourStart,
        campaignId: c,
        batchVersion: hour.batch?.version ?? null,
        batchComputedAt: hour.batch?.computedAt ?? null,
        batchShapleyVersion: hour.batch?.shapleyVersion ?? null,
        batchIsbotVersion: hour.batch?.isbotVersion ?? null,
        authoritative: data.watermark !== null && hour.hourStart + HOUR_MS <= data.watermark,
        ...comparison,
        changes: parseJson(recorded.get(c)),
      });
    }
  }
  return rows;
}

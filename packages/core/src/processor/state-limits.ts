import type { RuleSettings } from '../rule-settings.js';

/**
 * Bounds of the keyed state, so a user or IP costs O(1) memory in Redis whatever its traffic.
 * Both layers run the same bounded state machine, so the bounds never make them disagree; they
 * only matter where a user exceeds them (then the oldest entries are forgotten first).
 */
export const stateLimits = Object.freeze({
  /** Attribution path: the most recent valid touchpoints kept per user. */
  pathTouchpoints: 256,
  /** Sessions kept per user (most recent by start). */
  sessions: 16,
  /** Valid impressions kept for the join, per user ... */
  joinImpressions: 256,
  /** ... and per ad (the join only needs the latest one for in-order input). */
  joinImpressionsPerAd: 4,
  /** Clicks kept for the flood rule per user (never fewer than floodThreshold). */
  floodClicks: 64,
  /** Clicks kept per IP and partition: a botnet clicks through many users at once. */
  ipFloodClicks: 256,
  /**
   * How far in event time the partitions of one IP may be apart and still count each other's
   * clicks: a restart or a backlog leaves some partitions ahead of others for a while.
   */
  ipPartitionSkewMs: 10 * 60_000,
});

/**
 * How far behind a key's newest event an out-of-order event may still find its context in
 * the state: watermarkDelay + allowedLateness (anything older is late for the speed layer
 * anyway, and the batch layer corrects it). State is pruned to rule window + this slack.
 */
export function outOfOrderSlackMs(settings: RuleSettings): number {
  return settings.watermarkDelayMs + settings.allowedLatenessMs;
}

/** The flood list cap for these settings: enough to decide exactly for in-order input. */
export function floodClickCap(settings: RuleSettings): number {
  return Math.max(stateLimits.floodClicks, settings.floodThreshold);
}

/** How long an IP's clicks are kept behind its newest one (the flood window plus the partitions' skew). */
export function ipClickRetentionMs(settings: RuleSettings): number {
  return settings.floodWindowMs + Math.max(outOfOrderSlackMs(settings), stateLimits.ipPartitionSkewMs);
}

/**
 * The parameters of every shared business rule (DESIGN.md, "Shared definitions").
 * They are configuration, not constants: `@sigflow/config` reads overrides from the
 * environment and both layers pass the same object to the rules.
 */
export interface RuleSettings {
  /** Tumbling window length for windowed metrics and heatmaps. */
  readonly windowMs: number;
  /** Watermark = max event time seen in a partition minus this delay. */
  readonly watermarkDelayMs: number;
  /** A window stays open this long after its end, measured against the watermark. */
  readonly allowedLatenessMs: number;
  /** A gap this long without events closes a user's session. */
  readonly sessionGapMs: number;
  /** The N-th click (N = threshold + 1) of a user or an IP within the flood window is a flood. */
  readonly floodThreshold: number;
  readonly floodWindowMs: number;
  /** A click needs a valid impression of the same user and ad at most this long before it. */
  readonly joinWindowMs: number;
  /** A click less than this long after its impression is too fast to be human. */
  readonly tooFastMs: number;
  /** Attribution path: valid touchpoints in [t - lookback, t]. */
  readonly attributionLookbackMs: number;
  /** time_decay weight 2^(-(t - ts) / halfLife). */
  readonly timeDecayHalfLifeMs: number;
  /** Shapley coalition values are trained over this trailing period. */
  readonly shapleyTrainingMs: number;
  /** Engagement score decay 2^(-(now - ts) / halfLife). */
  readonly engagementHalfLifeMs: number;
  /**
   * The speed layer remembers the ids of events within this much event time of its partition's
   * newest event (8 bytes an id in Redis); copies of older events are corrected by the batch
   * layer, which deduplicates the whole archive.
   */
  readonly dedupeHorizonMs: number;
  /**
   * Mouse-move grid: a valid `mouse_move` at document coordinates (x, y) counts in the cell
   * (floor(x / mouseGridPx), floor(y / mouseGridPx)) of its page and window.
   */
  readonly mouseGridPx: number;
  /**
   * A user's segment membership lapses this long (event time) after the user's last event, when
   * no event has confirmed or ended it (DESIGN.md "Segments": memberships change at events).
   */
  readonly segmentMembershipTtlMs: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** DESIGN.md defaults. */
export const defaultRuleSettings: RuleSettings = Object.freeze({
  windowMs: MINUTE,
  watermarkDelayMs: 5_000,
  allowedLatenessMs: MINUTE,
  sessionGapMs: 30 * MINUTE,
  floodThreshold: 10,
  floodWindowMs: MINUTE,
  joinWindowMs: 30 * MINUTE,
  tooFastMs: 1_000,
  attributionLookbackMs: 7 * DAY,
  timeDecayHalfLifeMs: 7 * DAY,
  shapleyTrainingMs: 28 * DAY,
  engagementHalfLifeMs: 3 * DAY,
  dedupeHorizonMs: HOUR,
  mouseGridPx: 32,
  segmentMembershipTtlMs: 7 * DAY,
});

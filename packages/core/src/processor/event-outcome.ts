import type { EventType } from '@sigflow/events';
import type { InvalidReason } from '../validity/invalid-reason.js';
import type { ClickJoin } from '../join/impression-click-join.js';
import type { ConversionAttribution } from '../attribution/attribute-conversion.js';
import type { SessionChange } from '../sessions/session-windows.js';
import type { PageActivityIncrement } from '../heatmap/page-activity.js';
import type { ChannelSpend } from '../views/channel-spend.js';

/** An entry of a user's append-only signal log: every non-duplicate event, late and invalid ones too. */
export interface UserSignal {
  /** First in the stored JSON (see `encodeSignal`). */
  readonly invalid: boolean;
  /**
   * Present (true) when the speed layer appended it without checking for copies (the event was
   * older than its dedupe horizon): the log may hold the event twice, and a reader serving
   * this entry serves each event once. Second in the stored JSON, so a reader tells from one
   * byte (core's `uncheckedSignal`).
   */
  readonly unchecked?: true;
  readonly event_id: string;
  readonly type: EventType;
  readonly ts: number;
  /** Touchpoints. */
  readonly campaign_id?: string;
  readonly ad_id?: string;
  readonly channel?: string;
  /** Any event that names its page; element_click names the element. */
  readonly page_id?: string;
  readonly element_id?: string;
  /** Conversions with a value. */
  readonly value?: number;
  /** Custom events: the name and the properties. */
  readonly name?: string;
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
  readonly reason: InvalidReason | null;
  readonly late: boolean;
  /**
   * Whose verdict (`invalid`, `reason`, `late`) the signal carries: `speed` as the speed layer
   * appended it, `batch` once the batch layer's recompute of its hour corrected it (see
   * `@sigflow/store`'s signal corrections). Signals stored before this field have none.
   */
  readonly source: SignalSource;
}

/** The layer whose verdict a stored signal carries. */
export type SignalSource = 'speed' | 'batch';

/**
 * Custom events of one name in one window, by outcome: `valid`, or `invalid:<reason>`. As an
 * increment `count` is 1; folded, a sum.
 */
export interface EventCount {
  readonly windowStart: number;
  readonly name: string;
  readonly outcome: string;
  readonly count: number;
}

/**
 * Windowed touchpoint counts of one (window, campaign, ad). As an increment exactly one count
 * is 1; folded, they are sums. `impressions` and `clicks` count valid events only (CTR);
 * invalid ones are counted apart.
 */
export interface WindowMetrics {
  readonly windowStart: number;
  readonly campaign_id: string;
  readonly ad_id: string;
  readonly impressions: number;
  readonly clicks: number;
  readonly invalidImpressions: number;
  readonly invalidClicks: number;
}

/** Valid element_clicks of one element of a page in one window. */
export interface HeatmapIncrement {
  readonly page_id: string;
  readonly windowStart: number;
  readonly element_id: string;
  readonly clicks: number;
}

/** What one event did: the single value both layers aggregate into views. */
export interface EventOutcome {
  readonly event_id: string;
  readonly user_id: string;
  readonly type: EventType;
  readonly ts: number;
  /** Tumbling window of `ts`. */
  readonly windowStart: number;
  /** `duplicate`: a later copy; nothing else in the outcome is set and no state changed. */
  readonly status: 'valid' | 'invalid' | 'duplicate';
  /** Set when status is `invalid`. */
  readonly reason: InvalidReason | null;
  /** Speed layer only: the event's window closed before it arrived (the batch layer passes no watermark). */
  readonly late: boolean;
  /** Every non-duplicate event but identity records, late ones too (none with `ProcessContext.viewsOnly`). */
  readonly signal: UserSignal | null;
  /** Impressions and clicks (valid or invalid) that are not late. */
  readonly windowMetric: WindowMetrics | null;
  /** Impressions and clicks that are not late and either carry a cost or are valid clicks. */
  readonly spend: ChannelSpend | null;
  /** Clicks: the impression the join found (also for invalid clicks), null when none. */
  readonly join: ClickJoin | null;
  /** Valid conversions that are not late. */
  readonly attribution: ConversionAttribution | null;
  /** Valid element_clicks that are not late. */
  readonly heatmap: HeatmapIncrement | null;
  /** Valid page views, scrolls (at a milestone), form interactions and mouse moves with a page, not late. */
  readonly pageActivity: PageActivityIncrement | null;
  /** Custom events (valid or invalid) that are not late: the counts per name. */
  readonly eventCount: EventCount | null;
  /** Valid events: how the user's sessions changed (none with `ProcessContext.viewsOnly`). */
  readonly session: SessionChange | null;
}

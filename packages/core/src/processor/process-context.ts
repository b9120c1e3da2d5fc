import type { RuleSettings } from '../rule-settings.js';
import type { EventKey } from '../ordering/event-order.js';
import type { PartitionState } from '../windows/watermark.js';
import type { ShapleyTable } from '../attribution/shapley-table.js';
import type { MarkovModel } from '../attribution/markov.js';
import type { UserState } from './user-state.js';
import type { IpState } from './ip-state.js';

/** Everything {@link processEvent} reads besides the event; the states it names are mutated. */
export interface ProcessContext {
  /** The state of the event's user. */
  readonly user: UserState;
  /**
   * Speed layer: the state of the event's IP in this Kafka partition; the click is counted
   * against it and recorded in it. Ignored for events without `ip`.
   */
  readonly ip?: IpState | undefined;
  /**
   * Speed layer: the IP's recent clicks in the OTHER partitions, one list per partition, each
   * sorted by (ts, event_id): those this instance owns as processed so far, the others as
   * committed when the batch started (the per-IP flood counts every partition; DESIGN.md "flood").
   */
  readonly ipElsewhere?: readonly (readonly EventKey[])[] | undefined;
  /**
   * Batch layer: the IP flood verdict of this click computed beforehand over every partition
   * by `floodedIpClicks` (the batch scan is sorted by user, not by IP; a click without an IP is
   * never flooded). Given, it decides alone: neither `ip` nor the event's IP is read.
   */
  readonly ipFlood?: boolean | undefined;
  /** Speed layer: the partition's watermark state. Absent (batch): no event is late. */
  readonly partition?: PartitionState | undefined;
  readonly settings: RuleSettings;
  /** The latest published Shapley table; absent: equal split over channels, version null. */
  readonly shapley?: ShapleyTable | null | undefined;
  /** Batch layer: a trained Markov chain adds the `markov` model. */
  readonly markov?: MarkovModel | null | undefined;
  /**
   * Batch layer's views: run the rules for the views alone. Validity, joins, floods, the path
   * and every view row are decided exactly as without it; what no view reads is skipped: the
   * user's sessions, engagement, conversions and segment features are left as they were, and
   * the outcome has no signal and no session change. Never for a state that lives on (the
   * speed layer's, or one whose segment features are read).
   */
  readonly viewsOnly?: boolean | undefined;
  /** The caller's dedupe decision: true = a copy already processed. */
  readonly isDuplicate: boolean;
  /**
   * The caller could not check the event for copies (the speed layer: older than its dedupe
   * horizon); its signal says so (`UserSignal.unchecked`), so that readers serve it once.
   */
  readonly unchecked?: boolean | undefined;
}

// The public surface of @sigflow/core: pure business rules shared by the speed and batch layers.

export { defaultRuleSettings, type RuleSettings } from './rule-settings.js';

export { InvalidRuleSettingsError } from './errors/invalid-rule-settings-error.js';

export { compareEventKeys, type EventKey } from './ordering/event-order.js';

// Validity
export { pickFirstCopies } from './validity/first-copy.js';
export type { InvalidReason } from './validity/invalid-reason.js';
export { isBotUserAgent } from './validity/bot-rule.js';
export { isbotVersion } from './validity/bot-list-version.js';
export { floodedIpClicks } from './validity/flood-rule.js';

// Windows, watermark, sessions
export { windowStart } from './windows/tumbling-window.js';
export { HOUR_MS, hourStart } from './windows/hours.js';
export {
  createPartitionState,
  parsePartitionState,
  currentWatermark,
  isLateEvent,
  type PartitionState,
} from './windows/watermark.js';
export type { Session } from './sessions/session-windows.js';

// Attribution
export type { Touchpoint, Credit } from './attribution/touchpoint.js';

export { trainShapleyTable, parseShapleyTable, type ShapleyTable } from './attribution/shapley-table.js';

export { trainMarkovChain, conversionProbability, type MarkovModel, type MarkovPath } from './attribution/markov.js';
export { markovDefinition, markovJourneys, type JourneyEvent } from './attribution/markov-journeys.js';
export { attributeConversion, realTimeModels, type AttributionModel, type RealTimeModel } from './attribution/attribute-conversion.js';

// Engagement and heatmaps
export { engagementAt } from './engagement/engagement-score.js';
export { pageHeatmap } from './heatmap/page-heatmap.js';
export { scrollMilestones, type ScrollMilestone, type PageActivityIncrement, type PageActivityMetric } from './heatmap/page-activity.js';
export { mouseGrid, type MouseGrid, type MouseCellCount } from './heatmap/mouse-grid.js';
export { scrollReach, type ScrollReachRow } from './heatmap/scroll-reach.js';
export { formFunnels, type FormFunnel, type FormActionCount } from './heatmap/form-funnel.js';

// The keyed stream processor
export { ipClickRetentionMs, outOfOrderSlackMs } from './processor/state-limits.js';
export { createUserState, type UserState } from './processor/user-state.js';
export { createIpState, parseIpState, type IpState } from './processor/ip-state.js';
export { processEvent, type ProcessContext } from './processor/process-event.js';
export { updateKeyedState } from './processor/update-keyed-state.js';
export {
  DROPPED_SIGNAL_PREFIX,
  encodeSignal,
  isDroppedSignal,
  signalEventIdSpan,
  storedSignalValidity,
  uncheckedSignal,
} from './processor/user-signal.js';
export { encodeUserSnapshot, restoreUserState, type RestoredUserState } from './processor/user-state-snapshot.js';
export { processBatch } from './processor/process-batch.js';
export type {
  EventCount,
  EventOutcome,
  UserSignal,
  WindowMetrics,
  HeatmapIncrement,
} from './processor/event-outcome.js';

// View folds: each view's sums (key and summed fields) once, folded by both layers
export type { ViewSums } from './views/sum-by-key.js';
export { eventCountSums, orderEventCounts } from './views/event-counts.js';
export {
  windowMetricSums,
  orderWindowMetrics,
  foldCampaignWindows,
  clickThroughRate,
  type CampaignWindowMetrics,
} from './views/window-metrics.js';
export { attributionSums, eachAttributionCredit, orderAttribution, type AttributionDelta } from './views/attribution-deltas.js';
export { heatmapSums, orderHeatmap } from './views/heatmap-deltas.js';
export { pageActivitySums, orderPageActivity } from './views/page-activity-deltas.js';
export {
  invalidTrafficSums,
  invalidTrafficOf,
  orderInvalidTraffic,
  type InvalidTrafficCount,
} from './views/invalid-traffic.js';
export { foldOutcomes, orderViewRows, OutcomeFold, ViewRowTotals, type ViewDeltas, type ViewRows } from './views/fold-outcomes.js';
export { channelSpendSums, orderChannelSpend, type ChannelSpend } from './views/channel-spend.js';
export { causeCampaign, causeName, parseCause, NO_CAMPAIGN } from './views/reconciliation-causes.js';

// Spend, pacing and bid multipliers
export { defaultBiddingSettings, checkBiddingSettings, type BiddingSettings } from './pacing/bidding-settings.js';
export { budgetLimits, budgetProblem, type Budget } from './pacing/budget.js';
export { isKnownTimeZone, budgetDay } from './pacing/budget-day.js';
export type { BudgetStatus } from './pacing/pace.js';

export {
  campaignBidding,
  biddingRanges,
  type SpendCell,
  type RevenueCell,
  type CampaignBidding,
} from './pacing/campaign-bidding.js';

// Segments
export { InvalidSegmentRuleError } from './errors/invalid-segment-rule-error.js';
export { segmentNamePattern, featureLookbackMs, type SegmentRule, type SegmentRuleLimits } from './segments/segment-rule.js';
export { parseSegmentRule } from './segments/parse-segment-rule.js';
export {
  compileSegmentSet,
  segmentIdOf,
  emptySegmentSet,
  type SegmentDefinition,
  type SegmentSet,
} from './segments/segment-definition.js';
export {
  evaluateSegments,
  forEachSizeDelta,
  membershipsExpireAt,
  type SegmentMembership,
  type SegmentTransition,
  type SegmentStep,
} from './segments/segment-memberships.js';

// Alerts
export { InvalidAlertRuleError } from './errors/invalid-alert-rule-error.js';
export {
  alertMetrics,
  alertOps,
  alertNamePattern,
  maxAlertFor,
  parseAlertRule,
  type AlertRule,
} from './alerts/alert-rule.js';
export {
  alertMetricValue,
  alertConditionHolds,
  addAlertCounts,
  noAlertCounts,
  type AlertCounts,
} from './alerts/alert-metric.js';
export { stepAlertSeries, quietSeries, type AlertSeriesState } from './alerts/alert-episodes.js';
export { spendPaceAt } from './alerts/alert-spend-pace.js';

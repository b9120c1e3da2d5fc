// The public surface of @sigflow/core: pure business rules shared by the speed and batch layers.

export { defaultRuleSettings, type RuleSettings } from './rule-settings.js';
export { checkRuleSettings } from './check-rule-settings.js';

export { InvalidShapleyTableError } from './errors/invalid-shapley-table-error.js';
export { InvalidStateError } from './errors/invalid-state-error.js';
export { InvalidRuleSettingsError } from './errors/invalid-rule-settings-error.js';

export { compareCodePoints, compareEventKeys, compareUserEventOrder, type EventKey } from './ordering/event-order.js';

// Validity
export {
  compareCopies,
  firstCopyWins,
  classifyCopy,
  isDuplicateVerdict,
  rememberCopyUntil,
  pickFirstCopies,
  type EventCopy,
  type CopyVerdict,
} from './validity/first-copy.js';
export { invalidReasons, type InvalidReason } from './validity/invalid-reason.js';
export { isBotUserAgent } from './validity/bot-rule.js';
export { isbotVersion } from './validity/bot-list-version.js';
export { isFloodClick, floodedIpClicks } from './validity/flood-rule.js';
export { isOrphanClick } from './validity/orphan-rule.js';
export { isTooFastClick } from './validity/too-fast-rule.js';
export { classifyEvent, type RuleFindings } from './validity/classify-event.js';

// Windows, watermark, sessions, join
export { windowStart, windowEnd } from './windows/tumbling-window.js';
export {
  createPartitionState,
  parsePartitionState,
  currentWatermark,
  advanceWatermark,
  isLateEvent,
  type PartitionState,
} from './windows/watermark.js';
export { addToSessions, sessionWindows, type Session, type SessionChange } from './sessions/session-windows.js';
export { findJoinImpression, joinOf, type JoinImpression, type ClickJoin } from './join/impression-click-join.js';

// Attribution
export { directCredit, type Touchpoint, type Credit } from './attribution/touchpoint.js';
export { channelSetKey, channelsOfKey } from './attribution/channel-set.js';
export {
  trainShapleyTable,
  parseShapleyTable,
  coalitionValue,
  type ShapleyTable,
  type ShapleyTrainingUser,
} from './attribution/shapley-table.js';
export { shapleyValues, shapleyChannelCredit, maxShapleyChannels, type ShapleyFallback } from './attribution/shapley.js';
export {
  trainMarkovChain,
  conversionProbability,
  markovFractions,
  markovStates,
  type MarkovModel,
  type MarkovPath,
  type MarkovTransition,
} from './attribution/markov.js';
export {
  attributeConversion,
  attributionPath,
  realTimeModels,
  type AttributionModel,
  type RealTimeModel,
  type ModelCredits,
  type ConversionAttribution,
  type AttributionOptions,
} from './attribution/attribute-conversion.js';

// Engagement and heatmaps
export {
  engagementWeights,
  createEngagement,
  absorbEngagement,
  engagementAt,
  type EngagementState,
} from './engagement/engagement-score.js';
export { pageHeatmap, type ElementClicks, type HeatmapCell } from './heatmap/page-heatmap.js';
export { scrollMilestones, type ScrollMilestone, type PageActivityIncrement, type PageActivityMetric } from './heatmap/page-activity.js';
export { mouseGrid, type MouseGrid, type MouseCellCount } from './heatmap/mouse-grid.js';
export { scrollReach, type ScrollReachRow } from './heatmap/scroll-reach.js';
export { formFunnels, type FormFunnel, type FormActionCount } from './heatmap/form-funnel.js';

// The keyed stream processor
export { stateLimits, ipClickRetentionMs, outOfOrderSlackMs } from './processor/state-limits.js';
export { createUserState, parseUserState, type UserState } from './processor/user-state.js';
export { createIpState, parseIpState, type IpState } from './processor/ip-state.js';
export { processEvent, type ProcessContext } from './processor/process-event.js';
export { updateKeyedState, type KeyedStateInput } from './processor/update-keyed-state.js';
export { encodeSignal } from './processor/user-signal.js';
export {
  encodeUserSnapshot,
  restoreUserState,
  type UserSnapshot,
  type RestoredUserState,
} from './processor/user-state-snapshot.js';
export { processBatch, type BatchRunOptions } from './processor/process-batch.js';
export type {
  EventOutcome,
  UserSignal,
  WindowMetrics,
  HeatmapIncrement,
} from './processor/event-outcome.js';

// View folds
export { foldWindowMetrics, orderWindowMetrics, foldCampaignWindows, clickThroughRate, type CampaignWindowMetrics } from './views/window-metrics.js';
export { attributionRows, eachAttributionCredit, foldAttribution, orderAttribution, type AttributionDelta } from './views/attribution-deltas.js';
export { foldHeatmap, orderHeatmap } from './views/heatmap-deltas.js';
export { foldPageActivity, orderPageActivity } from './views/page-activity-deltas.js';
export { foldInvalidTraffic, type InvalidTrafficCount } from './views/invalid-traffic.js';
export { foldOutcomes, type ViewDeltas } from './views/fold-outcomes.js';
export { foldChannelSpend, orderChannelSpend, type ChannelSpend } from './views/channel-spend.js';

// Spend, pacing and bid multipliers
export { defaultBiddingSettings, checkBiddingSettings, type BiddingSettings } from './pacing/bidding-settings.js';
export { budgetLimits, budgetProblem, type Budget } from './pacing/budget.js';
export { isKnownTimeZone, budgetDay } from './pacing/budget-day.js';
export type { BudgetStatus } from './pacing/pace.js';
export type { MultiplierReason, MultiplierInputs } from './pacing/bid-multiplier.js';
export {
  campaignBidding,
  biddingRanges,
  type SpendCell,
  type RevenueCell,
  type BiddingRanges,
  type CampaignBidding,
  type ChannelBidding,
} from './pacing/campaign-bidding.js';

// Segments
export { InvalidSegmentRuleError } from './errors/invalid-segment-rule-error.js';
export { segmentNamePattern, featureLookbackMs, type SegmentRule, type SegmentRuleLimits } from './segments/segment-rule.js';
export { parseSegmentRule } from './segments/parse-segment-rule.js';
export { compileSegmentSet, segmentIdOf, emptySegmentSet, type SegmentDefinition, type SegmentSet } from './segments/segment-definition.js';
export {
  evaluateSegments,
  forEachSizeDelta,
  type SegmentMembership,
  type SegmentTransition,
  type SegmentStep,
} from './segments/segment-memberships.js';

// Alerts
export { InvalidAlertRuleError } from './errors/invalid-alert-rule-error.js';
export { alertMetrics, alertOps, alertNamePattern, maxAlertFor, parseAlertRule, type AlertRule } from './alerts/alert-rule.js';
export { alertMetricValue, alertConditionHolds, addAlertCounts, noAlertCounts, type AlertCounts } from './alerts/alert-metric.js';
export { stepAlertSeries, quietSeries, type AlertSeriesState } from './alerts/alert-episodes.js';
export { spendPaceAt } from './alerts/alert-spend-pace.js';

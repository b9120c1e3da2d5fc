import type { EventType } from '@sigflow/events';

/** The comparison operators of a condition. */
export const segmentOps = ['>', '>=', '<', '<=', '==', '!=', 'in'] as const;
export type SegmentOp = (typeof segmentOps)[number];

/** The windows of `count:<type>:<window>` features, and their length. */
export const countWindows = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 } as const;
export type CountWindow = keyof typeof countWindows;

/** The longest time any windowed feature looks back (`count:*:7d`, `channels`). */
export const featureLookbackMs = countWindows['7d'];
/** `channels`: channels of valid touchpoints in [t - 7 d, t]. */
export const channelsWindowMs = countWindows['7d'];
/** `flagged`: any invalid event in [t - 24 h, t]. */
export const flaggedWindowMs = countWindows['24h'];

/** A feature of a user's profile a condition reads (DESIGN.md "Segments"). */
export type SegmentFeature =
  | { readonly kind: 'engagement_score' }
  /** `key`: the event type, or `track:<name>` for one custom event's name. */
  | { readonly kind: 'count'; readonly type: EventType; readonly key: string; readonly window: CountWindow; readonly windowMs: number }
  | { readonly kind: 'trait'; readonly name: string }
  | { readonly kind: 'last_conversion_age_s' }
  | { readonly kind: 'channels' }
  | { readonly kind: 'flagged' };

/** `feature op value`, as written in the rule. */
export interface SegmentCondition {
  readonly feature: string;
  readonly op: SegmentOp;
  readonly value: number | string | boolean | readonly number[] | readonly string[];
}

/** `all` (every part holds) or `any` (at least one holds) of conditions and nested groups. */
export type SegmentGroup = { readonly all: readonly SegmentNode[] } | { readonly any: readonly SegmentNode[] };
export type SegmentNode = SegmentGroup | SegmentCondition;
/** A segment's rule: a group at the top. */
export type SegmentRule = SegmentGroup;

/** Bounds of a rule, so a rule costs bounded work per event (configuration, see `@sigflow/config`). */
export interface SegmentRuleLimits {
  /** Conditions in one rule, all groups together. */
  readonly maxConditions: number;
  /** Nesting of groups: 1 = the top group holds conditions only. */
  readonly maxDepth: number;
  /** Values in one `in` (or set `==`) list. */
  readonly maxValues: number;
}

/** Defaults of {@link SegmentRuleLimits}. */
export const defaultSegmentRuleLimits: SegmentRuleLimits = Object.freeze({ maxConditions: 32, maxDepth: 4, maxValues: 64 });

/** Segment names: what `PUT /v1/segments/:name` accepts (also a part of Redis keys). */
export const segmentNamePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

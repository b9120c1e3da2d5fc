import { engagementAt, type EngagementState } from '../engagement/engagement-score.js';
import { featureOf } from './segment-feature-names.js';
import { channelCount, countInWindow, isFlagged, lastConversionAgeS, touchedChannel, type SegmentFeatureState } from './segment-features.js';
import type { SegmentCondition, SegmentNode, SegmentOp, SegmentRule } from './segment-rule.js';

/** A condition ready to evaluate: the feature resolved, the value in the form its test needs. */
type CompiledCondition =
  | { readonly test: 'number'; readonly read: NumberFeature; readonly op: Exclude<SegmentOp, 'in'>; readonly value: number }
  | { readonly test: 'numberIn'; readonly read: NumberFeature; readonly values: readonly number[] }
  | { readonly test: 'channelsIn'; readonly channels: readonly string[] }
  | { readonly test: 'channelsEqual'; readonly channels: readonly string[]; readonly negate: boolean }
  | { readonly test: 'flagged'; readonly value: boolean }
  | { readonly test: 'trait'; readonly name: string; readonly op: SegmentOp; readonly value: SegmentCondition['value'] };

type NumberFeature =
  | { readonly kind: 'engagement_score' }
  | { readonly kind: 'count'; readonly key: string; readonly windowMs: number }
  | { readonly kind: 'last_conversion_age_s' }
  | { readonly kind: 'channel_count' };

/** A rule ready to evaluate (see {@link compileSegmentRule}). */
export type CompiledRule =
  | { readonly all: readonly CompiledRule[] }
  | { readonly any: readonly CompiledRule[] }
  | { readonly condition: CompiledCondition };

/** What a rule reads of a user: the segment features and the engagement (`UserState` has both). */
export interface SegmentSubject {
  readonly segmentFeatures: SegmentFeatureState;
  readonly engagement: EngagementState;
}

function numberFeature(name: string): NumberFeature {
  const f = featureOf(name);
  if (typeof f === 'string' || f.kind === 'flagged' || f.kind === 'trait') throw new TypeError(typeof f === 'string' ? f : `${name} is not a number`);
  if (f.kind === 'count') return { kind: 'count', key: f.key, windowMs: f.windowMs };
  return f.kind === 'channels' ? { kind: 'channel_count' } : f;
}

function compileCondition(c: SegmentCondition): CompiledCondition {
  if (c.feature.startsWith('trait:')) return { test: 'trait', name: c.feature.slice('trait:'.length), op: c.op, value: c.value };
  if (c.feature === 'flagged') return { test: 'flagged', value: c.op === '==' ? c.value === true : c.value !== true };
  if (c.feature === 'channels' && Array.isArray(c.value)) {
    const channels = [...new Set(c.value as readonly string[])];
    return c.op === 'in' ? { test: 'channelsIn', channels } : { test: 'channelsEqual', channels, negate: c.op === '!=' };
  }
  const read = numberFeature(c.feature);
  if (c.op === 'in') return { test: 'numberIn', read, values: c.value as readonly number[] };
  return { test: 'number', read, op: c.op, value: c.value as number };
}

function compileNode(node: SegmentNode): CompiledRule {
  if ('all' in node) return { all: node.all.map(compileNode) };
  if ('any' in node) return { any: node.any.map(compileNode) };
  return { condition: compileCondition(node) };
}

/** Resolves a rule checked by `parseSegmentRule` into the form {@link ruleHolds} evaluates. */
export function compileSegmentRule(rule: SegmentRule): CompiledRule {
  return compileNode(rule);
}

function readNumber(read: NumberFeature, user: SegmentSubject, t: number, halfLifeMs: number): number | null {
  switch (read.kind) {
    case 'engagement_score':
      return engagementAt(user.engagement, t, halfLifeMs);
    case 'count':
      return countInWindow(user.segmentFeatures, read.key, read.windowMs, t);
    case 'last_conversion_age_s':
      return lastConversionAgeS(user.segmentFeatures, t);
    case 'channel_count':
      return channelCount(user.segmentFeatures, t);
  }
}

function compare(x: number, op: Exclude<SegmentOp, 'in'>, v: number): boolean {
  switch (op) {
    case '>':
      return x > v;
    case '>=':
      return x >= v;
    case '<':
      return x < v;
    case '<=':
      return x <= v;
    case '==':
      return x === v;
    case '!=':
      return x !== v;
  }
}

function channelsEqual(channels: readonly string[], user: SegmentSubject, t: number): boolean {
  for (const c of channels) if (!touchedChannel(user.segmentFeatures, c, t)) return false;
  return channelCount(user.segmentFeatures, t) === channels.length;
}

/**
 * A trait condition: `==`/`!=` compare values of any type, `in` a list, the orders numbers only.
 * A user without the trait fails every comparison but `!=`.
 */
function traitHolds(c: Extract<CompiledCondition, { test: 'trait' }>, user: SegmentSubject): boolean {
  const kept = user.segmentFeatures.traits[c.name];
  if (kept === undefined) return c.op === '!=';
  const x = kept[0];
  if (c.op === 'in') return (c.value as readonly (string | number)[]).includes(x as string | number);
  if (c.op === '==' || c.op === '!=') return (x === c.value) === (c.op === '==');
  return typeof x === 'number' && typeof c.value === 'number' && compare(x, c.op, c.value);
}

/** A feature with no value (no conversion yet for last_conversion_age_s) fails every comparison. */
function conditionHolds(c: CompiledCondition, user: SegmentSubject, t: number, halfLifeMs: number): boolean {
  switch (c.test) {
    case 'flagged':
      return isFlagged(user.segmentFeatures, t) === c.value;
    case 'trait':
      return traitHolds(c, user);
    case 'channelsIn':
      for (const channel of c.channels) if (touchedChannel(user.segmentFeatures, channel, t)) return true;
      return false;
    case 'channelsEqual':
      return channelsEqual(c.channels, user, t) !== c.negate;
    case 'numberIn': {
      const x = readNumber(c.read, user, t, halfLifeMs);
      return x !== null && c.values.includes(x);
    }
    case 'number': {
      const x = readNumber(c.read, user, t, halfLifeMs);
      return x !== null && compare(x, c.op, c.value);
    }
  }
}

/**
 * Whether a user's profile satisfies a rule as of time `t` (the user's latest event): features
 * are read at `t` (engagement decayed to `t`, counts and channels in windows ending at `t`,
 * bounds inclusive). Allocates nothing.
 */
export function ruleHolds(rule: CompiledRule, user: SegmentSubject, t: number, engagementHalfLifeMs: number): boolean {
  if ('condition' in rule) return conditionHolds(rule.condition, user, t, engagementHalfLifeMs);
  if ('all' in rule) {
    for (const part of rule.all) if (!ruleHolds(part, user, t, engagementHalfLifeMs)) return false;
    return true;
  }
  for (const part of rule.any) if (ruleHolds(part, user, t, engagementHalfLifeMs)) return true;
  return false;
}

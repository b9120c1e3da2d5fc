import { InvalidSegmentRuleError } from '../errors/invalid-segment-rule-error.js';
import { featureOf } from './segment-feature-names.js';
import { segmentOps, type SegmentCondition, type SegmentFeature, type SegmentNode, type SegmentOp, type SegmentRule, type SegmentRuleLimits } from './segment-rule.js';

/** Channel ids as events carry them (`@sigflow/events`). */
const channelPattern = /^[a-z0-9_-]{1,32}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (path: string, problem: string): never => {
  throw new InvalidSegmentRuleError(path, problem);
};
const show = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60);

interface Walk {
  readonly limits: SegmentRuleLimits;
  conditions: number;
}

function onlyKeys(node: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(node)) if (!allowed.includes(key)) fail(`${path}/${key}`, `unknown field (allowed here: ${allowed.join(', ')})`);
}

function numberList(value: unknown, path: string, walk: Walk): readonly number[] {
  const list = valueList(value, path, walk);
  list.forEach((v, i) => (typeof v === 'number' && Number.isFinite(v) ? undefined : fail(`${path}/${i}`, `expected a finite number, got ${show(v)}`)));
  return list as number[];
}

function channelList(value: unknown, path: string, walk: Walk): readonly string[] {
  const list = valueList(value, path, walk);
  list.forEach((v, i) => (typeof v === 'string' && channelPattern.test(v) ? undefined : fail(`${path}/${i}`, `expected a channel id (1-32 of a-z 0-9 _ -), got ${show(v)}`)));
  return list as string[];
}

function valueList(value: unknown, path: string, walk: Walk): unknown[] {
  if (!Array.isArray(value)) return fail(path, `expected a list of values, got ${show(value)}`);
  if (value.length === 0) fail(path, 'the list is empty');
  if (value.length > walk.limits.maxValues) fail(path, `the list has ${value.length} values; at most ${walk.limits.maxValues} are allowed`);
  return value;
}

/** A trait's value: `==`/`!=` a string, number or boolean; `in` a list of strings or numbers; the orders a number. */
function traitValue(op: SegmentOp, value: unknown, path: string, walk: Walk): SegmentCondition['value'] {
  if (op === 'in') {
    const list = valueList(value, path, walk);
    list.forEach((v, i) => (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? undefined : fail(`${path}/${i}`, `expected a string or a number, got ${show(v)}`)));
    return list as string[];
  }
  if (op === '==' || op === '!=') {
    if (typeof value === 'string' && value.length <= 256) return value;
    if (typeof value === 'boolean') return value;
    return finiteNumber(value, path);
  }
  return finiteNumber(value, path);
}

function finiteNumber(value: unknown, path: string): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fail(path, `expected a finite number, got ${show(value)}`);
}

/** The value of a condition, checked against its feature and operator. */
function conditionValue(feature: SegmentFeature, op: SegmentOp, value: unknown, path: string, walk: Walk): SegmentCondition['value'] {
  switch (feature.kind) {
    case 'flagged':
      if (op !== '==' && op !== '!=') fail(`${path}/op`, `flagged takes == or != (a boolean), not ${op}`);
      return typeof value === 'boolean' ? value : fail(`${path}/value`, `expected true or false, got ${show(value)}`);
    case 'channels':
      if (op === 'in') return channelList(value, `${path}/value`, walk);
      if ((op === '==' || op === '!=') && Array.isArray(value)) return channelList(value, `${path}/value`, walk);
      return finiteNumber(value, `${path}/value`);
    case 'trait':
      return traitValue(op, value, `${path}/value`, walk);
    default:
      return op === 'in' ? numberList(value, `${path}/value`, walk) : finiteNumber(value, `${path}/value`);
  }
}

function parseCondition(node: Record<string, unknown>, path: string, walk: Walk): SegmentCondition {
  onlyKeys(node, path, ['feature', 'op', 'value']);
  if (++walk.conditions > walk.limits.maxConditions) fail(path, `more than ${walk.limits.maxConditions} conditions in the rule`);
  const name = node['feature'];
  if (typeof name !== 'string') return fail(`${path}/feature`, `expected a feature name, got ${show(name)}`);
  const feature = featureOf(name);
  if (typeof feature === 'string') return fail(`${path}/feature`, feature);
  const op = node['op'];
  if (typeof op !== 'string' || !(segmentOps as readonly string[]).includes(op)) return fail(`${path}/op`, `expected one of ${segmentOps.join(' ')}, got ${show(op)}`);
  if (!('value' in node)) return fail(`${path}/value`, 'missing');
  return { feature: name, op: op as SegmentOp, value: conditionValue(feature, op as SegmentOp, node['value'], path, walk) };
}

function parseNode(node: unknown, path: string, depth: number, walk: Walk): SegmentNode {
  if (!isObject(node)) return fail(path, `expected a condition {feature, op, value} or a group {all: [...]} / {any: [...]}, got ${show(node)}`);
  if ('all' in node || 'any' in node) return parseGroup(node, path, depth + 1, walk);
  return parseCondition(node, path, walk);
}

function parseGroup(node: Record<string, unknown>, path: string, depth: number, walk: Walk): SegmentRule {
  if (depth > walk.limits.maxDepth) fail(path, `groups nested deeper than ${walk.limits.maxDepth} levels`);
  const kind = 'all' in node ? 'all' : 'any';
  onlyKeys(node, path, [kind]);
  const parts = node[kind];
  if (!Array.isArray(parts)) return fail(`${path}/${kind}`, `expected a list of conditions and groups, got ${show(parts)}`);
  if (parts.length === 0) fail(`${path}/${kind}`, 'the group is empty');
  if (parts.length > walk.limits.maxConditions) fail(`${path}/${kind}`, `more than ${walk.limits.maxConditions} conditions in the rule`);
  const children = parts.map((part, i) => parseNode(part, `${path}/${kind}/${i}`, depth, walk));
  return kind === 'all' ? { all: children } : { any: children };
}

/**
 * Checks a segment rule against the rule language (DESIGN.md "Segments") and returns it typed:
 * a group `{all: [...]}` or `{any: [...]}` of conditions `{feature, op, value}` and nested groups,
 * within `limits`. Each feature takes the values that make sense for it: numbers (`in`: a list of
 * numbers) for engagement_score, count:* and last_conversion_age_s; for `channels`, `in` a list of
 * channels (touched any of them), `==`/`!=` a list (exactly that set) or a number (how many
 * channels), the other comparisons a number (how many); for `flagged`, `==`/`!=` a boolean.
 * Throws {@link InvalidSegmentRuleError} naming the first bad place (a JSON Pointer) and why.
 * Never evaluates anything: the rule is data.
 */
export function parseSegmentRule(rule: unknown, limits: SegmentRuleLimits): SegmentRule {
  if (!isObject(rule) || !('all' in rule || 'any' in rule)) return fail('', `expected a group {all: [...]} or {any: [...]}, got ${show(rule)}`);
  return parseGroup(rule, '', 1, { limits, conditions: 0 });
}

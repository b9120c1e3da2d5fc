import { realTimeModels, type RealTimeModel } from '../attribution/attribute-conversion.js';
import { InvalidAlertRuleError } from '../errors/invalid-alert-rule-error.js';

/** The metrics an alert rule can watch, per campaign and window (DESIGN.md "Alerts"). */
export const alertMetrics = ['ctr', 'invalid_share', 'spend_pace', 'conversions'] as const;
export type AlertMetric = (typeof alertMetrics)[number];

/** Comparisons with a threshold, and `drop_pct`: a drop of at least `threshold` % against the trailing hour. */
export const alertOps = ['<', '<=', '>', '>=', 'drop_pct'] as const;
export type AlertOp = (typeof alertOps)[number];

/** An alert rule as ops set it (without its webhook: see `AlertRuleDefinition`). */
export interface AlertRule {
  readonly metric: AlertMetric;
  /** A campaign id, or `*`: every campaign, each with its own episodes. */
  readonly campaign: string;
  readonly condition: { readonly op: AlertOp; readonly threshold: number };
  /** Consecutive windows (with data) the condition must hold before the alert fires. */
  readonly for: number;
  /** `conversions` only: the attribution model whose credits are counted (default last_touch). */
  readonly model: RealTimeModel;
}

/** Alert names: what `PUT /v1/alerts/rules/:name` accepts. */
export const alertNamePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Campaign ids as events carry them. */
const campaignPattern = /^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,127})$/;
/** Most consecutive windows a rule may wait for (a day of minutes). */
export const maxAlertFor = 1_440;

const fail = (path: string, problem: string): never => {
  throw new InvalidAlertRuleError(path, problem);
};
const show = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 60);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function condition(value: unknown): AlertRule['condition'] {
  if (!isObject(value)) return fail('/condition', `expected {op, threshold}, got ${show(value)}`);
  for (const key of Object.keys(value)) if (key !== 'op' && key !== 'threshold') fail(`/condition/${key}`, 'unknown field (allowed: op, threshold)');
  const op = value['op'];
  if (typeof op !== 'string' || !(alertOps as readonly string[]).includes(op)) return fail('/condition/op', `expected one of ${alertOps.join(' ')}, got ${show(op)}`);
  const threshold = value['threshold'];
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) return fail('/condition/threshold', `expected a finite number, got ${show(threshold)}`);
  if (op === 'drop_pct' && !(threshold > 0 && threshold <= 100)) fail('/condition/threshold', `a drop_pct threshold is a percentage in (0, 100], got ${threshold}`);
  return { op: op as AlertOp, threshold };
}

/**
 * Checks the evaluation part of an alert rule (`metric`, `campaign`, `condition`, `for`,
 * `model`) and returns it typed. `fields` lists the other fields the caller handles (they are
 * skipped here). Throws {@link InvalidAlertRuleError} naming the field.
 */
export function parseAlertRule(value: unknown, fields: readonly string[] = []): AlertRule {
  if (!isObject(value)) return fail('', `expected an object, got ${show(value)}`);
  const known = ['metric', 'campaign', 'condition', 'for', 'model', ...fields];
  for (const key of Object.keys(value)) if (!known.includes(key)) fail(`/${key}`, `unknown field (allowed: ${known.join(', ')})`);
  const metric = value['metric'];
  if (typeof metric !== 'string' || !(alertMetrics as readonly string[]).includes(metric)) return fail('/metric', `expected one of ${alertMetrics.join(', ')}, got ${show(metric)}`);
  const campaign = value['campaign'] === undefined ? '*' : value['campaign'];
  if (typeof campaign !== 'string' || !campaignPattern.test(campaign)) return fail('/campaign', `expected a campaign id or "*", got ${show(campaign)}`);
  const windows = value['for'] === undefined ? 1 : value['for'];
  if (typeof windows !== 'number' || !Number.isSafeInteger(windows) || windows < 1 || windows > maxAlertFor) return fail('/for', `expected an integer 1-${maxAlertFor} (consecutive windows), got ${show(windows)}`);
  const model = value['model'] === undefined ? 'last_touch' : value['model'];
  if (typeof model !== 'string' || !(realTimeModels as readonly string[]).includes(model)) return fail('/model', `expected one of ${realTimeModels.join(', ')}, got ${show(model)}`);
  if (value['model'] !== undefined && metric !== 'conversions') fail('/model', 'only the conversions metric takes a model');
  return { metric: metric as AlertMetric, campaign, condition: condition(value['condition']), for: windows, model: model as RealTimeModel };
}

import { randomBytes } from 'node:crypto';
import { alertConditionHolds, alertMetricValue, quietSeries, stepAlertSeries } from '@sigflow/core';
import type { StoreKeys } from '@sigflow/store';
import { alertSeriesField, deliveryId, type AlertDelivery, type AlertEpisode, type DeliveryKind, type StoredAlertRule, type StoredAlertSeries } from '@sigflow/store/segments-alerts';
import type { RedisCommand } from '@sigflow/store/views';
import type { WindowCounts } from './alert-window-reads.js';

/** What evaluating one closed window did. */
export interface WindowOutcome {
  /** Everything to commit for the window (with the evaluation mark), atomically. */
  readonly commands: RedisCommand[];
  readonly evaluations: { rule: string }[];
  readonly fired: AlertEpisode[];
  readonly resolved: AlertEpisode[];
}

/** Evaluation inputs besides the counts. */
export interface WindowEvaluationContext {
  readonly keys: StoreKeys;
  readonly windowMs: number;
  readonly rules: readonly StoredAlertRule[];
  /** Every campaign the speed layer knows (the scope of `*` rules). */
  readonly campaigns: readonly string[];
  /** Series states as of the previous window, updated in place. */
  readonly series: Map<string, StoredAlertSeries>;
  /** Episodes open now, by id (a resolution updates its episode). */
  readonly episodes: Map<string, AlertEpisode>;
  readonly now: number;
}

const pending: AlertDelivery = { state: 'pending', attempts: 0, lastError: null, at: null, status: null };

function newEpisodeId(windowStart: number): string {
  return `e${windowStart.toString(36)}${randomBytes(4).toString('hex')}`;
}

function deliver(commands: RedisCommand[], keys: StoreKeys, episode: AlertEpisode, kind: DeliveryKind): void {
  const id = deliveryId(episode.id, kind);
  commands.push(['HSET', keys.alertEpisodes(), episode.id, JSON.stringify(episode)], ['HSET', keys.alertDeliveries(), id, JSON.stringify(pending)], ['SADD', keys.alertOutbox(), id]);
}

/**
 * Evaluates every rule for every campaign in its scope at one closed window (core's metric,
 * condition and episode rules over the window and its trailing hour), and returns what to
 * commit: the series that moved, episodes that fired (new, with a pending delivery in the
 * outbox) or resolved (updated, likewise), and the window as evaluated.
 */
export function evaluateWindow(ctx: WindowEvaluationContext, counts: WindowCounts, ws: number): WindowOutcome {
  const { keys } = ctx;
  const out: WindowOutcome = { commands: [], evaluations: [], fired: [], resolved: [] };
  for (const rule of ctx.rules) {
    const spend = rule.metric === 'spend_pace';
    for (const campaign of rule.campaign === '*' ? ctx.campaigns : [rule.campaign]) {
      const value = alertMetricValue(rule.metric, counts.window(campaign, ws, rule.model, spend));
      const trailing = rule.condition.op === 'drop_pct' ? alertMetricValue(rule.metric, counts.trailingHour(campaign, ws, rule.model, spend)) : null;
      const field = alertSeriesField(rule.name, campaign);
      const before = ctx.series.get(field) ?? { ...quietSeries, episode: null };
      const step = stepAlertSeries(before, alertConditionHolds(rule, value, trailing), rule.for, ws + ctx.windowMs);
      out.evaluations.push({ rule: rule.name });
      let episode = before.episode;
      if (step.event === 'fire') {
        const fired: AlertEpisode = { id: newEpisodeId(ws), rule: rule.name, campaign, metric: rule.metric, condition: rule.condition, for: rule.for, state: 'firing', firedWindow: ws, firedValue: value, firedTrailing: trailing, firedAt: ctx.now, resolvedWindow: null, resolvedValue: null, resolvedAt: null };
        episode = fired.id;
        ctx.episodes.set(fired.id, fired);
        deliver(out.commands, keys, fired, 'fired');
        out.commands.push(['ZADD', keys.alertEpisodesByTime(), ctx.now, fired.id]);
        out.fired.push(fired);
      } else if (step.event === 'resolve' && before.episode !== null) {
        const open = ctx.episodes.get(before.episode);
        if (open) {
          const resolved: AlertEpisode = { ...open, state: 'resolved', resolvedWindow: ws, resolvedValue: value, resolvedAt: ctx.now };
          ctx.episodes.delete(open.id);
          deliver(out.commands, keys, resolved, 'resolved');
          out.resolved.push(resolved);
        }
        episode = null;
      }
      const after: StoredAlertSeries = { ...step.state, episode };
      if (after.streak !== before.streak || after.firingSince !== before.firingSince || after.episode !== before.episode) {
        ctx.series.set(field, after);
        out.commands.push(['HSET', keys.alertSeries(), field, JSON.stringify(after)]);
      }
    }
  }
  out.commands.push(['SET', keys.alertsEvaluated(), ws]);
  return out;
}

import { type RedisClient, type StoreKeys, getKeys } from '@sigflow/store';
import { ackAlertOutbox, applyWithAlertsLease, deliveryId, parseDeliveryId, readAlertDeliveries, holdAlertsLease, readAlertEpisode, readAlertEvaluation, readAlertOutbox, readAlertRules, type AlertEpisode } from '@sigflow/store/segments-alerts';
import { speedPartitions } from '@sigflow/store/views';
import type { Queue } from 'bullmq';
import type { RealTimeModel } from '@sigflow/core';
import type { SigflowConfig } from '@sigflow/config';
import type { Logger } from '@sigflow/observability';
import { readWindowCounts } from './alert-window-reads.js';
import type { AlertsMetrics } from './alerts-metrics.js';
import { deliveryJobName } from './delivery-queue.js';
import { trimEpisodes } from './episode-history.js';
import { lastClosedWindow, WindowClock } from './window-clock.js';
import { evaluateWindow } from './window-evaluation.js';

export interface EvaluatorDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly queue: Queue;
  readonly logger: Logger;
  readonly metrics: AlertsMetrics;
  /** This instance's name in the evaluation lease. */
  readonly holder: string;
}

/** Windows evaluated per poll at most (a backlog is worked off over several polls). */
const maxWindowsPerPoll = 180;

/**
 * Evaluates the alert rules once per closed window (DESIGN.md "Alerts"), never per event: each
 * poll reads the speed watermarks, and while this instance holds the lease evaluates every window
 * closed since the last one evaluated, in order, committing each window's series, episodes and
 * delivery outbox in one leased step; then it queues the committed deliveries (BullMQ jobs, keyed
 * by delivery id, so a repeated queueing is a no-op). The first evaluation starts at the newest
 * closed window: history does not fire.
 */
export class AlertEvaluator {
  private readonly clock: WindowClock;

  constructor(private readonly deps: EvaluatorDeps) {
    this.clock = new WindowClock(deps.config.alerts.idlePartitionMs);
  }

  async poll(now = Date.now()): Promise<void> {
    const { redis, keys, config, holder } = this.deps;
    if (!(await holdAlertsLease(redis, keys, holder, config.alerts.leaseMs))) return;
    const parts = speedPartitions(config.kafka.eventPartitions);
    const watermarks = (await getKeys(redis, parts.map((p) => keys.speedWatermark(p)))).map((w) => (w === null ? null : Number(w)));
    const closing = this.clock.observe(watermarks, now);
    if (closing !== null) await this.evaluateClosed(lastClosedWindow(closing, config.rules.windowMs), now);
    await this.drainOutbox();
  }

  private async evaluateClosed(lastClosed: number, now: number): Promise<void> {
    const { redis, keys, config, metrics } = this.deps;
    const windowMs = config.rules.windowMs;
    const { series, evaluated } = await readAlertEvaluation(redis, keys);
    const from = evaluated === null ? lastClosed : evaluated + windowMs;
    if (from > lastClosed) return;
    const to = Math.min(lastClosed, from + (maxWindowsPerPoll - 1) * windowMs);
    const rules = await readAlertRules(redis, keys);
    const campaigns = await this.campaigns(rules.some((r) => r.campaign === '*'), rules.map((r) => r.campaign));
    const models = new Set<RealTimeModel>(rules.filter((r) => r.metric === 'conversions').map((r) => r.model));
    const counts = await readWindowCounts(redis, keys, config.kafka.eventPartitions, config.rules, config.bidding.rules, { from, to, campaigns, models, spend: rules.some((r) => r.metric === 'spend_pace') });
    const episodes = await this.openEpisodes(series);
    for (let ws = from; ws <= to; ws += windowMs) {
      const outcome = evaluateWindow({ keys, windowMs, rules, campaigns, series, episodes, now }, counts, ws);
      if (!(await applyWithAlertsLease(redis, keys, this.deps.holder, outcome.commands))) return;
      metrics.windows.inc();
      for (const e of outcome.evaluations) metrics.evaluations.inc({ rule: e.rule });
      for (const e of outcome.fired) metrics.firings.inc({ rule: e.rule });
      for (const e of outcome.resolved) metrics.resolutions.inc({ rule: e.rule });
      for (const e of outcome.fired) this.deps.logger.warn({ rule: e.rule, campaign: e.campaign, window: e.firedWindow, value: e.firedValue, trailing: e.firedTrailing }, 'alert fired');
      for (const e of outcome.resolved) this.deps.logger.info({ rule: e.rule, campaign: e.campaign, window: e.resolvedWindow }, 'alert resolved');
    }
    metrics.evaluatedWindow.set(to / 1000);
    await trimEpisodes(redis, keys, this.deps.holder, config.alerts.keepEpisodes);
  }

  /** The campaigns in scope: every one the speed layer has seen when a rule says `*`, else those named. */
  private async campaigns(all: boolean, named: readonly string[]): Promise<string[]> {
    const { redis, keys, config } = this.deps;
    const set = new Set(named.filter((c) => c !== '*'));
    // One SMEMBERS per partition (each set lives in its partition's hash slot).
    if (all) for (const members of await Promise.all(speedPartitions(config.kafka.eventPartitions).map((p) => redis.smembers(keys.campaigns(p))))) for (const c of members) set.add(c);
    return [...set].sort();
  }

  private async openEpisodes(series: ReadonlyMap<string, { episode: string | null }>): Promise<Map<string, AlertEpisode>> {
    const episodes = new Map<string, AlertEpisode>();
    for (const s of series.values()) {
      if (s.episode === null) continue;
      const e = await readAlertEpisode(this.deps.redis, this.deps.keys, s.episode);
      if (e) episodes.set(e.id, e);
    }
    return episodes;
  }

  /**
   * Queues every committed delivery (job id = delivery id: queued twice, run once), then clears
   * them from the outbox. A resolution waits in the outbox while its episode's firing is still
   * being delivered, so a receiver gets them in order.
   */
  private async drainOutbox(): Promise<void> {
    const { redis, keys } = this.deps;
    const ids = await readAlertOutbox(redis, keys);
    const firings = ids.map((id) => parseDeliveryId(id)).map((d) => (d?.kind === 'resolved' ? deliveryId(d.episodeId, 'fired') : null));
    const states = await readAlertDeliveries(redis, keys, firings.filter((f): f is string => f !== null));
    const ready = ids.filter((_, i) => {
      const fired = firings[i];
      return fired === null || fired === undefined || states.get(fired)?.state !== 'pending';
    });
    for (const id of ready) await this.deps.queue.add(deliveryJobName, { delivery: id }, { jobId: id });
    await ackAlertOutbox(redis, keys, ready);
  }
}

import { type RedisClient, redisAnswers, StoreKeys } from '@sigflow/store';
import { holdBiddingLease, releaseBiddingLease, writeBiddingStates, type StoredBudget } from '@sigflow/store/bidding';
import type { Registry } from 'prom-client';
import type { SigflowConfig } from '@sigflow/config';
import { campaignBidding, type BudgetStatus } from '@sigflow/core';
import { topicsFor } from '@sigflow/events';
import { EventProducer, type KafkaClient } from '@sigflow/kafka';
import type { Logger } from '@sigflow/observability';
import { biddingAnswer, bucketSource, type BiddingAnswer } from '@sigflow/serving';
import { biddingMetrics, type BiddingMetrics } from './bidding-metrics.js';
import { BiddingPublisher } from './bidding-publisher.js';
import { PacingReads, type PacingRound } from './pacing-reads.js';

export interface BiddingServiceDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  /** Kafka client settings for the `bidding.v1` producer. */
  readonly kafka: KafkaClient;
  readonly logger: Logger;
  readonly registry: Registry;
  /** The clock (tests pin it). */
  readonly now?: () => number;
}

/**
 * The bidding service: every `bidding.refreshMs` it recomputes every budgeted campaign's pacing
 * and bid multipliers with core's rules (`campaignBidding`) from the merged spend and attribution
 * views, stores each answer serialized (what `GET /v1/bidding/:campaignId` serves as is) and
 * publishes the campaigns whose status or a multiplier changed to `bidding.v1`. One instance
 * works at a time (a lease in Redis); others stand by and take over when it lapses.
 */
export class BiddingService {
  private readonly keys: StoreKeys;
  private readonly reads: PacingReads;
  private readonly producer: EventProducer;
  private readonly publisher: BiddingPublisher;
  private readonly metrics: BiddingMetrics;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private leader = false;
  private lastSlot = 0;
  private stopped = false;

  constructor(private readonly deps: BiddingServiceDeps) {
    const { config } = deps;
    this.keys = new StoreKeys(config.redis.keyPrefix);
    this.reads = new PacingReads({
      keys: this.keys,
      partitions: config.kafka.eventPartitions,
      rules: config.rules,
      bidding: config.bidding.rules,
      maxFutureMs: config.limits.maxFutureMs,
    });
    this.producer = new EventProducer(deps.kafka, topicsFor(config.kafka.topicPrefix).bidding);
    this.publisher = new BiddingPublisher(deps.redis, this.keys, this.producer, config.bidding.publishIntervalMs);
    this.metrics = biddingMetrics(deps.registry);
    this.now = deps.now ?? Date.now;
  }

  /** Connects the producer; {@link start} does it, tests that drive rounds themselves call it. */
  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Connects and runs a round every `bidding.refreshMs` until {@link stop}. */
  async start(): Promise<void> {
    await this.connect();
    this.schedule();
  }

  /** Ready = Redis answers within a second (the producer connected at start). */
  ready(): Promise<boolean> {
    return redisAnswers(this.deps.redis, 1_000);
  }

  /** Finishes the round in flight, gives the lease up (a standby takes over at once), disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (this.leader) await releaseBiddingLease(this.deps.redis, this.keys, this.deps.config.bidding.instanceId).catch(() => undefined);
    await this.producer.disconnect();
  }

  /**
   * Runs rounds on a fixed grid of `refreshMs` (the next multiple of it after the last round), each
   * computed as of its slot: consecutive answers are exactly `refreshMs` apart, so with the
   * default one-second publish interval a change is never held back by timer jitter.
   */
  private schedule(): void {
    if (this.stopped) return;
    const every = this.deps.config.bidding.refreshMs;
    // Never the same slot twice, even if the wall clock lags the timer by a millisecond.
    const slot = Math.max(Math.floor(this.now() / every) * every + every, this.lastSlot + every);
    this.lastSlot = slot;
    this.timer = setTimeout(() => {
      this.running = this.round(slot)
        .then(
          (outcome) => this.metrics.rounds.inc({ outcome }),
          (err: unknown) => {
            this.metrics.rounds.inc({ outcome: 'failed' });
            this.deps.logger.warn({ err }, 'bidding round failed; the next round tries again');
          },
        )
        .finally(() => this.schedule());
    }, Math.max(0, slot - this.now()));
  }

  /**
   * One round as of instant `t` (default: now): `standby` while another instance holds the lease,
   * else `computed`. Throws what failed (the loop logs and counts it, and the next round runs as planned).
   */
  async round(t = this.now()): Promise<'computed' | 'standby'> {
    const { config, redis, logger } = this.deps;
    const held = await holdBiddingLease(redis, this.keys, config.bidding.instanceId, config.bidding.leaseMs);
    if (held !== this.leader) logger.info({ instance: config.bidding.instanceId }, held ? 'holds the bidding lease: computing and publishing' : 'lost the bidding lease: standing by');
    if (!held) this.publisher.reset();
    this.leader = held;
    this.metrics.leader.set(held ? 1 : 0);
    if (!held) return 'standby';
    const end = this.metrics.roundSeconds.startTimer();
    await this.compute(t);
    end();
    return 'computed';
  }

  /** Reads, runs every budgeted campaign through the rules, writes the answers, publishes the changes. */
  private async compute(t: number): Promise<void> {
    const { config, redis } = this.deps;
    const round = await this.reads.read(redis, t);
    this.metrics.hashesRead.inc(round.hashesRead);
    this.metrics.cachedHours.set(this.reads.cachedHours);
    const answers = new Map<string, BiddingAnswer>();
    const serialized = new Map<string, string>();
    const statuses: Record<BudgetStatus, number> = { exhausted: 0, over: 0, under: 0, on: 0 };
    for (const [campaignId, budget] of round.budgets) {
      const answer = this.answerOf(round, campaignId, budget);
      answers.set(campaignId, answer);
      serialized.set(campaignId, JSON.stringify(answer));
      statuses[answer.status]++;
    }
    for (const [status, n] of Object.entries(statuses)) this.metrics.campaigns.set({ status }, n);
    await writeBiddingStates(redis, this.keys, serialized, config.bidding.stateTtlMs);
    const { sent, deferred } = await this.publisher.publish(answers, t);
    this.metrics.messages.inc(sent);
    this.metrics.deferred.inc(deferred);
  }

  private answerOf(round: PacingRound, campaignId: string, budget: StoredBudget): BiddingAnswer {
    const { config } = this.deps;
    const settings = config.bidding.rules;
    const windowMs = config.rules.windowMs;
    const b = campaignBidding({ t: round.at, budget, spend: round.spend(campaignId), revenue: round.revenue(campaignId), settings });
    const { day, window } = b.ranges;
    const today = { from: day.start, to: day.end };
    const recent = { from: window.from, to: window.to + 1 };
    return biddingAnswer(b, {
      campaignId,
      budget,
      model: settings.model,
      batchWatermark: round.batchWatermark,
      sources: {
        today: bucketSource({ start: today.from, end: today.to }, today, windowMs, round.batchWatermark),
        window: bucketSource({ start: recent.from, end: recent.to }, recent, windowMs, round.batchWatermark),
      },
    });
  }
}

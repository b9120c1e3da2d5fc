import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queue, Worker } from 'bullmq';
import { type RedisClient, redisAnswers, StoreKeys } from '@sigflow/store';
import { releaseAlertsLease } from '@sigflow/store/segments-alerts';
import type { Registry } from 'prom-client';
import type { SigflowConfig } from '@sigflow/config';
import { allowListOf } from '@sigflow/alerts';
import type { Logger } from '@sigflow/observability';
import { AlertEvaluator } from './alert-evaluator.js';
import { alertsMetrics } from './alerts-metrics.js';
import { bullConnection } from '@sigflow/batch-jobs';
import { openDeliveryQueue, type DeliveryJobData } from './delivery-queue.js';
import { startDeliveryWorker } from './delivery-worker.js';

export interface AlertsServiceDeps {
  readonly config: SigflowConfig;
  readonly redis: RedisClient;
  readonly logger: Logger;
  readonly registry: Registry;
}

/**
 * The alerts service: evaluates the alert rules at each window close (one instance at a time,
 * by lease) and delivers their episodes to webhooks (every instance works the deliveries' queue).
 * Nothing of it runs in the speed layer: evaluation reads the speed views once per window.
 */
export class AlertsService {
  private readonly keys: StoreKeys;
  private readonly holder = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly queueConnection: RedisClient;
  private readonly workerConnection: RedisClient;
  private readonly queue: Queue;
  private worker: Worker<DeliveryJobData> | undefined;
  private readonly evaluator: AlertEvaluator;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly deps: AlertsServiceDeps) {
    const { config, redis, logger, registry } = deps;
    this.keys = new StoreKeys(config.redis.keyPrefix);
    this.queueConnection = bullConnection(config);
    this.workerConnection = bullConnection(config);
    this.queue = openDeliveryQueue(config, this.queueConnection);
    const metrics = alertsMetrics(registry);
    this.evaluator = new AlertEvaluator({ config, redis, keys: this.keys, queue: this.queue, logger, metrics, holder: this.holder });
    this.worker = startDeliveryWorker({ config, redis, keys: this.keys, logger, metrics, allow: allowListOf(config.alerts.webhookAllow), connection: this.workerConnection });
  }

  /** Ready: the delivery worker runs and Redis answers. */
  async ready(): Promise<boolean> {
    return (this.worker?.isRunning() ?? false) && redisAnswers(this.deps.redis, 1_000);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = this.evaluator
        .poll()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'alert evaluation failed; retried at the next poll'))
        .finally(() => (this.polling = undefined));
    }, this.deps.config.alerts.pollMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    await releaseAlertsLease(this.deps.redis, this.keys, this.holder);
    await this.worker?.close();
    this.worker = undefined;
    await this.queue.close();
    this.queueConnection.disconnect();
    this.workerConnection.disconnect();
  }
}

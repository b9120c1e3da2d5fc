import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '@sigflow/store';
import type { AlertsConfig, SigflowConfig } from '@sigflow/config';
import { bullPrefix } from '@sigflow/batch-jobs';

/** The BullMQ job name of a webhook delivery; its data is `{ delivery: <delivery id> }`. */
export const deliveryJobName = 'deliver';

/** The data of a delivery job. */
export interface DeliveryJobData {
  readonly delivery: string;
}

/**
 * Options of every delivery: `deliveryAttempts` attempts with exponential backoff from
 * `deliveryBackoffMs` (then the job fails: the dead-letter state, kept and listed); finished
 * jobs are kept as many as the episodes.
 */
export function deliveryJobOptions(alerts: AlertsConfig): JobsOptions {
  return {
    attempts: alerts.deliveryAttempts,
    backoff: { type: 'exponential', delay: alerts.deliveryBackoffMs },
    removeOnComplete: { count: alerts.keepEpisodes },
    removeOnFail: { count: alerts.keepEpisodes },
  };
}

/** The deliveries' queue, beside the batch queue under the same BullMQ prefix. The caller closes it (and the connection it passed). */
export function openDeliveryQueue(config: SigflowConfig, connection: RedisClient): Queue {
  return new Queue(config.alerts.queueName, { connection, prefix: bullPrefix(config), defaultJobOptions: deliveryJobOptions(config.alerts) });
}

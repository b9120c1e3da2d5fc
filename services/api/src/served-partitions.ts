import { setTimeout as sleep } from 'node:timers/promises';
import type { SigflowConfig } from '@sigflow/config';
import { adoptEventPartitions, createKafka, withEventPartitions } from '@sigflow/kafka';
import type { Logger } from '@sigflow/observability';
import { createRedis, StoreKeys } from '@sigflow/store';
import { recordEventPartitions, recordedEventPartitions } from '@sigflow/store/ops';

export interface ServedPartitionsOptions {
  /** How long the start waits for Kafka before it serves by the recorded count. Default 5 s. */
  readonly graceMs?: number;
  /**
   * Kafka answered late with another count than the recorded one this process serves by (its
   * reads would miss users). Default: log it and exit 1, so a restart reads by Kafka's count.
   */
  readonly onMismatch?: (problem: string) => void;
}

const exitOnMismatch =
  (logger: Logger) =>
  (problem: string): void => {
    logger.error(problem);
    process.exit(1);
  };

/**
 * The configuration with the events topic's partition count the API reads users' keys by.
 * Kafka's count when Kafka answers (`adoptEventPartitions`), recorded in Redis for later starts.
 * When Kafka does not answer within `graceMs`, the count recorded by an earlier start, so that
 * bidders and recommendation services are served through a Kafka outage by an API that
 * restarted during it; Kafka is asked on in the background and a different answer stops the
 * process (`onMismatch`). With nothing recorded the start waits for Kafka, as every service's.
 */
export async function servedEventPartitions(config: SigflowConfig, logger: Logger, options: ServedPartitionsOptions = {}): Promise<SigflowConfig> {
  const graceMs = options.graceMs ?? 5_000;
  const redis = createRedis(config.redis, { maxRetriesPerRequest: 1, commandTimeout: 2_000 });
  const keys = new StoreKeys(config.redis.keyPrefix);
  let meanwhile = 'the start waits for it';
  const fromKafka = adoptEventPartitions(createKafka(config.kafka, { clientId: 'sigflow-api', log: logger }), config, logger, { waiting: () => meanwhile });
  const recorded = fromKafka.then(async (adopted) => {
    await recordEventPartitions(redis, keys, adopted.kafka.eventPartitions).catch((err: unknown) => logger.warn({ err }, "recording the events topic's partition count in Redis failed"));
    return adopted;
  });
  let count: number | null;
  try {
    const answered = await Promise.race([recorded, sleep(graceMs, null)]);
    if (answered !== null) return answered;
    count = await recordedEventPartitions(redis, keys).catch(() => null);
  } finally {
    // Closed once Kafka's count is recorded and the start has read Redis: not under that read.
    void recorded.catch(() => undefined).finally(() => redis.disconnect());
  }
  if (count === null) return recorded;
  const served = withEventPartitions(config, count, logger);
  meanwhile = `the API serves by the count recorded in Redis (${count}) meanwhile`;
  logger.warn({ partitions: count }, `Kafka did not answer within ${graceMs / 1000} s: serving by the events topic's partition count recorded in Redis (${count}) while it is asked on`);
  checkWhenKafkaAnswers(recorded, count, logger, options.onMismatch ?? exitOnMismatch(logger));
  return served;
}

/** Once Kafka answers, whether its count is the recorded one the process serves by (`onMismatch` when not). */
function checkWhenKafkaAnswers(fromKafka: Promise<SigflowConfig>, served: number, logger: Logger, onMismatch: (problem: string) => void): void {
  fromKafka.then(
    (adopted) => {
      const found = adopted.kafka.eventPartitions;
      if (found !== served) onMismatch(`the events topic has ${found} partitions, not the ${served} recorded in Redis this process serves by: stopping, so that a restart reads users by ${found}`);
      else logger.info({ partitions: found }, "Kafka answered: the events topic's partition count is the recorded one");
    },
    (err: unknown) => onMismatch(`Kafka refused the partition count this process serves by: ${(err as Error).message}`),
  );
}

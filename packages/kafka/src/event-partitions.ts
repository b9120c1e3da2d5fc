import { setTimeout as sleep } from 'node:timers/promises';
import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import type { KafkaClient, KafkaLogSink } from './client.js';
import { TopicLayoutError } from './errors.js';
import { partitionCount } from './topics.js';

/** The events topic's partition count, or null when the topic does not exist yet. */
function existingPartitions(kafka: KafkaClient, topic: string): Promise<number | null> {
  return kafka.withAdmin(async (admin) => ((await admin.listTopics()).includes(topic) ? partitionCount(admin, topic) : null));
}

/**
 * The configuration with the events topic's partition count as Kafka has it. The count a
 * process reads user keys by must be the topic's, and a topic cannot be repartitioned without
 * moving keyed state; so `SIGFLOW_EVENT_PARTITIONS` (or its default) is the count a new topic is
 * created with, and a process started on an existing topic takes that topic's count (a
 * deployment made with an older default keeps running on it). When the variable was set to
 * another count than the topic's, the start stops with {@link TopicLayoutError}: a deployment
 * that asked for 32 must not run on 4 unnoticed. While Kafka does not answer, the start waits,
 * asking again every `retryMs` (a warning each time, saying what the process does meanwhile:
 * `waiting`), until `signal` aborts.
 */
export async function adoptEventPartitions(
  kafka: KafkaClient,
  config: SigflowConfig,
  log: KafkaLogSink,
  { retryMs = 2_000, signal, waiting = () => 'the start waits for it' }: { retryMs?: number; signal?: AbortSignal; waiting?: () => string } = {},
): Promise<SigflowConfig> {
  const topic = topicsFor(config.kafka.topicPrefix).events;
  for (let attempt = 1; ; attempt++) {
    let found: number | null;
    try {
      found = await existingPartitions(kafka, topic);
    } catch (err) {
      log.warn({ err, attempt, topic }, `Kafka did not say how many partitions the events topic has; ${waiting()}`);
      await sleep(retryMs, undefined, { signal });
      continue;
    }
    return withEventPartitions(config, found, log);
  }
}

/**
 * The configuration with the events topic's partition count `found` (null: no topic yet, the
 * configured count stands): {@link TopicLayoutError} when `SIGFLOW_EVENT_PARTITIONS` was set to
 * another count, else the topic's count, with a warning when it is not the configured one.
 */
export function withEventPartitions(config: SigflowConfig, found: number | null, log: KafkaLogSink): SigflowConfig {
  if (found === null || found === config.kafka.eventPartitions) return config;
  const topic = topicsFor(config.kafka.topicPrefix).events;
  if (config.kafka.eventPartitionsSet) throw new TopicLayoutError(topic, found, config.kafka.eventPartitions);
  log.warn({ topic, partitions: found, createdWith: config.kafka.eventPartitions }, `the events topic exists with ${found} partitions: this process uses them (SIGFLOW_EVENT_PARTITIONS applies to a new topic)`);
  return { ...config, kafka: { ...config.kafka, eventPartitions: found } };
}

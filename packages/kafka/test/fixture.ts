import { randomUUID } from 'node:crypto';
import { ProduceAcks, Producer } from '@platformatic/kafka';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, type KafkaClient } from '../src/index.js';
import type { PartitionConsumerOptions } from '../src/partition-consumer.js';

/** Configuration, a client and topic names with a prefix of their own, for one suite. */
export function suiteKafka(name: string) {
  const config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `t-${name}-${randomUUID().slice(0, 8)}-` });
  return { config, kafka: createKafka(config.kafka), topics: topicsFor(config.kafka.topicPrefix) };
}

/** A PartitionConsumer's options for a test: one static member `<name>-1` of group `<name>-group`, short waits. */
export function testConsumerOptions(brokers: readonly string[], name: string, topic: string): PartitionConsumerOptions {
  return {
    brokers,
    clientId: name,
    groupId: `${name}-group`,
    groupInstanceId: `${name}-1`,
    topic,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 6_000,
    maxWaitMs: 100,
    maxBytesPerPartition: 1 << 20,
    maxBytes: 1 << 20,
    connectTimeoutMs: 1_000,
    requestTimeoutMs: 5_000,
  };
}

/**
 * A topic of its own with `partitions` partitions holding `messages` (value and partition each),
 * for a consumer suite: its brokers and name. `cleanup` gets the step that deletes it.
 */
export async function topicWithMessages(
  name: string,
  partitions: number,
  messages: readonly { value: string; partition: number }[],
  cleanup: (() => Promise<void>)[],
): Promise<{ brokers: string[]; topic: string }> {
  const { config, kafka, topics } = suiteKafka(name);
  const topic = topics.events;
  const admin = kafka.admin();
  await admin.createTopics({ topics: [topic], partitions });
  cleanup.push(async () => {
    await admin.deleteTopics({ topics: [topic] });
    await admin.close();
  });
  await producePlaced(kafka, topic, messages);
  return { brokers: config.kafka.brokers, topic };
}

/**
 * Produces `messages` (value and partition each) to `topic`, retrying while its new partitions
 * get their leaders. Idempotent: a retried request that one partition had already taken while
 * another had no leader yet (a loaded CI host, 2026-11-26) wrote that partition's records twice.
 */
export async function producePlaced(kafka: KafkaClient, topic: string, messages: readonly { value: string; partition: number }[]): Promise<void> {
  const producer = new Producer({ ...kafka.options({ retries: 20, retryDelay: 250 }), idempotent: true, acks: ProduceAcks.ALL });
  try {
    await producer.send({ messages: messages.map((m) => ({ topic, value: Buffer.from(m.value), partition: m.partition })) });
  } finally {
    await producer.close();
  }
}

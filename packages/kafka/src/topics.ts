import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import type { KafkaConfig } from '@sigflow/config';
import type { Topics } from '@sigflow/events';
import { TopicLayoutError } from './errors.js';

// kafkajs is CommonJS: Node's ESM loader finds this export only on the default object.
const { ConfigResourceTypes } = kafkajs;

export interface TopicLayout {
  /** Partitions of the events topic (the unit of parallelism). */
  readonly eventPartitions: number;
  /**
   * `retention.ms` of every platform topic (`SIGFLOW_RETENTION_MS`): the broker deletes
   * messages older than this, so Kafka keeps personal data no longer than the archive does.
   * Absent: topics keep the broker's default (tests that do not care).
   */
  readonly retentionMs?: number;
  /** Replicas of each topic created (`SIGFLOW_KAFKA_REPLICATION_FACTOR`). Absent: 1. */
  readonly replicationFactor?: number;
  /** `min.insync.replicas` of each topic created (`SIGFLOW_KAFKA_MIN_INSYNC_REPLICAS`). Absent or null: the broker's. */
  readonly minInsyncReplicas?: number | null;
}

/** A topic's config overrides (set on the topic itself, not inherited), by name. */
async function topicOverrides(admin: Admin, topic: string): Promise<Map<string, string>> {
  const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
  const overrides = new Map<string, string>();
  for (const entry of described.resources[0]?.configEntries ?? []) {
    // configSource 1 = DYNAMIC_TOPIC_CONFIG: set on this topic.
    if (!entry.isDefault && entry.configSource === 1 && entry.configValue !== null) overrides.set(entry.configName, entry.configValue);
  }
  return overrides;
}

/**
 * Sets `retention.ms` of existing topics that have another value. Kafka's AlterConfigs replaces
 * a topic's overrides as a whole, so the other overrides are sent back with it unchanged.
 * Returns the topics altered.
 */
async function alignRetention(admin: Admin, topics: readonly string[], retentionMs: number): Promise<string[]> {
  const altered: string[] = [];
  for (const topic of topics) {
    const overrides = await topicOverrides(admin, topic);
    if (overrides.get('retention.ms') === String(retentionMs)) continue;
    overrides.set('retention.ms', String(retentionMs));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [...overrides].map(([name, value]) => ({ name, value })) }],
    });
    altered.push(topic);
  }
  return altered;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether every partition of `topics` has a leader that already leads. The metadata names a
 * leader as soon as the controller chose it, a moment before that broker takes the partition
 * on (KRaft publishes the metadata first): a produce in between is refused with
 * NOT_LEADER_OR_FOLLOWER. ListOffsets is answered by the leaders themselves, with that same
 * error until they lead, so offsets read from every partition mean the topics are writable.
 */
async function leadersReady(admin: Admin, topics: readonly string[]): Promise<boolean> {
  const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
  if (!meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return false;
  for (const topic of topics) await admin.fetchTopicOffsets(topic);
  return true;
}

/**
 * Waits until every partition of new topics has a leader that leads ({@link leadersReady}). On
 * several brokers the one asked may not know a topic the controller just created
 * (UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's own wait does not retry): that answer is waited
 * out too.
 */
async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await leadersReady(admin, topics)) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** A topic's metadata, asked again while a broker does not know the topic yet (see above). */
async function topicMetadata(admin: Admin, topic: string, timeoutMs = 30_000): ReturnType<Admin['fetchTopicMetadata']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await admin.fetchTopicMetadata({ topics: [topic] });
    } catch (err) {
      if (Date.now() > deadline || (err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
    }
    await sleep(100);
  }
}

/**
 * Creates the platform's topics if they do not exist, with `retention.ms` when the layout gives
 * one; existing topics keep their partitions and get that retention if theirs differs, so
 * calling it again is harmless. Throws {@link TopicLayoutError} when the events topic exists
 * with another partition count than configured: the speed layer places each user's keys by
 * partition, and readers find them by the configured count. Returns the existing topics whose
 * retention it changed.
 */
export async function ensureTopics(kafka: Kafka, topics: Topics, layout: TopicLayout): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const all = [
      { topic: topics.events, numPartitions: layout.eventPartitions },
      { topic: topics.deadLetters, numPartitions: 1 },
      { topic: topics.analytics, numPartitions: layout.eventPartitions },
      { topic: topics.bidding, numPartitions: layout.eventPartitions },
    ];
    const configEntries = [
      ...(layout.retentionMs === undefined ? [] : [{ name: 'retention.ms', value: String(layout.retentionMs) }]),
      ...(layout.minInsyncReplicas === undefined || layout.minInsyncReplicas === null ? [] : [{ name: 'min.insync.replicas', value: String(layout.minInsyncReplicas) }]),
    ];
    const wanted = all.filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) {
      await admin.createTopics({
        topics: wanted.map((t) => ({ ...t, replicationFactor: layout.replicationFactor ?? 1, configEntries })),
        waitForLeaders: false,
      });
      await waitForLeaders(admin, wanted.map((t) => t.topic));
    }
    const [events] = (await topicMetadata(admin, topics.events)).topics;
    const partitions = events?.partitions.length ?? 0;
    if (partitions !== layout.eventPartitions) throw new TopicLayoutError(topics.events, partitions, layout.eventPartitions);
    if (layout.retentionMs === undefined) return [];
    return await alignRetention(admin, all.filter((t) => existing.has(t.topic)).map((t) => t.topic), layout.retentionMs);
  } finally {
    await admin.disconnect();
  }
}

/** The `retention.ms` a topic has (its override, else the broker's default as Kafka reports it). */
export async function topicRetentionMs(kafka: Kafka, topic: string): Promise<number | null> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms'] }],
      includeSynonyms: false,
    });
    const value = described.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
    return value === undefined || value === null ? null : Number(value);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics (tests clean up their prefixed topics with it). */
export async function deleteTopics(kafka: Kafka, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

/** The layout the configuration asks for: partitions, replication and retention of the platform's topics. */
export function configuredTopicLayout(kafka: KafkaConfig, retentionMs: number): TopicLayout {
  return { eventPartitions: kafka.eventPartitions, retentionMs, replicationFactor: kafka.replicationFactor, minInsyncReplicas: kafka.minInsyncReplicas };
}

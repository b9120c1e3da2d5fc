import { ConfigResourceTypes, ConfigSources, type Admin } from '@platformatic/kafka';
import type { KafkaConfig } from '@sigflow/config';
import type { Topics } from '@sigflow/events';
import type { KafkaClient } from './client.js';
import { TopicLayoutError } from './errors.js';
import { partitionOffsets } from './topic-offsets.js';

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

/** Whether `err` (or one of the errors it gathers) is Kafka's error `id`, e.g. `TOPIC_ALREADY_EXISTS`. */
function isKafkaError(err: unknown, id: string): boolean {
  return (err as { findBy?: (property: string, value: unknown) => unknown }).findBy?.('apiId', id) != null;
}

/** A topic's config overrides (set on the topic itself, not inherited), by name. */
async function topicOverrides(admin: Admin, topic: string): Promise<Map<string, string>> {
  const [described] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }], includeSynonyms: false });
  const overrides = new Map<string, string>();
  for (const entry of described?.configs ?? []) {
    if (entry.configSource === ConfigSources.TOPIC_CONFIG && entry.value != null) overrides.set(entry.name, entry.value);
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
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [...overrides].map(([name, value]) => ({ name, value })) }],
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
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  const described = topics.map((t) => metadata.topics.get(t));
  if (!described.every((t) => t !== undefined && t.partitionsCount > 0 && t.partitions.every((p) => p.leader >= 0))) return false;
  for (const topic of topics) await partitionOffsets(admin, topic, 'latest');
  return true;
}

/**
 * Waits until every partition of new topics has a leader that leads ({@link leadersReady}). On
 * several brokers the one asked may not know a topic the controller just created
 * (UNKNOWN_TOPIC_OR_PARTITION): that answer is waited out too.
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

/** A topic's partition count, asked again while a broker does not know the topic yet (see above). */
export async function partitionCount(admin: Admin, topic: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      return metadata.topics.get(topic)?.partitionsCount ?? 0;
    } catch (err) {
      // The client names a topic the broker does not know "Unknown topic <name>." (a UserError).
      if (Date.now() > deadline || !(isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION') || /^Unknown topic /.test((err as Error).message))) throw err;
    }
    await sleep(100);
  }
}

/** Creates one topic; another process creating it at the same moment is no error. */
async function createTopic(admin: Admin, topic: string, partitions: number, replicas: number, configs: readonly { name: string; value: string }[]): Promise<void> {
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas, configs: [...configs] });
  } catch (err) {
    if (!isKafkaError(err, 'TOPIC_ALREADY_EXISTS')) throw err;
  }
}

/**
 * Creates the platform's topics if they do not exist, with `retention.ms` when the layout gives
 * one (the ops topic is compacted instead, without a time limit); existing topics keep their
 * partitions and get that retention if theirs differs, so
 * calling it again is harmless. Throws {@link TopicLayoutError} when the events topic exists
 * with another partition count than `layout` says: the speed layer places each user's keys by
 * partition, and readers find them by that count (services take an existing topic's count
 * first: `adoptEventPartitions`). Returns the existing topics whose retention it changed.
 */
export function ensureTopics(kafka: KafkaClient, topics: Topics, layout: TopicLayout): Promise<string[]> {
  return kafka.withAdmin(async (admin) => {
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
    // The ops topic: compacted (the latest record of each key stays), no time limit.
    const ops = { topic: topics.ops, numPartitions: 1 };
    const opsEntries = [{ name: 'cleanup.policy', value: 'compact' }, ...configEntries.filter((e) => e.name !== 'retention.ms')];
    const wanted = [...all, ops].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) {
      await Promise.all(wanted.map((t) => createTopic(admin, t.topic, t.numPartitions, layout.replicationFactor ?? 1, t === ops ? opsEntries : configEntries)));
      await waitForLeaders(admin, wanted.map((t) => t.topic));
    }
    const partitions = await partitionCount(admin, topics.events);
    if (partitions !== layout.eventPartitions) throw new TopicLayoutError(topics.events, partitions, layout.eventPartitions);
    if (layout.retentionMs === undefined) return [];
    return await alignRetention(admin, all.filter((t) => existing.has(t.topic)).map((t) => t.topic), layout.retentionMs);
  });
}

/** The `retention.ms` a topic has (its override, else the broker's default as Kafka reports it). */
export function topicRetentionMs(kafka: KafkaClient, topic: string): Promise<number | null> {
  return kafka.withAdmin(async (admin) => {
    const [described] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['retention.ms'] }],
      includeSynonyms: false,
    });
    const value = described?.configs.find((e) => e.name === 'retention.ms')?.value;
    return value === undefined || value === null ? null : Number(value);
  });
}

/** Deletes topics (tests clean up their prefixed topics with it). */
export function deleteTopics(kafka: KafkaClient, names: string[]): Promise<void> {
  return kafka.withAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  });
}

/** The layout the configuration asks for: partitions, replication and retention of the platform's topics. */
export function configuredTopicLayout(kafka: KafkaConfig, retentionMs: number): TopicLayout {
  return { eventPartitions: kafka.eventPartitions, retentionMs, replicationFactor: kafka.replicationFactor, minInsyncReplicas: kafka.minInsyncReplicas };
}

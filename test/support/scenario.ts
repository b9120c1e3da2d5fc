import { randomUUID } from 'node:crypto';
import { type RedisClient, createRedis, StoreKeys, getKeys } from '@sigflow/store';
import { speedKeyspace } from '@sigflow/store/batch';
import { speedPartitions, type WindowViewKeyspace } from '@sigflow/store/views';
import { loadConfig, type SigflowConfig } from '@sigflow/config';
import { topicsFor, userPartition, type Topics } from '@sigflow/events';
import { committedOffsets, configuredTopicLayout, createKafka, deleteTopics, ensureTopics, topicOffsets, type KafkaClient } from '@sigflow/kafka';
import { freePort } from '../../infra/lib/process.mjs';
import { KafkaSink, type KafkaSinkOptions } from '@sigflow/loadgen';
import { deleteByPrefix } from './redis-keys.js';
import { repoRoot, ServiceProcess } from './services.js';

/**
 * For suites about what the API and the collector answer, not about their processes: one
 * process each instead of one per core. On 2 cores an API of 2 workers took 6.7 CPU-seconds to
 * start against 3.1 for one. Their process clusters are tested by services/api/test/cluster.test.ts,
 * services/collector/test/cluster.test.ts and the fault suites, which run the shipped count.
 */
export const oneServerProcess: Readonly<Record<string, string>> = { SIGFLOW_API_PROCESSES: '1', SIGFLOW_COLLECTOR_PROCESSES: '1' };

/** No batch job on a schedule (a date that never comes): the suite runs its jobs itself. */
export const batchJobsOnDemand: Readonly<Record<string, string>> = {
  SIGFLOW_BATCH_RECOMPUTE_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_RETRAIN_EVERY: '0 0 1 1 *',
  SIGFLOW_BATCH_RETENTION_EVERY: '0 0 1 1 *',
};

/**
 * One isolated run of the platform on the shared broker and Redis: its own topic prefix,
 * key prefix and consumer groups, so suites never see each other's data.
 */
export class Scenario {
  readonly id = randomUUID().slice(0, 8);
  readonly env: Record<string, string>;
  readonly config: SigflowConfig;
  readonly kafka: KafkaClient;
  readonly redis: RedisClient;
  readonly keys: StoreKeys;
  readonly topics: Topics;
  /** The checkout its service processes run from (an earlier release's worktree, for the upgrade test). */
  root = repoRoot;
  private readonly services: ServiceProcess[] = [];

  constructor(name: string, extraEnv: Record<string, string> = {}) {
    const prefix = `t-${name}-${this.id}`;
    this.env = {
      SIGFLOW_TOPIC_PREFIX: `${prefix}-`,
      SIGFLOW_REDIS_PREFIX: prefix,
      SIGFLOW_SPEED_GROUP: `${prefix}-speed`,
      SIGFLOW_ARCHIVER_GROUP: `${prefix}-archiver`,
      SIGFLOW_EVENT_PARTITIONS: '4',
      ...extraEnv,
    };
    this.config = loadConfig({ ...process.env, ...this.env });
    this.kafka = createKafka(this.config.kafka);
    this.redis = createRedis(this.config.redis);
    this.keys = new StoreKeys(this.config.redis.keyPrefix);
    this.topics = topicsFor(this.config.kafka.topicPrefix);
  }

  async setUp(): Promise<void> {
    await ensureTopics(this.kafka, this.topics, configuredTopicLayout(this.config.kafka, this.config.limits.retentionMs));
  }

  /**
   * A speed layer process of this scenario (not started). Its static group membership id is its
   * name: started again after a kill, it takes its partitions back at once.
   */
  async speed(name = 'speed', extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const env = { ...this.env, SIGFLOW_SPEED_METRICS_PORT: String(port), SIGFLOW_SPEED_INSTANCE_ID: `${name}-${this.id}`, ...extraEnv };
    const service = new ServiceProcess(`${name}-${this.id}`, 'services/speed/dist/main.js', env, port, this.root);
    this.services.push(service);
    return service;
  }

  /**
   * An archiver process of this scenario writing to `archiveDir` (not started). Like the speed
   * layer, its static group membership id is its name: restarted, it takes its partitions back.
   */
  async archiver(archiveDir: string, name = 'archiver'): Promise<ServiceProcess> {
    const port = await freePort();
    const service = new ServiceProcess(
      `${name}-${this.id}`,
      'services/archiver/dist/main.js',
      { ...this.env, SIGFLOW_ARCHIVE_DIR: archiveDir, SIGFLOW_ARCHIVER_FLUSH_MS: '500', SIGFLOW_ARCHIVER_METRICS_PORT: String(port), SIGFLOW_ARCHIVER_INSTANCE_ID: `${name}-${this.id}` },
      port,
      this.root,
    );
    this.services.push(service);
    return service;
  }

  /** A collector process of this scenario (not started); its probes are on its HTTP port. */
  async collector(name = 'collector', env: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const service = new ServiceProcess(`${name}-${this.id}`, 'services/collector/dist/main.js', { ...this.env, SIGFLOW_COLLECTOR_PORT: String(port), ...env }, port, this.root);
    this.services.push(service);
    return service;
  }

  /** A serving API process of this scenario (not started), with the ops key `k`. */
  async api(name = 'api', env: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const service = new ServiceProcess(`${name}-${this.id}`, 'services/api/dist/main.js', { SIGFLOW_API_KEYS: 'k:ops', ...this.env, SIGFLOW_API_PORT: String(port), ...env }, port, this.root);
    this.services.push(service);
    return service;
  }

  /** A bidding service process of this scenario (not started); its lease is held under its name. */
  async bidding(name = 'bidding', env: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const service = new ServiceProcess(
      `${name}-${this.id}`,
      'services/bidding/dist/main.js',
      { ...this.env, SIGFLOW_BIDDING_METRICS_PORT: String(port), SIGFLOW_BIDDING_INSTANCE_ID: `${name}-${this.id}`, ...env },
      port,
      this.root,
    );
    this.services.push(service);
    return service;
  }

  /** An alerts service process of this scenario (not started). */
  async alerts(name = 'alerts', env: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const service = new ServiceProcess(`${name}-${this.id}`, 'services/alerts/dist/main.js', { ...this.env, SIGFLOW_ALERTS_METRICS_PORT: String(port), ...env }, port, this.root);
    this.services.push(service);
    return service;
  }

  /** A batch worker process of this scenario reading `archiveDir` (not started). */
  async batchWorker(archiveDir: string, name = 'batch', env: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const service = new ServiceProcess(
      `${name}-${this.id}`,
      'jobs/batch/dist/main.js',
      { ...this.env, SIGFLOW_ARCHIVE_DIR: archiveDir, SIGFLOW_BATCH_METRICS_PORT: String(port), ...env },
      port,
      this.root,
    );
    this.services.push(service);
    return service;
  }

  /**
   * A generator sink into this scenario's events topic (not connected) with one producer thread:
   * a suite's rates need no more, and each thread takes 1.6 CPU-seconds to start.
   */
  kafkaSink(options: Partial<KafkaSinkOptions> = {}): KafkaSink {
    return new KafkaSink({ brokers: this.config.kafka.brokers, topic: this.topics.events, partitions: this.config.kafka.eventPartitions, workers: 1, ...options });
  }

  /** The partitions of the events topic. */
  get partitions(): number[] {
    return speedPartitions(this.config.kafka.eventPartitions);
  }

  /** The speed layer's running counters, summed over its partitions. */
  async speedCounters(): Promise<Record<string, number>> {
    const sums: Record<string, number> = {};
    for (const hash of await Promise.all(this.partitions.map((p) => this.redis.hgetall(this.keys.speedCounters(p))))) {
      for (const [f, v] of Object.entries(hash)) sums[f] = (sums[f] ?? 0) + Number(v);
    }
    return sums;
  }

  /** The next offset the speed layer stored per partition (0 where none). */
  async speedOffsets(): Promise<number[]> {
    return (await getKeys(this.redis, this.partitions.map((p) => this.keys.speedOffset(p)))).map((o) => Number(o ?? 0));
  }

  /** Messages of the events topic the speed layer has not committed yet. */
  async speedLag(): Promise<number> {
    const high = await topicOffsets(this.kafka, this.topics.events, 'latest');
    const stored = await this.speedOffsets();
    return [...high].reduce((sum, [partition, end]) => sum + Math.max(0, end - (stored[partition] ?? 0)), 0);
  }

  /** The key of a user's signal list (in its Kafka partition's keyspace). */
  signalsKey(userId: string): string {
    return this.keys.signals(userPartition(userId, this.config.kafka.eventPartitions), userId);
  }

  /** The speed layer's view keyspaces, one per partition (readers sum them). */
  speedKeyspaces(): WindowViewKeyspace[] {
    return this.partitions.map((p) => speedKeyspace(this.keys, p));
  }

  /** Messages of the events topic that consumer group `groupId` has not committed yet. */
  async groupLag(groupId: string): Promise<number> {
    const high = await topicOffsets(this.kafka, this.topics.events, 'latest');
    const at = await committedOffsets(this.kafka, groupId, this.topics.events);
    return [...high].reduce((sum, [partition, end]) => sum + end - Math.max(0, at.get(partition) ?? 0), 0);
  }

  async tearDown(): Promise<void> {
    for (const s of this.services) await s.stop();
    await deleteTopics(this.kafka, Object.values(this.topics)).catch(() => undefined);
    await deleteByPrefix(this.redis, this.config.redis.keyPrefix);
    this.redis.disconnect();
  }
}

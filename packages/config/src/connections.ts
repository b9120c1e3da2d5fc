import { ConfigError, type EnvReader } from './env.js';

/** SASL mechanisms the Kafka client can authenticate with. */
export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** SASL credentials for Kafka (managed services: SCRAM over TLS). */
export interface KafkaSaslConfig {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  readonly password: string;
}

/** Kafka connection and topic naming. */
export interface KafkaConfig {
  /** Bootstrap brokers, `host:port`, comma-separated (`SIGFLOW_KAFKA_BROKERS`, 127.0.0.1:9092); list several on a multi-broker cluster. */
  readonly brokers: string[];
  readonly clientId: string;
  /** Prefixed to every topic name; tests use a unique prefix per run. */
  readonly topicPrefix: string;
  /**
   * Partitions of `events.v1` (`SIGFLOW_EVENT_PARTITIONS`, 16): the count the project creates the
   * topic with. A service started on an existing topic takes the topic's count instead
   * (`adoptEventPartitions` in `@sigflow/kafka`), unless the variable was set to another.
   */
  readonly eventPartitions: number;
  /** Whether `SIGFLOW_EVENT_PARTITIONS` was set (then an existing topic with another count stops the start). */
  readonly eventPartitionsSet: boolean;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Replicas of each topic the project creates (`SIGFLOW_KAFKA_REPLICATION_FACTOR`, 1; 3 on a cluster). */
  readonly replicationFactor: number;
  /**
   * `min.insync.replicas` of each topic the project creates (`SIGFLOW_KAFKA_MIN_INSYNC_REPLICAS`,
   * default: the broker's). Producers send with acks=all, so a write is acknowledged once this
   * many replicas have it.
   */
  readonly minInsyncReplicas: number | null;
  /** Connect with TLS (`SIGFLOW_KAFKA_SSL`, false). */
  readonly ssl: boolean;
  /** PEM file of the CA that signed the brokers' certificates (`SIGFLOW_KAFKA_SSL_CA_FILE`, default: the system's CAs). */
  readonly sslCaFile: string;
  /**
   * SASL authentication (`SIGFLOW_KAFKA_SASL_MECHANISM` plain | scram-sha-256 | scram-sha-512,
   * `SIGFLOW_KAFKA_SASL_USERNAME`, `SIGFLOW_KAFKA_SASL_PASSWORD`); null (the default) when no
   * mechanism is set.
   */
  readonly sasl: KafkaSaslConfig | null;
}

/** Redis connection: one server by URL, or a Redis Cluster by its nodes. */
export interface RedisConfig {
  /** One Redis server (`SIGFLOW_REDIS_URL`, redis://127.0.0.1:6379; `rediss://` for TLS; may carry user and password). */
  readonly url: string;
  /** Prefixed to every key; tests use a unique prefix per run. */
  readonly keyPrefix: string;
  /**
   * Seed nodes of a Redis Cluster, `host:port`, comma-separated (`SIGFLOW_REDIS_CLUSTER_NODES`,
   * default none). When set, every client is a cluster client and `SIGFLOW_REDIS_URL` is unused
   * except for its credentials and TLS scheme.
   */
  readonly clusterNodes: string[];
  /** ACL user (`SIGFLOW_REDIS_USERNAME`, default: the URL's user, else the `default` user). */
  readonly username: string;
  /** Password (`SIGFLOW_REDIS_PASSWORD`, default: the URL's password, else none). */
  readonly password: string;
  /** Connect with TLS (`SIGFLOW_REDIS_TLS`, default: true for a `rediss://` URL, else false). */
  readonly tls: boolean;
  /** PEM file of the CA that signed the servers' certificates (`SIGFLOW_REDIS_TLS_CA_FILE`, default: the system's CAs). */
  readonly tlsCaFile: string;
}

const saslMechanisms: readonly (KafkaSaslMechanism | '')[] = ['', 'plain', 'scram-sha-256', 'scram-sha-512'];

function kafkaSasl(r: EnvReader): KafkaSaslConfig | null {
  const mechanism = r.oneOf('SIGFLOW_KAFKA_SASL_MECHANISM', '', saslMechanisms);
  const username = r.string('SIGFLOW_KAFKA_SASL_USERNAME', '');
  const password = r.string('SIGFLOW_KAFKA_SASL_PASSWORD', '');
  if (mechanism === '') return null;
  if (username === '' || password === '') throw new ConfigError('SIGFLOW_KAFKA_SASL_MECHANISM', 'needs SIGFLOW_KAFKA_SASL_USERNAME and SIGFLOW_KAFKA_SASL_PASSWORD');
  return { mechanism, username, password };
}

/**
 * Partitions of a new events topic: room for 16 speed and 16 archiver instances (a topic's count
 * cannot grow without moving keyed state). On one machine 16 cost about a fifth of 4's catch-up
 * pace (README, "How many partitions").
 */
export const DEFAULT_EVENT_PARTITIONS = 16;

/** Reads the Kafka connection settings. */
export function kafkaConfig(r: EnvReader): KafkaConfig {
  const replicationFactor = r.int('SIGFLOW_KAFKA_REPLICATION_FACTOR', 1, 1, 32);
  const minInsync = r.int('SIGFLOW_KAFKA_MIN_INSYNC_REPLICAS', 0, 0, 32);
  if (minInsync > replicationFactor) throw new ConfigError('SIGFLOW_KAFKA_MIN_INSYNC_REPLICAS', `must not exceed SIGFLOW_KAFKA_REPLICATION_FACTOR (${replicationFactor})`);
  return {
    brokers: r.list('SIGFLOW_KAFKA_BROKERS', ['127.0.0.1:9092']),
    clientId: r.string('SIGFLOW_KAFKA_CLIENT_ID', 'sigflow'),
    topicPrefix: r.string('SIGFLOW_TOPIC_PREFIX', ''),
    eventPartitions: r.int('SIGFLOW_EVENT_PARTITIONS', DEFAULT_EVENT_PARTITIONS, 1, 1024),
    eventPartitionsSet: r.has('SIGFLOW_EVENT_PARTITIONS'),
    connectionTimeoutMs: r.int('SIGFLOW_KAFKA_CONNECTION_TIMEOUT_MS', 3_000, 100),
    requestTimeoutMs: r.int('SIGFLOW_KAFKA_REQUEST_TIMEOUT_MS', 30_000, 100),
    replicationFactor,
    minInsyncReplicas: minInsync === 0 ? null : minInsync,
    ssl: r.bool('SIGFLOW_KAFKA_SSL', false),
    sslCaFile: r.string('SIGFLOW_KAFKA_SSL_CA_FILE', ''),
    sasl: kafkaSasl(r),
  };
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (err) {
    throw new ConfigError('SIGFLOW_REDIS_URL', `not a URL: ${(err as Error).message}`);
  }
}

/** Reads the Redis connection settings; the URL's user, password and scheme are the defaults. */
export function redisConfig(r: EnvReader): RedisConfig {
  const url = r.string('SIGFLOW_REDIS_URL', 'redis://127.0.0.1:6379');
  const parsed = parseUrl(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new ConfigError('SIGFLOW_REDIS_URL', `expected redis:// or rediss://, got ${parsed.protocol}`);
  const clusterNodes = r.list('SIGFLOW_REDIS_CLUSTER_NODES', []);
  for (const node of clusterNodes) {
    if (!/^[^:\s]+:\d{1,5}$/.test(node)) throw new ConfigError('SIGFLOW_REDIS_CLUSTER_NODES', `expected host:port, got "${node}"`);
  }
  return {
    url,
    keyPrefix: r.string('SIGFLOW_REDIS_PREFIX', 'sigflow'),
    clusterNodes,
    username: r.string('SIGFLOW_REDIS_USERNAME', decodeURIComponent(parsed.username)),
    password: r.string('SIGFLOW_REDIS_PASSWORD', decodeURIComponent(parsed.password)),
    tls: r.bool('SIGFLOW_REDIS_TLS', parsed.protocol === 'rediss:'),
    tlsCaFile: r.string('SIGFLOW_REDIS_TLS_CA_FILE', ''),
  };
}

// `npm run infra:cluster`: a 3-master Redis Cluster (one replica each, ACL user and password) and a
// 3-node Kafka (KRaft, replication factor 3, min.insync.replicas 2), on spare ports beside the
// single-node Redis and Kafka, which it leaves alone. Idempotent: what already runs is used.
// Writes the settings that point the platform at it to var/cluster/cluster.env.
import '../../scripts/runtime.mjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { varDir, runningPid } from '../lib/process.mjs';
import { kafkaClusterNodes, kafkaClusterReplication, kafkaNodeDir, startKafkaCluster } from './kafka-cluster.mjs';
import { redisClusterPorts, redisNodeLayout, startRedisCluster } from './redis-cluster.mjs';

/** Pid files, data, logs and the settings file of the local cluster. */
export const clusterDir = path.join(varDir, 'cluster');
export const clusterEnvFile = path.join(clusterDir, 'cluster.env');

function anyRunning() {
  const redis = redisClusterPorts.some((p) => runningPid(redisNodeLayout(path.join(clusterDir, 'redis'), p).pidFile, 'redis-server') !== undefined);
  const kafka = kafkaClusterNodes.some((n) => runningPid(path.join(kafkaNodeDir(clusterDir, n.nodeId), 'kafka.pid'), 'kafka.Kafka') !== undefined);
  return redis || kafka;
}

/** The settings of the cluster (`SIGFLOW_*` names the platform's configuration reads). */
function clusterEnv(password) {
  return {
    SIGFLOW_REDIS_CLUSTER_NODES: redisClusterPorts.slice(0, 3).map((p) => `127.0.0.1:${p}`).join(','),
    SIGFLOW_REDIS_USERNAME: 'sigflow',
    SIGFLOW_REDIS_PASSWORD: password,
    SIGFLOW_KAFKA_BROKERS: kafkaClusterNodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    SIGFLOW_KAFKA_REPLICATION_FACTOR: String(kafkaClusterReplication.replicationFactor),
    SIGFLOW_KAFKA_MIN_INSYNC_REPLICAS: String(kafkaClusterReplication.minInsyncReplicas),
  };
}

/** Reads var/cluster/cluster.env (KEY=value lines). */
export function readClusterEnv() {
  const lines = fs.readFileSync(clusterEnvFile, 'utf8').split('\n');
  return Object.fromEntries(lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/**
 * Starts (or reuses) the cluster and creates the platform's topics on it. When nothing of it
 * runs, it starts from empty folders with a new Redis password.
 * @returns {Promise<Record<string, string>>} the settings (also in var/cluster/cluster.env)
 */
export async function clusterUp({ log = console.error } = {}) {
  if (!anyRunning() || !fs.existsSync(clusterEnvFile)) {
    fs.rmSync(clusterDir, { recursive: true, force: true });
    fs.mkdirSync(clusterDir, { recursive: true });
    const env = clusterEnv(crypto.randomBytes(18).toString('base64url'));
    fs.writeFileSync(clusterEnvFile, `${Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n')}\n`, { mode: 0o600 });
  }
  const env = readClusterEnv();
  const auth = { user: env.SIGFLOW_REDIS_USERNAME, password: env.SIGFLOW_REDIS_PASSWORD };
  const [redis, kafka] = await Promise.all([
    startRedisCluster({ dir: path.join(clusterDir, 'redis'), auth, log }),
    startKafkaCluster({ dir: clusterDir, log }),
  ]);
  const { loadConfig } = await import('@sigflow/config');
  const { adoptEventPartitions, configuredTopicLayout, createKafka, ensureTopics } = await import('@sigflow/kafka');
  const { topicsFor } = await import('@sigflow/events');
  const config = loadConfig({ ...process.env, ...env });
  const client = createKafka(config.kafka, { retries: 10 });
  const sink = { error: (_o, m) => log(m), warn: (_o, m) => log(m), info: (_o, m) => log(m), debug: () => undefined };
  const adopted = await adoptEventPartitions(client, config, sink);
  await ensureTopics(client, topicsFor(config.kafka.topicPrefix), configuredTopicLayout(adopted.kafka, config.limits.retentionMs));
  log(`Redis Cluster ${redis.ports.map((p) => `127.0.0.1:${p}`).join(',')}; Kafka ${kafka.brokers.join(',')}`);
  return env;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await clusterUp();
  console.log(`settings in ${path.relative(process.cwd(), clusterEnvFile)} (for example: set -a; . ${path.relative(process.cwd(), clusterEnvFile)}; set +a)`);
}

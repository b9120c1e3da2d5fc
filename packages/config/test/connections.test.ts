import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/index.js';

describe('connection settings (Kafka and Redis, single node or cluster)', () => {
  it('defaults to one broker and one Redis without credentials, TLS or SASL', () => {
    const { kafka, redis } = loadConfig({});
    expect([kafka.replicationFactor, kafka.minInsyncReplicas, kafka.ssl, kafka.sasl]).toEqual([1, null, false, null]);
    expect([redis.clusterNodes, redis.username, redis.password, redis.tls]).toEqual([[], '', '', false]);
  });

  it('reads a Redis Cluster, its ACL user and password, over the URL credentials', () => {
    const { redis } = loadConfig({
      SIGFLOW_REDIS_URL: 'rediss://urluser:url%40pass@cache.example.net:6380',
      SIGFLOW_REDIS_CLUSTER_NODES: 'a.example.net:7000, b.example.net:7001',
      SIGFLOW_REDIS_PASSWORD: 'secret',
    });
    expect(redis.clusterNodes).toEqual(['a.example.net:7000', 'b.example.net:7001']);
    // The user comes from the URL (decoded), the password from its own setting; rediss:// means TLS.
    expect([redis.username, redis.password, redis.tls]).toEqual(['urluser', 'secret', true]);
    expect(loadConfig({ SIGFLOW_REDIS_URL: 'redis://:p%3Aw@h:1' }).redis.password).toBe('p:w');
  });

  it('reads several brokers, replication and SASL/SCRAM over TLS', () => {
    const { kafka } = loadConfig({
      SIGFLOW_KAFKA_BROKERS: 'k1:9096,k2:9096,k3:9096',
      SIGFLOW_KAFKA_REPLICATION_FACTOR: '3',
      SIGFLOW_KAFKA_MIN_INSYNC_REPLICAS: '2',
      SIGFLOW_KAFKA_SSL: 'true',
      SIGFLOW_KAFKA_SASL_MECHANISM: 'scram-sha-512',
      SIGFLOW_KAFKA_SASL_USERNAME: 'u',
      SIGFLOW_KAFKA_SASL_PASSWORD: 'p',
    });
    expect(kafka.brokers).toHaveLength(3);
    expect([kafka.replicationFactor, kafka.minInsyncReplicas, kafka.ssl]).toEqual([3, 2, true]);
    expect(kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
  });

  it.each([
    [{ SIGFLOW_REDIS_CLUSTER_NODES: 'a:1,nohost' }, /SIGFLOW_REDIS_CLUSTER_NODES: expected host:port, got "nohost"/],
    [{ SIGFLOW_REDIS_URL: 'http://h:1' }, /SIGFLOW_REDIS_URL: expected redis:\/\/ or rediss:\/\//],
    [{ SIGFLOW_KAFKA_SASL_MECHANISM: 'scram-sha-256' }, /needs SIGFLOW_KAFKA_SASL_USERNAME and SIGFLOW_KAFKA_SASL_PASSWORD/],
    [{ SIGFLOW_KAFKA_SASL_MECHANISM: 'gssapi', SIGFLOW_KAFKA_SASL_USERNAME: 'u', SIGFLOW_KAFKA_SASL_PASSWORD: 'p' }, /SIGFLOW_KAFKA_SASL_MECHANISM: expected one of/],
    [{ SIGFLOW_KAFKA_MIN_INSYNC_REPLICAS: '2' }, /must not exceed SIGFLOW_KAFKA_REPLICATION_FACTOR \(1\)/],
  ])('names the variable of an unusable value (%o)', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

// Brings up what the platform needs on this machine: Redis, a Kafka broker and the topics, and
// S3Proxy when the archive is in a bucket of a local endpoint (SIGFLOW_ARCHIVE_URL).
// Idempotent: whatever already runs is used as it is. Run after `npm install` and the build.
import '../scripts/runtime.mjs';
import { startKafkaBroker } from './kafka/broker.mjs';
import { ensureRedis } from './redis/redis.mjs';
import { ensureLocalS3 } from './s3proxy/s3proxy.mjs';
import { portAnswers } from './lib/process.mjs';

function localPort(address, fallback) {
  const m = /^(?:127\.0\.0\.1|localhost):(\d+)$/.exec(address ?? '');
  return m ? Number(m[1]) : address === undefined ? fallback : undefined;
}

/** Ensures Redis, Kafka, the topics and a local S3 of the archive; returns where they run. */
export async function infraUp({ log = console.error } = {}) {
  const { loadConfig } = await import('@sigflow/config');
  const config = loadConfig();
  const redisPort = Number(new URL(config.redis.url).port || 6379);
  const redis = await ensureRedis({ port: redisPort, log });

  const kafkaPort = localPort(config.kafka.brokers[0], 9092);
  let kafka = { started: false, port: kafkaPort };
  if (kafkaPort !== undefined && !(await portAnswers(kafkaPort))) {
    kafka = await startKafkaBroker({ port: kafkaPort, controllerPort: kafkaPort + 1, log });
  }
  const { adoptEventPartitions, configuredTopicLayout, createKafka, ensureTopics } = await import('@sigflow/kafka');
  const { topicsFor } = await import('@sigflow/events');
  const topics = topicsFor(config.kafka.topicPrefix);
  const client = createKafka(config.kafka, { retries: 10 });
  // Topics made with an earlier default keep their partition count (the services adopt it too).
  const sink = { error: (_o, m) => log(m), warn: (_o, m) => log(m), info: (_o, m) => log(m), debug: () => undefined };
  const adopted = await adoptEventPartitions(client, config, sink);
  await ensureTopics(client, topics, configuredTopicLayout(adopted.kafka, config.limits.retentionMs));
  const s3 = await ensureLocalS3(config.archive.s3, { log });
  return { redis, kafka, s3, topics, brokers: config.kafka.brokers, redisUrl: config.redis.url, archive: config.archive.s3 ? `s3://${config.archive.s3.bucket}/${config.archive.s3.prefix}` : config.archiver.dir };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const up = await infraUp();
  console.log(
    `Redis ${up.redisUrl}${up.redis.started ? ' (started)' : ''}; Kafka ${up.brokers.join(',')}${
      up.kafka.started ? ` (started, pid ${up.kafka.pid})` : ''
    }; topics ${Object.values(up.topics).join(', ')}`,
  );
}

import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, ensureTopics, EventProducer, KafkaProbe } from '@sigflow/kafka';
import { createLogger, onShutdown } from '@sigflow/observability';
import { buildCollector } from './app.js';

const config = loadConfig();
const logger = createLogger('collector', config.logLevel);
const kafka = createKafka(config.kafka, { clientId: 'sigflow-collector', log: logger });
const topics = topicsFor(config.kafka.topicPrefix);
await ensureTopics(kafka, topics, { eventPartitions: config.kafka.eventPartitions });

const producer = new EventProducer(kafka, topics.events, { idempotent: true, timeoutMs: config.collector.produceTimeoutMs });
await producer.connect();
const probe = new KafkaProbe(kafka);
const app = await buildCollector({ config, sink: producer, kafkaReady: () => probe.reachable(), logger });
await app.listen({ host: config.collector.host, port: config.collector.port });
logger.info({ topic: topics.events, port: config.collector.port }, 'collector listening');

onShutdown(logger, async () => {
  await app.close();
  await producer.disconnect();
  await probe.close();
});

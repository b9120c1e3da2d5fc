// The clients on the event data path, on @platformatic/kafka: the collector's producer and the
// partition consumer of the speed layer and the archiver. A face of their own
// (`@sigflow/kafka/data-path`): loading @platformatic/kafka takes 0.65 s of CPU, which the
// processes that only use kafkajs (the API, the batch worker, bidding, alerts, the collector's
// cluster primary) no longer pay when they start.
export { IngestProducer } from './ingest-producer.js';
export type { IngestProducerOptions } from './ingest-producer.js';
export { PartitionConsumer } from './partition-consumer.js';
export type { PartitionBatch, PartitionHandler, PartitionConsumerOptions } from './partition-consumer.js';
export { fixTaggedFieldsReader } from './tagged-fields.js';
export { connectionSecurity } from './connection-security.js';
export type { ConnectionSecurity } from './connection-security.js';

export { createKafka } from './client.js';
export type { KafkaClientOptions, KafkaLogSink } from './client.js';
export { ensureTopics, deleteTopics } from './topics.js';
export type { TopicLayout } from './topics.js';
export { EventProducer } from './event-producer.js';
export type { EventMessage, EventProducerOptions } from './event-producer.js';
export { partitionOf } from './partitioner.js';
export { KafkaUnavailableError } from './errors.js';
export { KafkaProbe } from './kafka-probe.js';

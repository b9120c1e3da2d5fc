// The consumer on the event data path: the partition consumer of the speed layer and the
// archiver, with what it installs in `@platformatic/kafka` (answers parsed from one buffer,
// `contiguous-responses.ts`), and what the generator's producer threads need of this package.
// A face of its own (`@sigflow/kafka/data-path`), so processes that only produce or administer
// (the API, the batch worker, bidding) do not load the consumer.
export { PartitionConsumer } from './partition-consumer.js';
export type { PartitionFetch, PartitionHandler, PartitionConsumerOptions, RoundAnswer } from './partition-consumer.js';
export { fixTaggedFieldsReader } from './tagged-fields.js';
export { connectionSecurity } from './connection-security.js';
export type { ConnectionSecurity } from './connection-security.js';
export { recordValuesAsFetched } from './record-batch.js';

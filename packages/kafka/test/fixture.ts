import { randomUUID } from 'node:crypto';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka } from '../src/index.js';

/** Configuration, a client and topic names with a prefix of their own, for one suite. */
export function suiteKafka(name: string) {
  const config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `t-${name}-${randomUUID().slice(0, 8)}-` });
  return { config, kafka: createKafka(config.kafka), topics: topicsFor(config.kafka.topicPrefix) };
}

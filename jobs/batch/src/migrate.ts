import type { SigflowConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { adoptEventPartitions, configuredTopicLayout, createKafka, ensureTopics } from '@sigflow/kafka';
import { createLogger } from '@sigflow/observability';
import { OpsLog } from '@sigflow/ops-log';
import { type RedisClient, StoreKeys, StoreLayoutError } from '@sigflow/store';
import { readStoreMarker, storeLayoutVersion } from '@sigflow/store/ops';
import type { CliOutput } from './cli-views.js';

/**
 * `npm run jobs -- migrate` (`npm start` runs it first): brings what an earlier release left to
 * this release's layout, before its services start (CHANGELOG.md says which release needs
 * what). Each step is one the services would also take at start, taken once here so that none
 * of them mistakes an upgrade for a loss:
 * - the events topic keeps its partition count (`adoptEventPartitions`), and the topics this
 *   release adds are created (the ops topic, v0.2.0);
 * - the store: a layout written by a newer release is refused, nothing changed; a store marked at
 *   layout 1 gets its marker's copies; a store never marked (v0.1.0, decisions in Redis only)
 *   has every decision and tombstone appended to the ops topic, then is marked.
 * Killed midway, it runs again from the start: the marker is written last, and the decisions
 * the topic already holds are not appended twice.
 */
export async function migrate(config: SigflowConfig, redis: RedisClient, out: CliOutput): Promise<number> {
  // Its own lines say what it did; the services' start-up warnings (an adopted count, a store without
  // its marker) would repeat them in their words.
  const logger = createLogger('jobs-migrate', 'error');
  const keys = new StoreKeys(config.redis.keyPrefix);
  let before;
  try {
    before = await readStoreMarker(redis, keys);
  } catch (err) {
    if (!(err instanceof StoreLayoutError)) throw err;
    out.error(err.message);
    return 1;
  }
  const kafka = createKafka(config.kafka, { clientId: 'sigflow-migrate', log: logger });
  const adopted = await adoptEventPartitions(kafka, config, logger);
  const topics = topicsFor(config.kafka.topicPrefix);
  await ensureTopics(kafka, topics, configuredTopicLayout(adopted.kafka, config.limits.retentionMs));
  out.log(`topics: ${topics.events} has ${adopted.kafka.eventPartitions} partitions${adopted === config ? '' : ` (kept; SIGFLOW_EVENT_PARTITIONS says ${config.kafka.eventPartitions} for a new topic)`}`);
  const ops = new OpsLog({ config: adopted, redis, logger });
  try {
    await ops.checkStore();
  } finally {
    await ops.close();
  }
  const after = await readStoreMarker(redis, keys);
  const was = before === null ? 'not marked (a release before v0.2.0, or a new store)' : `layout ${before.layout}`;
  out.log(`store ${keys.storeMarker()}: ${was} -> layout ${after?.layout ?? '?'} (this release's: ${storeLayoutVersion})`);
  return after?.layout === storeLayoutVersion ? 0 : 1;
}

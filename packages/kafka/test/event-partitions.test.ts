// A service started on an existing events topic reads user keys by that topic's partition count:
// the configured count (SIGFLOW_EVENT_PARTITIONS or its default) is what a new topic is created
// with. A count set explicitly that the topic does not have stops the start.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_PARTITIONS, loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { adoptEventPartitions, createKafka, deleteTopics, ensureTopics, TopicLayoutError } from '../src/index.js';

const logged: string[] = [];
const log = { error: () => undefined, warn: (_o: object, m: string) => void logged.push(m), info: () => undefined, debug: () => undefined };

describe('adoptEventPartitions', () => {
  const prefix = `t-adopt-${randomUUID().slice(0, 8)}-`;
  const config = (env: Record<string, string> = {}) => loadConfig({ ...process.env, SIGFLOW_EVENT_PARTITIONS: '', SIGFLOW_TOPIC_PREFIX: prefix, ...env });
  const kafka = createKafka(config().kafka);
  const topics = topicsFor(prefix);
  afterAll(async () => deleteTopics(kafka, Object.values(topics)));

  it('keeps the configured count while the topic does not exist, then takes the count the topic was created with', async () => {
    expect(DEFAULT_EVENT_PARTITIONS).not.toBe(3);
    const fresh = config();
    expect(await adoptEventPartitions(kafka, fresh, log)).toBe(fresh);

    // A deployment made with another count (an earlier default): 3 partitions.
    await ensureTopics(kafka, topics, { eventPartitions: 3 });
    const adopted = await adoptEventPartitions(kafka, config(), log);
    expect(adopted.kafka.eventPartitions).toBe(3);
    expect(adopted.kafka.topicPrefix).toBe(prefix);
    expect(logged.at(-1)).toContain('exists with 3 partitions');
    // The adopted layout passes the topic check every service makes at start.
    await expect(ensureTopics(kafka, topics, { eventPartitions: adopted.kafka.eventPartitions })).resolves.toEqual([]);
  });

  it('stops the start when SIGFLOW_EVENT_PARTITIONS names another count than the topic has, and agrees when it names the same', async () => {
    await expect(adoptEventPartitions(kafka, config({ SIGFLOW_EVENT_PARTITIONS: '32' }), log)).rejects.toThrow(TopicLayoutError);
    await expect(adoptEventPartitions(kafka, config({ SIGFLOW_EVENT_PARTITIONS: '32' }), log)).rejects.toThrow('has 3 partitions but SIGFLOW_EVENT_PARTITIONS is 32');
    expect((await adoptEventPartitions(kafka, config({ SIGFLOW_EVENT_PARTITIONS: '3' }), log)).kafka.eventPartitions).toBe(3);
  });

  it('waits for a Kafka that does not answer, saying so, and asks again', async () => {
    const down = loadConfig({ ...process.env, SIGFLOW_KAFKA_BROKERS: '127.0.0.1:1', SIGFLOW_KAFKA_CONNECTION_TIMEOUT_MS: '200', SIGFLOW_TOPIC_PREFIX: prefix });
    const before = logged.length;
    const stop = new AbortController();
    const pending = adoptEventPartitions(createKafka(down.kafka, { retries: 0 }), down, log, { retryMs: 100, signal: stop.signal });
    const settled = await Promise.race([pending.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 2_000))]);
    expect(settled).toBe('waiting');
    expect(logged.slice(before).filter((m) => m.includes('the start waits')).length).toBeGreaterThanOrEqual(2);
    stop.abort();
    await expect(pending).rejects.toThrow(/abort/i);
  });
});

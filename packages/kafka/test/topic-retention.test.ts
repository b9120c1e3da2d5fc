// Kafka keeps personal data no longer than the configured retention: the platform's topics are
// created with retention.ms, and topics that exist with another retention are altered at start
// (other overrides of the topic kept).
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteTopics, ensureTopics, topicRetentionMs } from '../src/index.js';
import { suiteKafka } from './fixture.js';

const DAY = 86_400_000;

describe('topic retention', () => {
  const { kafka, topics } = suiteKafka('retention');
  // The broker answers DescribeConfigs from its copy of the cluster metadata, which applies a
  // change a moment after AlterConfigs returns (KRaft commits it through the controller first):
  // a read right after an alteration can still give the old value. Polled, within seconds.
  const expectRetention = (topic: string, ms: number) => expect.poll(() => topicRetentionMs(kafka, topic), { timeout: 10_000, interval: 200 }).toBe(ms);
  afterAll(async () => deleteTopics(kafka, Object.values(topics)));

  it('creates every topic with retention.ms, then alters existing ones to a new value keeping their other overrides', async () => {
    expect(await ensureTopics(kafka, topics, { eventPartitions: 2, retentionMs: 90 * DAY })).toEqual([]);
    for (const t of Object.values(topics)) await expectRetention(t, 90 * DAY);

    // An operator's own override on one topic must survive the alteration.
    const admin = kafka.admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.events, configEntries: [{ name: 'retention.ms', value: String(90 * DAY) }, { name: 'max.message.bytes', value: '2000000' }] }],
    });

    const altered = await ensureTopics(kafka, topics, { eventPartitions: 2, retentionMs: 7 * DAY });
    expect(altered.sort()).toEqual(Object.values(topics).sort());
    for (const t of Object.values(topics)) await expectRetention(t, 7 * DAY);
    const described = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.events, configNames: ['max.message.bytes'] }],
      includeSynonyms: false,
    });
    await admin.disconnect();
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe('2000000');

    // Same value again: nothing to alter.
    expect(await ensureTopics(kafka, topics, { eventPartitions: 2, retentionMs: 7 * DAY })).toEqual([]);
  });
});

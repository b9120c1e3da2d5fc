// Kafka keeps personal data no longer than the configured retention: the platform's topics are
// created with retention.ms, and topics that exist with another retention are altered at start
// (other overrides of the topic kept).
import { ConfigResourceTypes, ConfigSources } from '@platformatic/kafka';
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

  // The ops topic is compacted and kept without a time limit (ops decisions, tombstones).
  const retained = () => Object.values(topics).filter((t) => t !== topics.ops);

  it('creates every topic with retention.ms, then alters existing ones to a new value keeping their other overrides', async () => {
    expect(await ensureTopics(kafka, topics, { eventPartitions: 2, retentionMs: 90 * DAY })).toEqual([]);
    for (const t of retained()) await expectRetention(t, 90 * DAY);

    // An operator's own override on one topic must survive the alteration.
    const admin = kafka.admin();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topics.events, configs: [{ name: 'retention.ms', value: String(90 * DAY) }, { name: 'max.message.bytes', value: '2000000' }] }],
    });

    const altered = await ensureTopics(kafka, topics, { eventPartitions: 2, retentionMs: 7 * DAY });
    expect(altered.sort()).toEqual(retained().sort());
    for (const t of retained()) await expectRetention(t, 7 * DAY);
    const [described] = await admin.describeConfigs({
      resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topics.events, configurationKeys: ['max.message.bytes'] }],
      includeSynonyms: false,
    });
    await admin.close();
    expect(described?.configs[0]?.value).toBe('2000000');

    // Same value again: nothing to alter.
    expect(await ensureTopics(kafka, topics, { eventPartitions: 2, retentionMs: 7 * DAY })).toEqual([]);
  });

  it('creates the ops topic compacted, with one partition and no retention of its own', async () => {
    await ensureTopics(kafka, topics, { eventPartitions: 2, retentionMs: 7 * DAY });
    await kafka.withAdmin(async (admin) => {
      const [described] = await admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topics.ops, configurationKeys: ['cleanup.policy', 'retention.ms'] }], includeSynonyms: false });
      const entries = Object.fromEntries((described?.configs ?? []).map((e) => [e.name, { value: e.value, isDefault: e.configSource === ConfigSources.DEFAULT_CONFIG }]));
      expect(entries['cleanup.policy']?.value).toBe('compact');
      expect(entries['retention.ms']?.isDefault).toBe(true);
      const meta = (await admin.metadata({ topics: [topics.ops], forceUpdate: true })).topics.get(topics.ops);
      expect(meta?.partitions).toHaveLength(1);
    });
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { decodeEvent, topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics, KafkaProbe, partitionOf, readTopicMessages, type KafkaClient } from '@sigflow/kafka';
import { generateEvents } from '../src/generate-events.js';
import type { GeneratedEvent } from '../src/generated-event.js';
import { runGenerator } from '../src/run-generator.js';
import { KafkaSink } from '../src/sinks/kafka-sink.js';
import { HOUR, allKnobs, rules, start } from './helpers.js';

// Against the real broker (SIGFLOW_KAFKA_BROKERS, default 127.0.0.1:9092; `node infra/up.mjs`).
const config = loadConfig();
const runId = randomUUID().slice(0, 8);
const created: string[] = [];
let kafka: KafkaClient;

interface Consumed {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

/** Reads every message of a topic from the beginning until `count` arrived. */
async function consumeAll(topic: string, count: number): Promise<Consumed[]> {
  const read = await readTopicMessages(kafka, topic, count, 60_000);
  return read.map((m) => ({ ...m, offset: Number(m.offset) }));
}

async function produce(workers: number, events: number) {
  const topics = topicsFor(`t-loadgen-${runId}-w${workers}-`);
  await ensureTopics(kafka, topics, { eventPartitions: 4 });
  created.push(...Object.values(topics));
  const options = { seed: 81, events, start, rules, partitions: 4, span: 3 * HOUR, ...allKnobs };
  const sink = new KafkaSink({ brokers: config.kafka.brokers, topic: topics.events, partitions: 4, workers, sendSize: 1_000 });
  await sink.connect();
  const began = Date.now();
  let stats;
  try {
    stats = await runGenerator({ options, sink, truth: true });
  } finally {
    await sink.close();
  }
  return { stats, topic: topics.events, began, ended: Date.now(), generated: [...generateEvents(options)] };
}

function countBy<T>(items: readonly T[], key: (item: T) => string | number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  kafka = createKafka(config.kafka, { clientId: `t-loadgen-${runId}`, retries: 2 });
  const probe = new KafkaProbe(kafka, 5_000);
  const reachable = await probe.reachable();
  await probe.close();
  if (!reachable) throw new Error(`Kafka is not reachable at ${config.kafka.brokers.join(',')} (start it with node infra/up.mjs)`);
});

afterAll(async () => {
  if (kafka && created.length > 0) await deleteTopics(kafka, created);
});

describe.each([
  [2, 30_000],
  [1, 6_000],
  // 0: the producer runs in the sink's own thread.
  [0, 6_000],
] as const)('KafkaSink (%i producer threads) against the broker', (workers, events) => {
  let run: Awaited<ReturnType<typeof produce>>;
  let consumed: Consumed[];

  beforeAll(async () => {
    run = await produce(workers, events);
    consumed = await consumeAll(run.topic, events);
  }, 120_000);

  it('writes every generated event once, with nothing lost or failed', () => {
    const { truth: _truth, ...said } = run.stats;
    expect(said, JSON.stringify(said)).toMatchObject({ generated: events, sent: events, failed: 0, errors: 0 });
    expect(consumed).toHaveLength(events);
    const sortedIds = (list: string[]) => [...list].sort();
    expect(sortedIds(consumed.map((m) => (JSON.parse(m.value) as { event_id: string }).event_id))).toEqual(
      sortedIds(run.generated.map((e) => e.event.event_id)),
    );
  });

  it('matches the truth by type and by partition, and the stream by key', () => {
    const truth = run.stats.truth!.totals();
    const decoded = consumed.map((m) => decodeEvent(m.value));
    expect(countBy(decoded, (e) => e.type)).toEqual(Object.fromEntries(Object.entries(truth.by_type).filter(([, n]) => n > 0)));
    expect([0, 1, 2, 3].map((p) => consumed.filter((m) => m.partition === p).length)).toEqual(truth.by_partition);
    expect(countBy(consumed, (m) => m.key)).toEqual(countBy(run.generated, (e) => e.key));
    expect(truth.duplicates).toBeGreaterThan(0);
  });

  it('keys each message by user on partitionOf(user_id), with the generated payload and received_at', () => {
    const byId = new Map<string, GeneratedEvent>(run.generated.map((e) => [e.event.event_id, e]));
    for (const m of consumed) {
      const event = decodeEvent(m.value);
      expect(m.key).toBe(event.user_id);
      expect(m.partition).toBe(partitionOf(m.key, 4));
      expect(event.received_at).toBeGreaterThanOrEqual(run.began);
      expect(event.received_at).toBeLessThanOrEqual(run.ended);
      const { received_at: _stamp, ...sent } = event;
      expect(sent).toEqual(byId.get(event.event_id)!.event);
    }
  });

  it('keeps the emission order within each partition', () => {
    for (const p of [0, 1, 2, 3]) {
      const inKafka = consumed
        .filter((m) => m.partition === p)
        .sort((a, b) => a.offset - b.offset)
        .map((m) => m.value.slice(0, m.value.lastIndexOf(',"received_at"')));
      const emitted = run.generated.filter((e) => e.partition === p).map((e) => e.json.slice(0, -1));
      expect(inKafka).toEqual(emitted);
    }
  });
});

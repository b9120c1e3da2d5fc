// Ingest: collector accepted events/s over HTTP (batches of 500) and the generator's
// direct-to-Kafka produce rate. Targets: collector >= 50,000 events/s, direct >= 200,000.
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics } from '@sigflow/kafka';
import { freePort } from '../infra/lib/process.mjs';
import { load, median, startService, stopService } from './lib.mjs';

const BATCH = 500;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

function bodies(count) {
  const now = Date.now();
  const channels = ['search', 'social', 'display', 'video', 'email', 'affiliate'];
  return Array.from({ length: count }, (_, b) =>
    JSON.stringify(
      Array.from({ length: BATCH }, (_, i) => {
        const n = b * BATCH + i;
        const user = `bench-user-${n % 5000}`;
        return i % 4 === 0
          ? { event_id: `b-${n}`, type: 'click', user_id: user, ts: now - 1000, campaign_id: `c-${n % 20}`, ad_id: `a-${n % 100}`, channel: channels[n % 6], ip: '198.51.100.7', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0' }
          : i % 4 === 1
            ? { event_id: `b-${n}`, type: 'page_view', user_id: user, ts: now - 1000, page_id: `p-${n % 50}` }
            : { event_id: `b-${n}`, type: 'impression', user_id: user, ts: now - 1000, campaign_id: `c-${n % 20}`, ad_id: `a-${n % 100}`, channel: channels[n % 6], placement: 'feed' };
      }),
    ),
  );
}

async function collectorBench(config) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const collector = await startService('services/collector/dist/main.js', {
    env: { SIGFLOW_TOPIC_PREFIX: config.kafka.topicPrefix, SIGFLOW_COLLECTOR_PORT: String(port) },
    url,
  });
  const prebuilt = bodies(40);
  let next = 0;
  const runs = [];
  try {
    // Warm-up (JIT, producer connections), then three measured runs; the median is reported.
    for (const [i, seconds] of [[0, 3], [1, SECONDS], [2, SECONDS], [3, SECONDS]]) {
      const result = await autocannon({
        url: `${url}/v1/events`,
        method: 'POST',
        connections: 16,
        duration: seconds,
        headers: { 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: prebuilt[next++ % prebuilt.length] }) }],
      });
      if (i === 0) continue;
      const ok = result['2xx'];
      runs.push({
        seconds,
        requests2xx: ok,
        non2xx: result.non2xx,
        errors: result.errors,
        eventsPerSecond: Math.round((ok * BATCH) / seconds),
        latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      });
      console.log(`collector run ${i}: ${runs.at(-1).eventsPerSecond} events/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`);
    }
  } finally {
    await stopService(collector);
  }
  return {
    batchSize: BATCH,
    connections: 16,
    runs,
    medianEventsPerSecond: median(runs.map((r) => r.eventsPerSecond)),
    medianP50Ms: median(runs.map((r) => r.latencyMs.p50)),
    medianP99Ms: median(runs.map((r) => r.latencyMs.p99)),
    target: 50_000,
  };
}

/**
 * The generator straight to Kafka: (a) generating and sending together, as `npm run generate`
 * does; (b) the sink alone over pre-generated events (what the producer path can carry).
 */
async function directBench(config) {
  const { EventStream, KafkaSink, runGenerator } = await import('@sigflow/loadgen');
  const kafka = createKafka(config.kafka);
  const topic = topicsFor(config.kafka.topicPrefix).events;
  const day = 86_400_000;
  const options = (seed, events) => ({ seed, events, start: Date.now() - day, span: day, partitions: config.kafka.eventPartitions, rules: config.rules });
  const EVENTS = Number(process.env.BENCH_DIRECT_EVENTS ?? 1_000_000);
  const endToEnd = [];
  const sinkOnly = [];
  for (let i = 0; i < 3; i++) {
    const sink = new KafkaSink({ kafka, topic, partitions: config.kafka.eventPartitions });
    await sink.connect();
    const stats = await runGenerator({ stream: new EventStream(options(7 + i, EVENTS)), sink, rate: 0 });
    await sink.close();
    endToEnd.push(Math.round(stats.eventsPerSecond));

    const events = [...new EventStream(options(17 + i, EVENTS))].map((e) => ({ key: e.key, partition: e.partition, json: e.json }));
    const only = new KafkaSink({ kafka, topic, partitions: config.kafka.eventPartitions });
    await only.connect();
    const started = performance.now();
    for (let k = 0; k < events.length; k += 20_000) await only.write(events.slice(k, k + 20_000));
    await only.flush();
    sinkOnly.push(Math.round(events.length / ((performance.now() - started) / 1000)));
    await only.close();
    console.log(`direct run ${i + 1}: generate+send ${endToEnd.at(-1)} events/s, sink alone ${sinkOnly.at(-1)} events/s`);
  }
  return {
    events: EVENTS,
    producer: 'loadgen wire producer (Produce v3 record batches); kafkajs EventProducer measured ~56k events/s, see packages/loadgen/README.md',
    generateAndSendEventsPerSecond: endToEnd,
    sinkOnlyEventsPerSecond: sinkOnly,
    medianEventsPerSecond: median(endToEnd),
    medianSinkOnlyEventsPerSecond: median(sinkOnly),
    target: 200_000,
  };
}

export async function run() {
  const config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `bench-${randomUUID().slice(0, 8)}-` });
  const kafka = createKafka(config.kafka);
  const topics = topicsFor(config.kafka.topicPrefix);
  await ensureTopics(kafka, topics, { eventPartitions: config.kafka.eventPartitions });
  const before = load();
  try {
    const collector = await collectorBench(config);
    const direct = await directBench(config);
    console.log(
      `collector: median ${collector.medianEventsPerSecond} events/s (target 50,000), p50 ${collector.medianP50Ms} ms, p99 ${collector.medianP99Ms} ms`,
    );
    console.log(`direct produce: median ${direct.medianEventsPerSecond} events/s generate+send, ${direct.medianSinkOnlyEventsPerSecond} sink alone (target 200,000)`);
    return { loadBefore: before, loadAfter: load(), collector, direct };
  } finally {
    await deleteTopics(kafka, Object.values(topics));
  }
}

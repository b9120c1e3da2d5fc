// Ingest: collector accepted events/s over HTTP (batches of 500) and the generator's
// direct-to-Kafka produce rate. Targets: collector >= 50,000 events/s, direct >= 200,000.
import { randomUUID } from 'node:crypto';
import { CompressionTypes } from 'kafkajs';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics } from '@sigflow/kafka';
import { freePort } from '../infra/lib/process.mjs';
import { load, median, startService, stopService } from './lib.mjs';
import { closedLoop } from './closed-loop.mjs';
import { openLoop } from './open-loop.mjs';

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

/** Target of the collector: events/s it carries, and the p99 it answers within at that rate. */
const TARGET_EVENTS_PER_SECOND = 50_000;

/** One closed-loop run of `seconds` over the prebuilt bodies (`closed-loop.mjs`): as fast as answered. */
async function fire(url, bodiesList, { seconds, connections }) {
  let next = 0;
  const request = () => ({ path: '/v1/events', body: bodiesList[next++ % bodiesList.length] });
  const r = await closedLoop(url, request, { seconds, connections, headers: { 'content-type': 'application/json' } });
  return {
    seconds,
    connections,
    offeredRequestsPerSecond: null,
    requests2xx: r.ok,
    non2xx: r.non2xx,
    errors: r.errors,
    eventsPerSecond: Math.round((r.ok * BATCH) / r.seconds),
    latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99, max: r.latencyMs.max },
  };
}

/** `rate` requests/s offered on a steady schedule (open loop) for `seconds`: the latency the target names. */
async function offer(url, bodiesList, { seconds, rate }) {
  const request = (i) => ({ path: '/v1/events', body: bodiesList[i % bodiesList.length] });
  const r = await openLoop(url, request, { rate, seconds, headers: { 'content-type': 'application/json' } });
  return {
    seconds,
    load: 'open loop, one request every 10 ms, latency from when it was due',
    offeredRequestsPerSecond: rate,
    requests2xx: r.ok,
    non2xx: r.non2xx,
    errors: r.errors,
    eventsPerSecond: Math.round((r.ok * BATCH) / r.seconds),
    latencyMs: r.latencyMs,
  };
}

/**
 * The collector as `npm start` runs it (one server per core). Each of three rounds measures
 * (a) throughput: 16 connections sending as fast as they are answered (a closed loop, whose
 * latency is 16 / throughput by Little's law, so its p99 says how deep the queue was, not
 * how fast a request is served), and (b) latency at the target: 50,000 events/s offered (100
 * requests/s of 500) on a steady open-loop schedule, whose p99 is the figure the target names.
 * (autocannon's rate limit sent each second's 100 requests as one burst when the second began,
 * so its "p99 at 50,000/s" was the p99 of a 50,000-event burst: 138-433 ms on a quiet machine.)
 */
async function collectorBench(config) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const collector = await startService('services/collector/dist/main.js', {
    env: { SIGFLOW_TOPIC_PREFIX: config.kafka.topicPrefix, SIGFLOW_COLLECTOR_PORT: String(port) },
    url,
  });
  const prebuilt = bodies(40);
  const throughput = [];
  const atTarget = [];
  try {
    await fire(url, prebuilt, { seconds: 3, connections: 16 }); // warm-up: JIT, producer connections
    for (let i = 1; i <= 3; i++) {
      throughput.push(await fire(url, prebuilt, { seconds: SECONDS, connections: 16 }));
      atTarget.push(await offer(url, prebuilt, { seconds: SECONDS, rate: TARGET_EVENTS_PER_SECOND / BATCH }));
      const [t, a] = [throughput.at(-1), atTarget.at(-1)];
      console.log(
        `collector round ${i}: ${t.eventsPerSecond} events/s (16 connections, p99 ${t.latencyMs.p99} ms); ` +
          `at 50,000 offered: ${a.eventsPerSecond} events/s, p50 ${a.latencyMs.p50} ms, p99 ${a.latencyMs.p99} ms, non-2xx ${t.non2xx + a.non2xx}`,
      );
    }
  } finally {
    await stopService(collector);
  }
  return {
    batchSize: BATCH,
    processes: config.collector.processes,
    throughputRuns: throughput,
    atTargetRuns: atTarget,
    medianEventsPerSecond: median(throughput.map((r) => r.eventsPerSecond)),
    medianP99Ms: median(atTarget.map((r) => r.latencyMs.p99)),
    medianP50Ms: median(atTarget.map((r) => r.latencyMs.p50)),
    medianAtTargetEventsPerSecond: median(atTarget.map((r) => r.eventsPerSecond)),
    medianSaturatedP99Ms: median(throughput.map((r) => r.latencyMs.p99)),
    target: { eventsPerSecond: TARGET_EVENTS_PER_SECOND, p99Ms: 100 },
  };
}

/** Events as the sink needs them (key, partition, JSON), generated before the clock starts. */
function pregenerate(EventStream, options) {
  return Array.from(new EventStream(options), (e) => ({ key: e.key, partition: e.partition, json: e.json }));
}

/** Events/s of handing `events` to a sink in slices and waiting for every acknowledgement. */
async function timeSink(sink, events) {
  const started = performance.now();
  for (let k = 0; k < events.length; k += 20_000) await sink.write(events.slice(k, k + 20_000));
  await sink.flush();
  if (sink.stats.failed > 0) throw new Error(`the sink gave up on ${sink.stats.failed} events: ${sink.stats.lastError}`);
  return Math.round(events.length / ((performance.now() - started) / 1000));
}

/** Runs `use` with a sink of its own, connected before and closed after. */
async function withSink(newSink, use) {
  const sink = newSink();
  await sink.connect();
  try {
    return await use(sink);
  } finally {
    await sink.close();
  }
}

/**
 * The reference the choice was made against: kafkajs tuned for throughput (no idempotence,
 * acks from all replicas, no compression, 1,000 messages a send across partitions, 8 sends in
 * flight). Its per-partition grouping copies the partition's list for every message, so a
 * send costs O(n^2 / partitions); 1,000 messages keeps that small.
 */
async function kafkajsReference(config, topic, events) {
  const kafka = createKafka(config.kafka);
  const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 8, allowAutoTopicCreation: false });
  await producer.connect();
  const inFlight = new Set();
  const started = performance.now();
  try {
    for (let k = 0; k < events.length; k += 1_000) {
      const suffix = `,"received_at":${Date.now()}}`;
      const messages = events.slice(k, k + 1_000).map((e) => ({ key: e.key, value: e.json.slice(0, -1) + suffix, partition: e.partition }));
      const send = producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages }).finally(() => inFlight.delete(send));
      inFlight.add(send);
      if (inFlight.size >= 8) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return Math.round(events.length / ((performance.now() - started) / 1000));
}

/**
 * The generator straight to Kafka through its KafkaSink (@platformatic/kafka producers in
 * worker threads): (a) the sink alone over pre-generated events (what the producer path
 * carries; `eventsPerSecond`), three runs after an uncounted warm-up, the median; (b) generating and sending together,
 * as `npm run generate` does; (c) tuned kafkajs over the same events, once, for reference.
 */
async function directBench(config) {
  const { EventStream, KafkaSink, runGenerator } = await import('@sigflow/loadgen');
  const topic = topicsFor(config.kafka.topicPrefix).events;
  const partitions = config.kafka.eventPartitions;
  const day = 86_400_000;
  const options = (seed, events) => ({ seed, events, start: Date.now() - day, span: day, partitions, rules: config.rules });
  const EVENTS = Number(process.env.BENCH_DIRECT_EVENTS ?? 1_000_000);
  const newSink = () => new KafkaSink({ brokers: config.kafka.brokers, topic, partitions });
  const events = pregenerate(EventStream, options(17, EVENTS));
  // One run before the clock counts: the JIT of both threads and the broker's first segments.
  await withSink(newSink, (sink) => timeSink(sink, events.slice(0, 300_000)));
  const sinkOnly = [];
  const endToEnd = [];
  for (let i = 0; i < 3; i++) {
    sinkOnly.push(await withSink(newSink, (sink) => timeSink(sink, events)));
    const both = await withSink(newSink, (sink) => runGenerator({ stream: new EventStream(options(7 + i, EVENTS)), sink, rate: 0 }));
    endToEnd.push(Math.round(both.eventsPerSecond));
    console.log(`direct run ${i + 1}: sink alone ${sinkOnly.at(-1)} events/s, generate+send ${endToEnd.at(-1)} events/s`);
  }
  const kafkajs = await kafkajsReference(config, topic, events.slice(0, 300_000));
  console.log(`direct: tuned kafkajs over 300,000 of the same events ${kafkajs} events/s`);
  return {
    events: EVENTS,
    producer: '@platformatic/kafka 1.35.0, one producer per worker thread (KafkaSink defaults)',
    sinkOnlyEventsPerSecond: sinkOnly,
    generateAndSendEventsPerSecond: endToEnd,
    eventsPerSecond: median(sinkOnly),
    medianGenerateAndSendEventsPerSecond: median(endToEnd),
    kafkajsTunedEventsPerSecond: kafkajs,
    target: 200_000,
  };
}

export async function run() {
  const config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `bench-${randomUUID().slice(0, 8)}-` });
  const kafka = createKafka(config.kafka);
  const topics = topicsFor(config.kafka.topicPrefix);
  await ensureTopics(kafka, topics, { eventPartitions: config.kafka.eventPartitions });
  const before = load();
  // BENCH_INGEST_ONLY=collector|direct runs one part (while tuning); the other is then left out.
  const only = process.env.BENCH_INGEST_ONLY;
  try {
    const result = { loadBefore: before };
    if (only !== 'direct') {
      result.collector = await collectorBench(config);
      const c = result.collector;
      console.log(`collector: median ${c.medianEventsPerSecond} events/s (target 50,000); at 50,000 offered p50 ${c.medianP50Ms} ms, p99 ${c.medianP99Ms} ms (target < 100)`);
    }
    if (only !== 'collector') {
      result.direct = await directBench(config);
      const d = result.direct;
      console.log(
        `direct produce: median ${d.eventsPerSecond} events/s sink alone (target 200,000), ${d.medianGenerateAndSendEventsPerSecond} generate+send, tuned kafkajs ${d.kafkajsTunedEventsPerSecond}`,
      );
    }
    return { ...result, loadAfter: load() };
  } finally {
    await deleteTopics(kafka, Object.values(topics));
  }
}

// Ingest: collector accepted events/s over HTTP (batches of 500), the same through Segment's
// /v1/batch (analytics-node's batches of 100), and the generator's direct-to-Kafka produce rate.
// Targets: collector >= 50,000 events/s, Segment within 20 % of it with p99 < 100 ms at 50,000/s,
// direct >= 200,000.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics } from '@sigflow/kafka';
import { freePort } from '../infra/lib/process.mjs';
import { load, median, startService, stopService } from './lib.mjs';
import { closedLoop } from './closed-loop.mjs';
import { openLoop } from './open-loop.mjs';

const BATCH = 500;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);

export function bodies(count) {
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
/** analytics-node's batches: 100 messages each (its flushAt at most 100 under 500 KB). */
const SEGMENT_BATCH = 100;
export const WRITE_KEY = 'bench-write-key';

/** Segment batches as analytics-node sends them: custom events, pages, identifies and promotions of 5,000 users. */
export function segmentBodies(count) {
  const now = Date.now();
  const context = { library: { name: '@segment/analytics-node', version: '3.1.0' } };
  const message = (n) => {
    const base = { userId: `bench-user-${n % 5000}`, messageId: `node-next-${now}-bench-${n}`, timestamp: new Date(now - 1000).toISOString(), context, _metadata: { jsRuntime: 'node' }, integrations: {} };
    switch (n % 10) {
      case 0: case 1:
        return { ...base, type: 'page', name: 'Shop', properties: { path: `/p-${n % 50}` } };
      case 2:
        return { ...base, type: 'identify', traits: { plan: ['free', 'pro'][n % 2], visits: n % 7 } };
      case 3:
        return { ...base, type: 'track', event: 'Promotion Viewed', properties: { promotion_id: `c-${n % 20}`, creative: `a-${n % 100}` }, context: { ...context, campaign: { medium: 'email' } } };
      default:
        return { ...base, type: 'track', event: ['search', 'view_item', 'add_to_wishlist'][n % 3], properties: { query: `q-${n % 300}`, sku: `sku-${n % 1000}`, price: n % 400 } };
    }
  };
  return Array.from({ length: count }, (_, b) =>
    JSON.stringify({ batch: Array.from({ length: SEGMENT_BATCH }, (_, i) => message(b * SEGMENT_BATCH + i)), writeKey: WRITE_KEY, sentAt: new Date(now).toISOString() }),
  );
}

/** What one kind of request carries: the path, the prebuilt bodies, events in each, headers. */
export const nativeLoad = (bodiesList) => ({ path: '/v1/events', bodies: bodiesList, eventsPerBody: BATCH, headers: { 'content-type': 'application/json' } });
export const segmentLoad = (bodiesList) => ({
  path: '/v1/batch',
  bodies: bodiesList,
  eventsPerBody: SEGMENT_BATCH,
  headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` },
});

/** One closed-loop run of `seconds` over the prebuilt bodies (`closed-loop.mjs`): as fast as answered. */
async function fire(url, load, { seconds, connections }) {
  let next = 0;
  const request = () => ({ path: load.path, body: load.bodies[next++ % load.bodies.length] });
  const r = await closedLoop(url, request, { seconds, connections, headers: load.headers });
  return {
    seconds,
    connections,
    offeredRequestsPerSecond: null,
    requests2xx: r.ok,
    non2xx: r.non2xx,
    errors: r.errors,
    eventsPerSecond: Math.round((r.ok * load.eventsPerBody) / r.seconds),
    latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99, max: r.latencyMs.max },
  };
}

/** 50,000 events/s offered on a steady schedule (open loop) for `seconds`: the latency the target names. */
async function offer(url, load, { seconds }) {
  const rate = TARGET_EVENTS_PER_SECOND / load.eventsPerBody;
  const request = (i) => ({ path: load.path, body: load.bodies[i % load.bodies.length] });
  const r = await openLoop(url, request, { rate, seconds, headers: load.headers });
  return {
    seconds,
    load: `open loop, one request every ${1000 / rate} ms, latency from when it was due`,
    offeredRequestsPerSecond: rate,
    requests2xx: r.ok,
    non2xx: r.non2xx,
    errors: r.errors,
    eventsPerSecond: Math.round((r.ok * load.eventsPerBody) / r.seconds),
    latencyMs: r.latencyMs,
  };
}

/** A round's closed-loop throughput and open-loop latency of one kind of request. */
async function round(url, load, seconds) {
  return { throughput: await fire(url, load, { seconds, connections: 16 }), atTarget: await offer(url, load, { seconds }) };
}

/** The figures of a kind's rounds. */
function summary(rounds, eventsPerBody) {
  const throughput = rounds.map((r) => r.throughput);
  const atTarget = rounds.map((r) => r.atTarget);
  return {
    batchSize: eventsPerBody,
    throughputRuns: throughput,
    atTargetRuns: atTarget,
    medianEventsPerSecond: median(throughput.map((r) => r.eventsPerSecond)),
    medianP99Ms: median(atTarget.map((r) => r.latencyMs.p99)),
    medianP50Ms: median(atTarget.map((r) => r.latencyMs.p50)),
    medianAtTargetEventsPerSecond: median(atTarget.map((r) => r.eventsPerSecond)),
    medianSaturatedP99Ms: median(throughput.map((r) => r.latencyMs.p99)),
  };
}

const roundLine = (name, { throughput: t, atTarget: a }) =>
  `${name}: ${t.eventsPerSecond} events/s (16 connections, p99 ${t.latencyMs.p99} ms); ` +
  `at 50,000 offered: ${a.eventsPerSecond} events/s, p50 ${a.latencyMs.p50} ms, p99 ${a.latencyMs.p99} ms, non-2xx ${t.non2xx + a.non2xx}`;

/**
 * The collector as `npm start` runs it (one server per core). Each of three rounds measures, for
 * native batches of 500 on /v1/events and then for analytics-node's batches of 100 on Segment's
 * /v1/batch, (a) throughput: 16 connections sending as fast as they are answered (a closed loop,
 * whose latency is 16 / throughput by Little's law, so its p99 says how deep the queue was, not
 * how fast a request is served), and (b) latency at the target: 50,000 events/s offered on a
 * steady open-loop schedule, whose p99 is the figure the target names. (autocannon's rate limit
 * sent each second's requests as one burst when the second began, so its "p99 at 50,000/s" was
 * the p99 of a 50,000-event burst: 138-433 ms on a quiet machine.)
 */
async function collectorBench(config) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const collector = await startService('services/collector/dist/main.js', {
    env: { SIGFLOW_TOPIC_PREFIX: config.kafka.topicPrefix, SIGFLOW_COLLECTOR_PORT: String(port), SIGFLOW_COLLECTOR_SITE_KEYS: `${WRITE_KEY}:bench` },
    url,
  });
  const native = nativeLoad(bodies(40));
  const segment = segmentLoad(segmentBodies(200));
  const rounds = { native: [], segment: [] };
  try {
    // Warm-up: JIT, producer connections.
    await fire(url, native, { seconds: 3, connections: 16 });
    await fire(url, segment, { seconds: 3, connections: 16 });
    for (let i = 1; i <= 3; i++) {
      rounds.native.push(await round(url, native, SECONDS));
      rounds.segment.push(await round(url, segment, SECONDS));
      console.log(`collector round ${i}: ${roundLine('native', rounds.native.at(-1))}`);
      console.log(`collector round ${i}: ${roundLine('segment', rounds.segment.at(-1))}`);
    }
  } finally {
    await stopService(collector);
  }
  const collectorFigures = summary(rounds.native, BATCH);
  const segmentFigures = summary(rounds.segment, SEGMENT_BATCH);
  return {
    collector: { ...collectorFigures, processes: config.collector.processes, target: { eventsPerSecond: TARGET_EVENTS_PER_SECOND, p99Ms: 100 } },
    segment: {
      ...segmentFigures,
      p99Ms: segmentFigures.medianP99Ms,
      ofCollector: Math.round((segmentFigures.medianEventsPerSecond / collectorFigures.medianEventsPerSecond) * 1000) / 1000,
      target: { ofCollector: 0.8, p99Ms: 100 },
    },
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
 * The generator straight to Kafka through its KafkaSink (@platformatic/kafka producers in
 * worker threads): (a) the sink alone over pre-generated events (what the producer path
 * carries; `eventsPerSecond`), three runs after an uncounted warm-up, the median; (b) generating and sending together,
 * as `npm run generate` does. (Tuned kafkajs, the reference the client was chosen against, is no
 * longer a dependency; its figures are in the README.)
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
  return {
    events: EVENTS,
    producer: '@platformatic/kafka 1.35.0, one producer per worker thread (KafkaSink defaults)',
    sinkOnlyEventsPerSecond: sinkOnly,
    generateAndSendEventsPerSecond: endToEnd,
    eventsPerSecond: median(sinkOnly),
    medianGenerateAndSendEventsPerSecond: median(endToEnd),
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
      Object.assign(result, await collectorBench(config));
      const [c, g] = [result.collector, result.segment];
      console.log(`collector: median ${c.medianEventsPerSecond} events/s (target 50,000); at 50,000 offered p50 ${c.medianP50Ms} ms, p99 ${c.medianP99Ms} ms (target < 100)`);
      console.log(`segment: median ${g.medianEventsPerSecond} events/s, ${g.ofCollector} of the collector's (target >= 0.8); at 50,000 offered p99 ${g.p99Ms} ms (target < 100)`);
    }
    if (only !== 'collector') {
      result.direct = await directBench(config);
      const d = result.direct;
      console.log(
        `direct produce: median ${d.eventsPerSecond} events/s sink alone (target 200,000), ${d.medianGenerateAndSendEventsPerSecond} generate+send`,
      );
    }
    return { ...result, loadAfter: load() };
  } finally {
    await deleteTopics(kafka, Object.values(topics));
  }
}

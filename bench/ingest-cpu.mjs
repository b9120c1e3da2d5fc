// Where an ingested event's CPU goes (issue 39): closed loops of each kind of request against one
// collector, each with the CPU µs an event of the collector (its processes), the broker and this
// load client, and how idle the machine was. Explains `bench:ingest`'s Segment / native ratio on a
// host: per request or per message, and which process pays. Prints a line a loop; writes nothing.
//   node bench/ingest-cpu.mjs [--processes 1] [--seconds 8] [--loops native,segment,segment500,track1,native1]
// BENCH_COLLECTOR_NODE_ARGS adds Node flags to the collector (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
// (the single-node broker of `npm run infra:up` must be running; the collector is started here).
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics, ensureTopics } from '@sigflow/kafka';
import { freePort } from '../infra/lib/process.mjs';
import { closedLoop } from './closed-loop.mjs';
import { WRITE_KEY, bodies, nativeLoad, segmentBodies, segmentLoad } from './ingest.bench.mjs';
import { commandLineArg, cpuSeconds, load, nodeArgsFrom, root, startService, stopService, treeCpuSeconds } from './lib.mjs';

const SECONDS = Number(commandLineArg('seconds', 8));
const CONNECTIONS = 16;

/** Segment's batches merged `k` at a time (the same messages, fewer requests). */
function mergedSegmentBodies(list, k) {
  const out = [];
  for (let i = 0; i + k <= list.length; i += k) {
    const parts = list.slice(i, i + k).map((b) => JSON.parse(b));
    out.push(JSON.stringify({ ...parts[0], batch: parts.flatMap((p) => p.batch) }));
  }
  return out;
}

/** The kinds of request, by name: what `bench:ingest` sends, and the same messages batched otherwise. */
function loads() {
  const segment = segmentBodies(200);
  const trackCalls = segment.flatMap((b) => JSON.parse(b).batch.filter((m) => m.type === 'track').map((m) => JSON.stringify({ ...m, sentAt: new Date().toISOString() })));
  return {
    native: nativeLoad(bodies(40)),
    segment: segmentLoad(segment),
    segment500: { ...segmentLoad(mergedSegmentBodies(segment, 5)), eventsPerBody: 500 },
    track1: { ...segmentLoad(trackCalls), path: '/v1/track', eventsPerBody: 1 },
    native1: { ...nativeLoad(JSON.parse(bodies(1)[0]).map((e) => JSON.stringify([e]))), eventsPerBody: 1 },
  };
}

/** The whole machine's idle and total jiffies (/proc/stat). */
function machineJiffies() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
}

/** One closed loop of `kind`, with the CPU each process spent on it. */
async function measure(url, kind, collectorPid, brokerPid) {
  let next = 0;
  const request = () => ({ path: kind.path, body: kind.bodies[next++ % kind.bodies.length] });
  const [m0, c0, b0, self0] = [machineJiffies(), treeCpuSeconds(collectorPid), cpuSeconds(brokerPid), process.cpuUsage()];
  const r = await closedLoop(url, request, { seconds: SECONDS, connections: CONNECTIONS, headers: kind.headers });
  const [m1, c1, b1, self] = [machineJiffies(), treeCpuSeconds(collectorPid), cpuSeconds(brokerPid), process.cpuUsage(self0)];
  const events = r.ok * kind.eventsPerBody;
  const us = (seconds) => Math.round((seconds * 1e7) / events) / 10;
  return {
    eventsPerSecond: Math.round(events / r.seconds),
    non2xx: r.non2xx + r.errors,
    machineIdlePercent: Math.round((1000 * (m1.idle - m0.idle)) / (m1.total - m0.total)) / 10,
    cpuMicrosPerEvent: { collector: us(c1 - c0), broker: us(b1 - b0), client: us((self.user + self.system) / 1e6) },
    latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99 },
    loadavg1m: load().loadavg1m,
  };
}

const config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: `bench-cpu-${randomUUID().slice(0, 8)}-` });
const kafka = createKafka(config.kafka);
const topics = topicsFor(config.kafka.topicPrefix);
const brokerPid = Number(fs.readFileSync(path.join(root, 'var/kafka/kafka.pid'), 'utf8'));
const kinds = loads();
const wanted = commandLineArg('loops', 'native,segment,segment500,track1,native1').split(',');
for (const name of wanted) if (!kinds[name]) throw new Error(`unknown loop ${name}: one of ${Object.keys(kinds).join(', ')}`);
await ensureTopics(kafka, topics, { eventPartitions: config.kafka.eventPartitions });
const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const env = { SIGFLOW_TOPIC_PREFIX: config.kafka.topicPrefix, SIGFLOW_COLLECTOR_PORT: String(port), SIGFLOW_COLLECTOR_SITE_KEYS: `${WRITE_KEY}:bench`, SIGFLOW_COLLECTOR_PROCESSES: commandLineArg('processes', '1') };
const collector = await startService('services/collector/dist/main.js', { env, url, nodeArgs: nodeArgsFrom('BENCH_COLLECTOR_NODE_ARGS') });
try {
  // Uncounted: the JIT of every path, the producer's connections.
  for (const name of wanted) await closedLoop(url, () => ({ path: kinds[name].path, body: kinds[name].bodies[0] }), { seconds: 2, connections: CONNECTIONS, headers: kinds[name].headers });
  for (const name of wanted) console.log(JSON.stringify({ loop: name, processes: Number(env.SIGFLOW_COLLECTOR_PROCESSES), ...(await measure(url, kinds[name], collector.pid, brokerPid)) }));
} finally {
  await stopService(collector);
  await deleteTopics(kafka, Object.values(topics));
}

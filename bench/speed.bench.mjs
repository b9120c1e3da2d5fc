// Speed layer: catch-up of a 2,000,000-event backlog (1 % duplicates, 1 % bots, 0.2 % floods,
// 0.5 % orphans: the mix a Flink 1.20 job drained at 30,800 events/s here with parallelism 1 and
// 35,100 with 2) by 1 and 2 instances; sustained throughput (the highest generator rate at which
// consumer lag stays bounded for 60 s); event-to-view latency p50/p99/p999 at 10,000 events/s
// (events committed after the first 5 s of traffic);
// the dedupe store's Redis bytes per remembered id; the speed process's CPU per event.
// A long run with warm state (steadyState): the pace once the users' cache is full, the RSS and
// a cached user's bytes then; and the time a fresh start takes to reach its steady latency at
// 10k/s. BENCH_SPEED_ONLY=steady runs the long run alone and keeps the other fields.
// Targets (issues 10, 47): sustained >= 60,000 events/s, p99 < 20 ms at 10k/s, steady latency
// within 2 s of a start, dedupe <= 24 bytes.
// BENCH_PROFILE=1 writes CPU profiles of the speed processes and the generator to bench/results/profiles/;
// BENCH_SPEED_NODE_ARGS adds Node flags to the speed processes.
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteTopics, ensureTopics, partitionOffsets } from '@sigflow/kafka';
import { DEFAULT_EVENT_PARTITIONS } from '@sigflow/config';
import fs from 'node:fs';
import os from 'node:os';
import { freePort } from '../infra/lib/process.mjs';
import { brokerLayout } from '../infra/kafka/broker.mjs';
import path from 'node:path';
import { jsonFromChild } from './child-json.mjs';
import { cpuSeconds, isolatedSpeedRun, load, median, metricsText, nodeArgsFrom, profileNodeArgs, redisCpuSeconds, root, startService, stopService } from './lib.mjs';

const SUSTAIN_SECONDS = Number(process.env.BENCH_SUSTAIN_SECONDS ?? 60);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 30);
const CATCH_UP_EVENTS = Number(process.env.BENCH_CATCH_UP_EVENTS ?? 2_000_000);
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_SECONDS ?? 5);
/** Events of the long run with warm state (steadyState): enough to fill the users' cache and run on a while. */
const STEADY_EVENTS = Number(process.env.BENCH_STEADY_EVENTS ?? 6_000_000);
/**
 * BENCH_SPEED_ONLY=steady,latency runs only the long run with warm state and/or the 10k/s
 * latency run; their fields replace the kept results' (bench/results/speed.json), the rest stay.
 */
const ONLY = (process.env.BENCH_SPEED_ONLY ?? '').split(',').filter(Boolean);
/** Node flags of the speed processes: BENCH_SPEED_NODE_ARGS (experiments, e.g. "--trace-gc"), then the profiler's. */
const SPEED_NODE_ARGS = [...nodeArgsFrom('BENCH_SPEED_NODE_ARGS'), ...profileNodeArgs];

/** Bucket counts of the event-to-view histogram, by upper bound (seconds). */
async function latencyBuckets(url) {
  const text = await metricsText(url);
  const buckets = new Map();
  for (const m of text.matchAll(/^sigflow_speed_event_to_view_seconds_bucket\{le="([^"]+)"[^}]*\} (\d+)/gm)) {
    buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
  }
  return buckets;
}

/** Gauges' values on a speed process's /metrics, one read (NaN where absent). */
async function gauges(url, names) {
  const text = await metricsText(url);
  return names.map((name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN));
}

const ROUND_PHASES = ['intake', 'load', 'rules', 'commit'];

/** Seconds each round phase took in the speed processes (`sigflow_speed_round_phase_seconds_total`), summed. */
async function roundPhaseSeconds(urls) {
  const sums = Object.fromEntries(ROUND_PHASES.map((p) => [p, 0]));
  for (const url of urls) {
    const text = await metricsText(url);
    for (const m of text.matchAll(/^sigflow_speed_round_phase_seconds_total\{phase="(\w+)"[^}]*\} ([0-9.e+-]+)$/gm)) sums[m[1]] += Number(m[2]);
  }
  return sums;
}

/**
 * Shares of the processes' catch-up time (seconds x instances) in each round phase, and
 * `between`: outside rounds (waiting for a fetch's answer, the consumer's own work).
 */
function phaseShares(before, after, processSeconds) {
  const shares = Object.fromEntries(ROUND_PHASES.map((p) => [p, Math.round(((after[p] - before[p]) / processSeconds) * 1000) / 1000]));
  shares.between = Math.round((1 - ROUND_PHASES.reduce((sum, p) => sum + shares[p], 0)) * 1000) / 1000;
  return shares;
}

/** Resident set of a process in MB (Linux /proc; NaN when gone). */
function rssMb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** Percentiles (ms) of the observations between two histogram snapshots, interpolated in buckets. */
function percentiles(before, after, qs) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => after.get(b) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1];
  return Object.fromEntries(
    qs.map((q) => {
      const rank = q * total;
      let i = counts.findIndex((c) => c >= rank);
      if (i < 0) i = counts.length - 1;
      const lower = i === 0 ? 0 : bounds[i - 1];
      const upper = bounds[i] === Infinity ? lower : bounds[i];
      const below = i === 0 ? 0 : counts[i - 1];
      const within = counts[i] - below;
      const ms = (lower + (within > 0 ? ((rank - below) / within) * (upper - lower) : 0)) * 1000;
      return [`p${String(q * 100).replace('.', '')}`, Math.round(ms * 10) / 10];
    }),
  ).valueOf();
}

class Lab {
  constructor(name, partitions = 4) {
    this.partitions = partitions;
    Object.assign(this, isolatedSpeedRun(name, partitions));
  }
  async setUp() {
    await ensureTopics(this.kafka, this.topics, { eventPartitions: this.partitions });
    this.admin = this.kafka.admin();
  }
  /** Starts `instances` speed processes in one consumer group (they split the partitions). */
  async startSpeed(instances = 1, nodeArgs = []) {
    this.speeds = [];
    this.urls = [];
    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      this.urls.push(url);
      const env = { ...this.env, SIGFLOW_SPEED_METRICS_PORT: String(port), SIGFLOW_SPEED_INSTANCE_ID: `${this.id}-${i}` };
      this.speeds.push(await startService('services/speed/dist/main.js', { env, url, nodeArgs }));
    }
    this.url = this.urls[0];
  }
  /** CPU seconds Redis (INFO: user + sys of the server process) and the local broker have used so far. */
  async infraCpu() {
    let brokerPid = null;
    try {
      brokerPid = Number(fs.readFileSync(brokerLayout().pidFile, 'utf8').trim());
    } catch {
      // not our broker: its CPU is not measured
    }
    return { redis: await redisCpuSeconds(this.redis), broker: brokerPid ? cpuSeconds(brokerPid) : null };
  }
  /**
   * CPU µs per event since `start` (from {@link infraCpu}, the speed processes' and the
   * generator process's, as its summary reports it): what each part of the run costs the 2 cores.
   */
  async cpuPerEvent(start, events, generatorCpuSeconds) {
    const end = await this.infraCpu();
    const per = (seconds) => (seconds === null ? null : Math.round((seconds / events) * 1e7) / 10);
    const speed = this.speeds.reduce((sum, s, i) => sum + (cpuSeconds(s.pid) ?? 0) - (start.speed[i] ?? 0), 0);
    return {
      speed: per(speed),
      redis: per(end.redis - start.redis),
      broker: end.broker === null || start.broker === null ? null : per(end.broker - start.broker),
      generator: per(generatorCpuSeconds),
    };
  }
  /** Messages in Kafka not yet committed to Redis by the speed layer. */
  async lag() {
    const high = [...(await partitionOffsets(this.admin, this.topics.events, 'latest'))];
    const stored = await this.redis.mget(...high.map(([partition]) => this.keys.speedOffset(partition)));
    return high.reduce((sum, [, end], i) => sum + Math.max(0, end - Number(stored[i] ?? 0)), 0);
  }
  /** Resolves once the events topic holds a message (polled every 100 ms, 180 s at most: a pregenerated stream comes whole). */
  async firstEvent() {
    for (const until = Date.now() + 180_000; Date.now() < until; await sleep(100)) {
      const high = await partitionOffsets(this.admin, this.topics.events, 'latest');
      if ([...high.values()].some((end) => end > 0)) return;
    }
    throw new Error('no event reached the topic within 180 s');
  }
  /** Redis bytes of the dedupe store per id it holds (8-byte hashes in per-partition hour strings). */
  async dedupeBytesPerEvent() {
    let bytes = 0;
    let ids = 0;
    for (let p = 0; p < this.partitions; p++) {
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.seenEvents(p, '*'), 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          bytes += Number(await this.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
          ids += (await this.redis.strlen(key)) / 8;
        }
      } while (cursor !== '0');
    }
    return ids > 0 ? { ids, bytes, bytesPerEvent: Math.round((bytes / ids) * 100) / 100 } : null;
  }
  /**
   * The generator's CLI in a process of its own (`npm run generate`'s), with garbage collection
   * set for throughput: a larger young generation and no GC helper threads, which on 2 cores
   * otherwise take about a third of its CPU (measured: 16-17 µs per event at 50,000 events/s
   * with Node's defaults, 11 with these). A paced run (`rate` > 0) generates the whole stream
   * first (`--pregenerate`), so the run's cores are shared with the sending only (about 9 µs an
   * event at 30,000/s) and not with the generation (about 5 more), and sends what it has every
   * 5 ms (`--linger-ms 5`), as the collector's group commit sends one produce per broker round
   * trip: with the generator's default of 50 ms the speed layer saw 50 ms bursts, and their
   * latency was the time to drain a burst. It sends from its main thread
   * (`--producer-threads 0`): alone, at 50,000 and 70,000 events/s in 5 ms requests, 6.4 and
   * 5.6 µs an event against 11.1 and 9.5 with two producer threads (the hand-over between
   * threads costs more than it saves at a paced rate). Resolves with its summary (`sent`,
   * `eventsPerSecond`, `cpuSeconds`, `pregenerateCpuSeconds`).
   */
  async generate(events, rate, seed) {
    const day = 86_400_000;
    const args = [
      ...['--single-threaded-gc', '--max-semi-space-size=64', '--max-old-space-size=8192', ...profileNodeArgs],
      path.join(root, 'packages/loadgen/dist/cli.js'),
      ...['--events', events, '--rate', rate, '--seed', seed, '--start', Date.now() - day, '--span', day / 1000, '--partitions', this.partitions],
      ...['--duplicates', 0.01, '--bots', 0.01, '--floods', 0.002, '--orphans', 0.005],
      ...['--brokers', this.config.kafka.brokers.join(','), '--topic-prefix', this.config.kafka.topicPrefix, '--quiet'],
      ...(rate > 0 ? ['--pregenerate', '--linger-ms', 5, '--producer-threads', 0] : []),
    ].map(String);
    return jsonFromChild('generator', args, { cwd: root });
  }
  async tearDown() {
    for (const speed of this.speeds ?? []) await stopService(speed);
    await this.admin?.close();
    await deleteTopics(this.kafka, Object.values(this.topics)).catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.id}:*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length) await this.redis.unlink(...keys);
    } while (cursor !== '0');
    this.redis.disconnect();
  }
}

/** Catch-up: a backlog in Kafka over `partitions` partitions, then `instances` speed processes drain it as fast as they can. */
export async function catchUp(instances, partitions = 4) {
  const lab = new Lab('catchup', partitions);
  await lab.setUp();
  try {
    await lab.generate(CATCH_UP_EVENTS, 0, 3);
    await lab.startSpeed(instances, SPEED_NODE_ARGS);
    const cpuAtStart = lab.speeds.map((s) => cpuSeconds(s.pid) ?? 0);
    const infraAtStart = await lab.infraCpu();
    const phasesAtStart = await roundPhaseSeconds(lab.urls);
    const started = Date.now();
    let lag = await lab.lag();
    while (lag > 0) {
      await sleep(250);
      lag = await lab.lag();
      if (Date.now() - started > 600_000) throw new Error(`catch-up did not finish: lag ${lag}`);
    }
    const seconds = (Date.now() - started) / 1000;
    const eventsPerSecond = Math.round(CATCH_UP_EVENTS / seconds);
    const cpu = lab.speeds.reduce((sum, s, i) => sum + (cpuSeconds(s.pid) ?? 0) - (cpuAtStart[i] ?? 0), 0);
    const cpuMicrosPerEvent = Math.round((cpu / CATCH_UP_EVENTS) * 1e7) / 10;
    const infraAtEnd = await lab.infraCpu();
    const perEvent = (a, b) => (a === null || b === null ? null : Math.round(((b - a) / CATCH_UP_EVENTS) * 1e7) / 10);
    const redisCpuMicrosPerEvent = perEvent(infraAtStart.redis, infraAtEnd.redis);
    const brokerCpuMicrosPerEvent = perEvent(infraAtStart.broker, infraAtEnd.broker);
    const roundPhases = phaseShares(phasesAtStart, await roundPhaseSeconds(lab.urls), seconds * instances);
    const dedupe = await lab.dedupeBytesPerEvent();
    console.log(`catch-up (${instances} instance${instances > 1 ? 's' : ''}, ${partitions} partitions): ${CATCH_UP_EVENTS} events in ${seconds.toFixed(1)} s = ${eventsPerSecond} events/s; CPU µs/event: speed ${cpuMicrosPerEvent}, Redis ${redisCpuMicrosPerEvent}, broker ${brokerCpuMicrosPerEvent}; dedupe ${dedupe?.bytesPerEvent} B/id; round phases ${JSON.stringify(roundPhases)}`);
    return { instances, partitions, events: CATCH_UP_EVENTS, seconds, eventsPerSecond, cpuMicrosPerEvent, redisCpuMicrosPerEvent, brokerCpuMicrosPerEvent, roundPhases, dedupe };
  } finally {
    await lab.tearDown();
  }
}

/** What the long run samples besides the RSS: the cache, the heap (used, committed), memory outside it (typed arrays, buffers), ids remembered. */
const steadyGauges = ['sigflow_speed_cached_users', 'sigflow_speed_cache_bytes_per_user', 'sigflow_nodejs_heap_size_used_bytes', 'sigflow_nodejs_heap_size_total_bytes', 'sigflow_nodejs_external_memory_bytes', 'sigflow_speed_dedupe_ids'];

/**
 * Pace with warm state: one speed process drains a backlog of STEADY_EVENTS (the catch-up's mix)
 * long enough for its users' cache to fill (its first trim: the cached users fall) and run on
 * full. Every 2 s: events committed, users cached, the cache's estimate of a user's bytes, RSS, the heap (`steadyGauges`).
 * `steadyStateEventsPerSecond` is the pace from the first trim to the end; null when the cache
 * never filled or less than 30 s followed.
 */
export async function steadyState() {
  const lab = new Lab('steady', 4);
  await lab.setUp();
  try {
    await lab.generate(STEADY_EVENTS, 0, 5);
    await lab.startSpeed(1, SPEED_NODE_ARGS);
    const [url, pid] = [lab.url, lab.speeds[0].pid];
    const started = Date.now();
    const samples = [];
    for (let lag = Infinity; lag > 0; ) {
      await sleep(2_000);
      lag = await lab.lag();
      const [cachedUsers, bytesPerUser, heapUsed, heapTotal, external, dedupeIds] = await gauges(url, steadyGauges);
      const mb = (bytes) => Math.round(bytes / 2 ** 20);
      samples.push({ t: (Date.now() - started) / 1000, done: STEADY_EVENTS - lag, cachedUsers, bytesPerUser, rssMb: Math.round(rssMb(pid)), heapUsedMb: mb(heapUsed), heapTotalMb: mb(heapTotal), externalMb: mb(external), dedupeIds });
      if (Date.now() - started > 1_800_000) throw new Error(`the steady-state run did not finish: lag ${lag}`);
    }
    const fullAt = samples.findIndex((x, i) => i > 0 && x.cachedUsers < samples[i - 1].cachedUsers);
    const full = fullAt > 0 ? samples[fullAt - 1] : null;
    const last = samples.at(-1);
    const after = full ? samples.slice(fullAt) : [];
    const steady = full && last.t - full.t >= 30;
    const result = {
      events: STEADY_EVENTS,
      seconds: last.t,
      eventsPerSecond: Math.round(STEADY_EVENTS / last.t),
      cacheFullAfterSeconds: full?.t ?? null,
      eventsBeforeCacheFull: full?.done ?? null,
      steadyStateEventsPerSecond: steady ? Math.round((last.done - full.done) / (last.t - full.t)) : null,
      rssMbAtSteadyState: steady ? median(after.map((x) => x.rssMb)) : null,
      bytesPerCachedUser: steady ? median(after.map((x) => x.bytesPerUser)) : null,
      cachedUsersAtSteadyState: steady ? median(after.map((x) => x.cachedUsers)) : null,
      samples,
    };
    console.log(`steady state: ${STEADY_EVENTS} events in ${last.t.toFixed(1)} s; cache full after ${result.cacheFullAfterSeconds} s (${result.eventsBeforeCacheFull} events), then ${result.steadyStateEventsPerSecond} events/s at ${result.rssMbAtSteadyState} MB RSS, ${result.cachedUsersAtSteadyState} users cached at ${result.bytesPerCachedUser} B each`);
    return result;
  } finally {
    await lab.tearDown();
  }
}

/**
 * When a live run's latency settled after its start: the ms from the first event to the start of
 * the first second from which the median p99 of every 5 consecutive seconds stays within 1.5 x
 * the steady p99 (`steadyP99Ms`, after the warm-up) or 5 ms above it, whichever is more (a
 * collection's pause later in the run is one second's, the tail's, not the start's); seconds
 * without events are skipped. Null when it never settled.
 */
function settledAfterMs(p99s, steadyP99Ms) {
  const bound = Math.max(steadyP99Ms * 1.5, steadyP99Ms + 5);
  const settledFrom = (from) => {
    const seen = p99s.slice(from).filter((p) => p !== null);
    if (seen.length === 0 || seen[0] > bound) return false;
    for (let i = 0; i + 5 <= seen.length; i++) if (median(seen.slice(i, i + 5)) > bound) return false;
    return true;
  };
  for (let from = 0; from < p99s.length; from++) if (settledFrom(from)) return from * 1000;
  return null;
}

/** Each second's p99 (ms) between consecutive histogram snapshots; null for a second without events. */
function p99BySecond(snapshots) {
  return snapshots.slice(1).map((snap, i) => {
    const observed = [...snap.values()].at(-1) - ([...snapshots[i].values()].at(-1) ?? 0);
    return observed > 0 ? percentiles(snapshots[i], snap, [0.99]).p99 : null;
  });
}

/** Live traffic at `rate` for `seconds`: lag samples every second, and latency percentiles. */
export async function live(rate, seconds, seed, instances = 1) {
  const lab = new Lab(`live${rate}`);
  await lab.setUp();
  try {
    await lab.startSpeed(instances, SPEED_NODE_ARGS);
    await sleep(1_000);
    const snapshot = async () => Promise.all(lab.urls.map((u) => latencyBuckets(u)));
    const merge = (snaps) => {
      const total = new Map();
      for (const snap of snaps) for (const [le, n] of snap) total.set(le, (total.get(le) ?? 0) + n);
      return total;
    };
    const samples = [];
    const traffic = lab.generate(rate * seconds, rate, seed);
    // Everything counts from the first event in the topic: the generator first generates the
    // whole stream (`--pregenerate`), then sends it paced.
    await lab.firstEvent();
    const cpuAtStart = { speed: lab.speeds.map((s) => cpuSeconds(s.pid) ?? 0), ...(await lab.infraCpu()) };
    // Each second's latency too: when the layer's latency settles after its start.
    const perSecond = [merge(await snapshot())];
    const sampler = (async () => {
      for (let s = 0; s < seconds; s++) {
        await sleep(1_000);
        samples.push(await lab.lag());
        perSecond.push(merge(await snapshot()));
      }
    })();
    // Latency is the steady state's: events committed after the first WARM_UP_SECONDS of traffic
    // (the producer threads and the speed process compile their hot paths then). Lag covers all.
    await sleep(WARM_UP_SECONDS * 1_000);
    const before = merge(await snapshot());
    const stats = await traffic;
    await sampler;
    // Drain, so the latency of every event is in the histogram.
    const drainStart = Date.now();
    while ((await lab.lag()) > 0 && Date.now() - drainStart < 120_000) await sleep(200);
    const cpuMicrosPerEvent = await lab.cpuPerEvent(cpuAtStart, stats.sent, stats.cpuSeconds - (stats.pregenerateCpuSeconds ?? 0));
    const after = merge(await snapshot());
    const latencyMs = percentiles(before, after, [0.5, 0.99, 0.999]);
    const p99BySecondMs = p99BySecond(perSecond);
    const timeToSteadyStateMs = settledAfterMs(p99BySecondMs, latencyMs.p99);
    const tail = samples.slice(-Math.ceil(samples.length / 2));
    const bounded = Math.max(...tail) <= Math.max(rate * 2, 5_000) && tail[tail.length - 1] <= tail[0] + rate;
    const result = { instances, loadSource: 'generated ahead (--pregenerate), sent paced, 5 ms linger', targetRate: rate, achievedRate: Math.round(stats.eventsPerSecond), seconds, lagSamples: samples, maxLag: Math.max(...samples), bounded, latencyMs, latencyAfterSeconds: WARM_UP_SECONDS, timeToSteadyStateMs, p99BySecondMs, drainMs: Date.now() - drainStart, cpuMicrosPerEvent, cpuCeiling: cpuCeiling(cpuMicrosPerEvent) };
    console.log(`live ${rate}/s (achieved ${result.achievedRate}/s): max lag ${result.maxLag}, bounded ${bounded}, latency ${JSON.stringify(latencyMs)}, CPU µs/event ${JSON.stringify(cpuMicrosPerEvent)}`);
    return result;
  } finally {
    await lab.tearDown();
  }
}

/**
 * What the box's cores allow when every process of a live run shares them: the CPU µs per event
 * of the speed processes, Redis, the broker and the generator added up, the rate that total
 * would fill `cores` with, and how many of those µs the speed layer could spend at the issue's
 * target (60,000 events/s) with the other parts as measured.
 */
export function cpuCeiling(cpu, cores = os.availableParallelism(), targetRate = 60_000) {
  const total = (cpu.speed ?? 0) + (cpu.redis ?? 0) + (cpu.broker ?? 0) + (cpu.generator ?? 0);
  const round = (x) => Math.round(x * 10) / 10;
  return {
    cores,
    totalCpuMicrosPerEvent: round(total),
    eventsPerSecond: Math.round((cores * 1e6) / total),
    speedBudgetMicrosAtTarget: round((cores * 1e6) / targetRate - (total - (cpu.speed ?? 0))),
  };
}

/** A live run held: lag bounded and (nearly) the whole offered rate generated. */
const held = (result) => result.bounded && result.achievedRate >= result.targetRate * 0.95;

/**
 * Sustained: start at 90 % of the best catch-up rate and step down 20 % until lag stays
 * bounded; then bisect twice between the rate that held and the one above it that did not,
 * so the figure is within ~5 % of the boundary instead of a 20 % step below it.
 */
async function findSustained(catchUpEventsPerSecond, instances) {
  const attempts = [];
  const attempt = async (rate) => {
    const result = await live(rate, SUSTAIN_SECONDS, 20 + attempts.length, instances);
    attempts.push(result);
    return result;
  };
  let rate = Math.round((catchUpEventsPerSecond * 0.9) / 1000) * 1000;
  let sustained = null;
  let failedAt = null;
  for (let i = 0; i < 4 && rate >= 1_000; i++) {
    const result = await attempt(rate);
    if (held(result)) {
      sustained = result;
      break;
    }
    failedAt = rate;
    rate = Math.round((Math.min(rate, result.achievedRate) * 0.8) / 1000) * 1000;
  }
  for (let i = 0; i < 2 && sustained && failedAt; i++) {
    const middle = Math.round((sustained.targetRate + failedAt) / 2 / 1000) * 1000;
    if (middle <= sustained.targetRate || middle >= failedAt) break;
    const result = await attempt(middle);
    if (held(result)) sustained = result;
    else failedAt = middle;
  }
  return { sustained, attempts };
}

/** BENCH_SPEED_ONLY's runs, merged into the kept results. */
async function runOnly(loadBefore) {
  const kept = JSON.parse(fs.readFileSync(path.join(root, 'bench/results/speed.json'), 'utf8'));
  const result = { ...kept, partialRun: { parts: ONLY, at: new Date().toISOString(), loadBefore }, summary: { ...kept.summary } };
  if (ONLY.includes('latency')) {
    result.at10k = await live(10_000, LATENCY_SECONDS, 40);
    Object.assign(result.summary, { latencyAt10kMs: result.at10k.latencyMs, timeToSteadyStateAt10kMs: result.at10k.timeToSteadyStateMs });
  }
  if (ONLY.includes('steady')) {
    result.steadyState = await steadyState();
    Object.assign(result.summary, steadySummary(result.steadyState));
  }
  result.partialRun.loadAfter = load();
  return result;
}

/** The long run with warm state's fields of the summary (issue 47). */
const steadySummary = (steady) => ({
  steadyStateEventsPerSecond: steady.steadyStateEventsPerSecond,
  rssMbAtSteadyState: steady.rssMbAtSteadyState,
  bytesPerCachedUser: steady.bytesPerCachedUser,
  cachedUsersAtSteadyState: steady.cachedUsersAtSteadyState,
  cacheFullAfterSeconds: steady.cacheFullAfterSeconds,
});

export async function run() {
  const loadBefore = load();
  if (ONLY.length > 0) return runOnly(loadBefore);
  // Scale-out: one process per core is what the consumer group allows on this machine.
  const catchUps = [await catchUp(1), await catchUp(2)];
  // What the default partition count (room for 16 instances) costs one process, against the 4
  // the runs above use (issue 41; BENCH_WIDE_PARTITIONS sets another).
  const widePartitions = Number(process.env.BENCH_WIDE_PARTITIONS ?? DEFAULT_EVENT_PARTITIONS);
  const wide = await catchUp(1, widePartitions);
  const best = catchUps.reduce((a, b) => (b.eventsPerSecond > a.eventsPerSecond ? b : a));
  const catchUpResult = best;
  const { sustained, attempts } = await findSustained(catchUpResult.eventsPerSecond, best.instances);
  const at10k = await live(10_000, LATENCY_SECONDS, 40);
  const half = sustained ? Math.round(sustained.targetRate / 2 / 1000) * 1000 : null;
  const atHalf = half ? await live(half, LATENCY_SECONDS, 41) : null;
  const steady = await steadyState();
  const summary = {
    instances: best.instances,
    catchUpEventsPerSecond: best.eventsPerSecond,
    runs: catchUps.map((c) => ({ instances: c.instances, catchUpEventsPerSecond: c.eventsPerSecond, cpuMicrosPerEvent: c.cpuMicrosPerEvent, redisCpuMicrosPerEvent: c.redisCpuMicrosPerEvent, brokerCpuMicrosPerEvent: c.brokerCpuMicrosPerEvent })),
    sustainedInstances: best.instances,
    sustainedEventsPerSecond: sustained?.targetRate ?? null,
    // What bounds the sustained figure: the run's processes share the cores.
    sustainedCpuCeiling: sustained?.cpuCeiling ?? null,
    latencyAt10kMs: at10k.latencyMs,
    // From the first event of a fresh start until every second's p99 stays near the steady p99.
    timeToSteadyStateAt10kMs: at10k.timeToSteadyStateMs,
    latencyAtHalfMs: atHalf?.latencyMs ?? null,
    dedupeBytesPerEvent: best.dedupe?.bytesPerEvent ?? null,
    partitionCount: {
      partitions: [4, widePartitions],
      catchUpEventsPerSecond: [catchUps[0].eventsPerSecond, wide.eventsPerSecond],
      cpuMicrosPerEvent: [catchUps[0].cpuMicrosPerEvent, wide.cpuMicrosPerEvent],
      ratio: Math.round((wide.eventsPerSecond / catchUps[0].eventsPerSecond) * 1000) / 1000,
    },
    ...steadySummary(steady),
    targets: { sustainedEventsPerSecond: 60_000, p99At10kMs: 20, timeToSteadyStateMs: 2_000, dedupeBytesPerEvent: 24 },
  };
  console.log(`speed: catch-up ${JSON.stringify(summary.runs)}; sustained ${summary.sustainedEventsPerSecond} events/s with ${best.instances} instance(s); at 10k/s p50 ${at10k.latencyMs.p50} ms, p99 ${at10k.latencyMs.p99} ms, p999 ${at10k.latencyMs.p999} ms; dedupe ${summary.dedupeBytesPerEvent} B/id`);
  return { loadBefore, loadAfter: load(), summary, catchUp: [...catchUps, wide], sustainedAttempts: attempts, at10k, atHalf, steadyState: steady };
}

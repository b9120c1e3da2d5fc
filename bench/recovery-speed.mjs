// Speed layer recovery with the shipped settings (issue 18): how long after a crash, a failover
// or a graceful restart a newly posted event is visible in its user's signals. Each figure is
// the median of RUNS: kill -9 and restart at once (static group membership takes the
// partitions back with no rebalance); two instances, kill -9 one and do not restart it (the
// group hands its partitions over after the session timeout); SIGTERM and restart (the
// instance commits, leaves the group, exits). Events go through a collector, as users post them.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { userPartition } from '@sigflow/events';
import { deleteTopics, ensureTopics } from '@sigflow/kafka';
import { deleteKeysWithPrefix } from '@sigflow/store';
import { freePort } from '../infra/lib/process.mjs';
import { isolatedSpeedRun, median, metricsText, startService, stopService } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RECOVERY_RUNS ?? 5);
const VISIBLE_TIMEOUT_MS = 60_000;

class SpeedLab {
  constructor() {
    Object.assign(this, isolatedSpeedRun('recovery'));
    this.speeds = new Map();
    this.sent = 0;
  }
  async setUp() {
    await ensureTopics(this.kafka, this.topics, { eventPartitions: 4 });
    const port = await freePort();
    this.collectorUrl = `http://127.0.0.1:${port}`;
    this.collector = await startService('services/collector/dist/main.js', { env: { ...this.env, SIGFLOW_COLLECTOR_PORT: String(port), SIGFLOW_COLLECTOR_PROCESSES: '1' }, url: this.collectorUrl });
  }
  /** Starts speed instance `slot` (its static membership id is fixed per slot); resolves once it answers /healthz. */
  async startSpeed(slot) {
    const port = this.speeds.get(slot)?.port ?? (await freePort());
    const url = `http://127.0.0.1:${port}`;
    const env = { ...this.env, SIGFLOW_SPEED_METRICS_PORT: String(port), SIGFLOW_SPEED_INSTANCE_ID: `${this.id}-${slot}` };
    const child = await startService('services/speed/dist/main.js', { env, url });
    this.speeds.set(slot, { child, port, url });
  }
  /** Starts instance `slot` without waiting for anything (a restart "at once"). */
  async spawnSpeed(slot) {
    this.startPromise = this.startSpeed(slot);
    this.startPromise.catch(() => undefined);
  }
  async ready(slot, timeoutMs = 60_000) {
    const { url } = this.speeds.get(slot);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await fetch(`${url}/readyz`).catch(() => null))?.ok) return;
      await sleep(50);
    }
    throw new Error(`speed ${slot} not ready`);
  }
  kill(slot, signal) {
    const { child } = this.speeds.get(slot);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    return exited;
  }
  /** Posts one page view of a fresh user; returns the user id. */
  async post(userPrefix = 'u') {
    const user = `${userPrefix}-${++this.sent}-${randomUUID().slice(0, 6)}`;
    const body = JSON.stringify([{ event_id: `${user}-e`, type: 'page_view', user_id: user, ts: Date.now(), page_id: 'home' }]);
    for (;;) {
      const res = await fetch(`${this.collectorUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch(() => null);
      if (res?.status === 202) return user;
      await sleep(20);
    }
  }
  /** A user id whose events land on `partition`. */
  userOn(partition, prefix) {
    for (let i = 0; ; i++) {
      const user = `${prefix}-${++this.sent}-${i}`;
      if (userPartition(user, 4) === partition) return user;
    }
  }
  async postFor(user) {
    const body = JSON.stringify([{ event_id: `${user}-e`, type: 'page_view', user_id: user, ts: Date.now(), page_id: 'home' }]);
    for (;;) {
      const res = await fetch(`${this.collectorUrl}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).catch(() => null);
      if (res?.status === 202) return;
      await sleep(20);
    }
  }
  /** Resolves when the user's first signal is in Redis; returns the time (Date.now()). */
  async visible(user) {
    const key = this.keys.signals(userPartition(user, 4), user);
    const deadline = Date.now() + VISIBLE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if ((await this.redis.llen(key)) > 0) return Date.now();
      await sleep(10);
    }
    throw new Error(`${user} not visible within ${VISIBLE_TIMEOUT_MS} ms`);
  }
  async tearDown() {
    for (const { child } of this.speeds.values()) await stopService(child);
    if (this.collector) await stopService(this.collector);
    await deleteTopics(this.kafka, Object.values(this.topics)).catch(() => undefined);
    await deleteKeysWithPrefix(this.redis, this.config.redis.keyPrefix);
    this.redis.disconnect();
  }
}

/**
 * Stops instance `slot` with `signal` and starts it again at once, RUNS times: ms from the
 * signal until a new event is visible. `before(i)` runs first and names the event's partition.
 */
async function restartedVisible(lab, slot, signal, before) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const partition = await before(i);
    const t0 = Date.now();
    await lab.kill(slot, signal);
    await lab.spawnSpeed(slot);
    const user = lab.userOn(partition, signal === 'SIGKILL' ? 'restart' : 'graceful');
    await lab.postFor(user);
    times.push((await lab.visible(user)) - t0);
    await lab.startPromise;
    await lab.ready(slot);
  }
  return times;
}

/** kill -9 the one instance, restart it at once, post: ms from the kill to the event in signals. */
function restartVisible(lab) {
  return restartedVisible(lab, 0, 'SIGKILL', async (i) => {
    await lab.postFor(lab.userOn(i % 4, 'warm')); // traffic before the crash
    return i % 4;
  });
}

/**
 * Two instances; SIGTERM instance 1 and restart it at once (a deploy): ms from the signal until
 * an event of one of its partitions is visible (the instance commits, leaves the group, and the
 * other one takes the partitions on its next heartbeat).
 */
function gracefulVisible(lab) {
  return restartedVisible(lab, 1, 'SIGTERM', async (i) => {
    const owned = await split(lab);
    return owned[i % owned.length];
  });
}

/** Two instances; kill -9 instance 1 and do not restart it: ms until an event of one of its partitions is visible. */
async function replacedVisible(lab) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    if (!lab.speeds.get(1)?.child || lab.speeds.get(1).child.exitCode !== null || lab.speeds.get(1).child.signalCode !== null) {
      await lab.startSpeed(1);
      await lab.ready(1);
    }
    const owned = await split(lab);
    const t0 = Date.now();
    await lab.kill(1, 'SIGKILL');
    const user = lab.userOn(owned[0], 'replaced');
    await lab.postFor(user);
    times.push((await lab.visible(user)) - t0);
  }
  return times;
}

/** Partitions instance `slot` owns now, from its metrics. */
async function ownedBy(lab, slot) {
  const text = await metricsText(lab.speeds.get(slot).url);
  return [...text.matchAll(/^sigflow_speed_owned_partitions\{partition="(\d+)"[^}]*\} 1$/gm)].map((m) => Number(m[1]));
}

/** Waits until two instances split the partitions (each owns some). */
async function split(lab) {
  for (let i = 0; i < 200; i++) {
    const [a, b] = [await ownedBy(lab, 0), await ownedBy(lab, 1)];
    if (a.length > 0 && b.length > 0 && a.length + b.length === 4) return b;
    await sleep(100);
  }
  throw new Error('the two instances did not split the partitions');
}

/** The speed section of bench:recovery. */
export async function speedRecovery() {
  const lab = new SpeedLab();
  try {
    await lab.setUp();
    await lab.startSpeed(0);
    await lab.ready(0);
    const warm = await lab.post('first');
    await lab.visible(warm);
    const restart = await restartVisible(lab);
    await lab.startSpeed(1);
    await lab.ready(1);
    const graceful = await gracefulVisible(lab);
    const replaced = await replacedVisible(lab);
    const result = {
      restartVisibleMs: median(restart),
      replacedVisibleMs: median(replaced),
      gracefulVisibleMs: median(graceful),
      runs: { restart, replaced, graceful },
      settings: { sessionTimeoutMs: lab.config.speed.sessionTimeoutMs, heartbeatIntervalMs: lab.config.speed.heartbeatIntervalMs },
      targets: { restartVisibleMs: 3_000, replacedVisibleMs: 12_000, gracefulVisibleMs: 1_000 },
    };
    console.log(`speed recovery: restart ${result.restartVisibleMs} ms, replaced ${result.replacedVisibleMs} ms, graceful ${result.gracefulVisibleMs} ms (runs ${JSON.stringify(result.runs)})`);
    return result;
  } finally {
    await lab.tearDown();
  }
}

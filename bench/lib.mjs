// Helpers shared by the benchmarks.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka } from '@sigflow/kafka';
import { createRedis, StoreKeys } from '@sigflow/store';
import { childPids } from '@sigflow/test-support';
import { serviceNodeArgs } from '../infra/lib/process.mjs';

export const root = path.resolve(new URL('..', import.meta.url).pathname);

/** Starts a service from its built entry point with extra env; resolves once /healthz answers. */
export async function startService(entry, { env = {}, url, nodeArgs = [] }) {
  const child = spawn(process.execPath, [...serviceNodeArgs(entry), ...nodeArgs, path.join(root, entry)], {
    cwd: root,
    env: { ...process.env, SIGFLOW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return child;
    } catch {
      // not yet listening
    }
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`${entry} did not become healthy at ${url}`);
}

export async function stopService(child) {
  // Exited already (a code), or killed by a signal (no code, a signalCode): nothing to wait for.
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** A service's Prometheus exposition: the text of its /metrics. */
export async function metricsText(url) {
  return (await fetch(`${url}/metrics`)).text();
}

/** CPU seconds (user + system) a child process has used so far (Linux /proc). */
export function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Node flags an environment variable lists, space-separated (experiments: `--trace-gc`, `--cpu-prof ...`); none when unset. */
export function nodeArgsFrom(variable) {
  return (process.env[variable] ?? '').split(' ').filter(Boolean);
}

/** Node flags that write a CPU profile to bench/results/profiles/ when BENCH_PROFILE is set (none otherwise). */
export const profileNodeArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.join(root, 'bench/results/profiles')}`] : [];

/** CPU seconds of a process and its children (a `node:cluster` primary and its workers). */
export function treeCpuSeconds(pid) {
  return childPids(pid).reduce((sum, child) => sum + treeCpuSeconds(child), cpuSeconds(pid) ?? 0);
}

/** CPU seconds Redis's server process has used (INFO cpu: user + sys). */
export async function redisCpuSeconds(redis) {
  const info = await redis.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/**
 * A speed-layer bench run of its own: topics, Redis prefix and consumer group named after a
 * fresh id, `partitions` event partitions; the environment for its processes and the clients to watch them.
 */
export function isolatedSpeedRun(name, partitions = 4) {
  const id = `bench-${name}-${randomUUID().slice(0, 8)}`;
  const env = { SIGFLOW_TOPIC_PREFIX: `${id}-`, SIGFLOW_REDIS_PREFIX: id, SIGFLOW_SPEED_GROUP: `${id}-speed`, SIGFLOW_EVENT_PARTITIONS: String(partitions) };
  const config = loadConfig({ ...process.env, ...env });
  return {
    id,
    env,
    config,
    kafka: createKafka(config.kafka),
    topics: topicsFor(config.kafka.topicPrefix),
    redis: createRedis(config.redis),
    keys: new StoreKeys(config.redis.keyPrefix),
  };
}

/** Median of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The machine's load, to read figures against (2 shared cores). */
export function load() {
  return { loadavg1m: os.loadavg()[0], cpus: os.cpus().length };
}

/** The value after `--name` on the command line, else `fallback`. */
export function commandLineArg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}

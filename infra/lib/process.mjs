// Process helpers for infra scripts: node builtins only, so they run before `npm install`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The repository root (infra/lib/.. /..). */
export const repoRoot = path.resolve(new URL('../..', import.meta.url).pathname);

/** Runtime state of locally started servers (git-ignored). */
export const varDir = path.join(repoRoot, 'var');

/**
 * The node flags a service runs with, from its package.json `sigflow.nodeArgs` (the speed
 * layer's young generation, say): one place, read by every launcher (start, tests, benches).
 * `entry` is the service's `dist/main.js`, relative to the repository root.
 */
export function serviceNodeArgs(entry) {
  // Off only for measurements of what the flags bring (bench/runtime-ab.mjs).
  if (process.env.SIGFLOW_SERVICE_NODE_ARGS === 'off') return [];
  const manifest = path.join(repoRoot, path.dirname(path.dirname(entry)), 'package.json');
  try {
    const args = JSON.parse(fs.readFileSync(manifest, 'utf8')).sigflow?.nodeArgs;
    return Array.isArray(args) ? args.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * What a platform whose services share one machine runs with unless its environment says
 * otherwise (`npm start` sets these; the compose file has the same defaults): the batch layer's
 * recomputes at nice 10, so they take the cores the speed layer leaves.
 */
export const sharedMachineEnv = Object.freeze({ SIGFLOW_BATCH_NICE: '10' });

export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The command line of a pid (Linux), or '' when it is gone. */
export function cmdlineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Resolves true when something accepts TCP connections on host:port. */
export function portAnswers(port, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Ports this process handed out: each is given once, whether or not its server has bound it yet. */
const handedOut = new Set();

/**
 * A free TCP port on 127.0.0.1 (for servers tests start themselves), never one this process
 * handed out before: a suite takes the ports of all its services before starting any, and the
 * kernel may offer a port again as soon as the probe closes it. Two services on one port let
 * the second's /healthz be answered by the first while the second fails to listen.
 */
export async function freePort() {
  for (;;) {
    const port = await probePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function probePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a detached daemon whose output goes to `logFile` and records its pid in
 * `pidFile`, so a stop script can end exactly what was started.
 */
export function spawnDaemon(command, args, { logFile, pidFile, cwd = repoRoot, env = process.env }) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.mkdirSync(path.dirname(pidFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.unref();
  fs.writeFileSync(pidFile, `${child.pid}\n`);
  return child.pid;
}

/** The pid recorded in a pid file, if that process still runs and matches `expect`. */
export function runningPid(pidFile, expect) {
  let pid;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (expect && !cmdlineOf(pid).includes(expect)) return undefined;
  return pid;
}

/** Ends the process recorded in `pidFile` (SIGTERM, then SIGKILL after `graceMs`). */
export async function stopByPidFile(pidFile, { expect, graceMs = 20_000, signal = 'SIGTERM' } = {}) {
  const pid = runningPid(pidFile, expect);
  if (pid === undefined) {
    fs.rmSync(pidFile, { force: true });
    return false;
  }
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  fs.rmSync(pidFile, { force: true });
  return true;
}

/** Polls `check` until it resolves truthy or `timeoutMs` passes. */
export async function waitFor(what, check, { timeoutMs = 60_000, intervalMs = 200 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// Redis for local runs: the server on 127.0.0.1:6379 when it answers, else one started
// here. Tests that restart Redis or need persistence start their own on a spare port.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { varDir, runningPid, spawnDaemon, stopByPidFile, waitFor } from '../lib/process.mjs';

/** Resolves true when a Redis server answers PING on host:port. */
export function redisAnswers(port = 6379, host = '127.0.0.1', timeoutMs = 500) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    let reply = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

/**
 * Starts `redis-server` on `port` with its files in `dir`.
 * `persistence: true` turns on the append-only file (fsync every second).
 */
export async function startRedisServer({ port, dir = path.join(varDir, `redis-${port}`), persistence = false }) {
  fs.mkdirSync(dir, { recursive: true });
  const pidFile = path.join(dir, 'redis.pid');
  if (runningPid(pidFile, 'redis-server') !== undefined && (await redisAnswers(port))) {
    return { port, dir, pidFile, started: false };
  }
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no'];
  args.push(...(persistence ? ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''] : ['--save', '', '--appendonly', 'no']));
  spawnDaemon('redis-server', args, { logFile: path.join(dir, 'redis.log'), pidFile });
  await waitFor(`redis-server on port ${port}`, () => redisAnswers(port), { timeoutMs: 20_000, intervalMs: 100 });
  return { port, dir, pidFile, started: true };
}

export function stopRedisServer({ dir, signal = 'SIGTERM' }) {
  return stopByPidFile(path.join(dir, 'redis.pid'), { expect: 'redis-server', signal, graceMs: 10_000 });
}

/** Makes sure Redis answers on `port`: uses the running one, else starts one. */
export async function ensureRedis({ port = 6379, log = console.error } = {}) {
  if (await redisAnswers(port)) return { port, started: false };
  log(`no Redis on 127.0.0.1:${port}; starting redis-server`);
  const server = await startRedisServer({ port });
  return { ...server, started: true };
}

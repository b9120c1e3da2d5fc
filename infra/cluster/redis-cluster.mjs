// A local Redis Cluster: 3 masters with one replica each, on spare ports, with an ACL user and
// password (the default user is off, so every client must authenticate). Node builtins only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runningPid, spawnDaemon, stopByPidFile, waitFor } from '../lib/process.mjs';

/** Ports of the six nodes (their cluster bus is the port + 10000). */
export const redisClusterPorts = [7301, 7302, 7303, 7304, 7305, 7306];

/** A node's files: config (with the ACL user, so mode 600), data, log and pid. */
export function redisNodeLayout(dir, port) {
  const nodeDir = path.join(dir, String(port));
  return {
    dir: nodeDir,
    config: path.join(nodeDir, 'redis.conf'),
    log: path.join(nodeDir, 'redis.log'),
    pidFile: path.join(nodeDir, 'redis.pid'),
  };
}

function writeNodeConfig(layout, port, { user, password, nodeTimeoutMs }) {
  fs.mkdirSync(layout.dir, { recursive: true });
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${layout.dir}`,
    'cluster-enabled yes',
    'cluster-config-file nodes.conf',
    // A master unreachable this long is failed over to its replica.
    `cluster-node-timeout ${nodeTimeoutMs}`,
    // In memory only, like the single-node Redis of the tests: a replica holds the copy.
    'save ""',
    'appendonly no',
    // ACL: no anonymous access; one user for the platform, which replicas also use.
    'user default off',
    `user ${user} on >${password} ~* &* +@all`,
    `masteruser ${user}`,
    `masterauth ${password}`,
    '',
  ];
  fs.writeFileSync(layout.config, lines.join('\n'), { mode: 0o600 });
}

/** Runs redis-cli as the ACL user (the password goes in the environment, not the command line). */
export function redisCli(port, args, { user, password }) {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--user', user, '--no-auth-warning', ...args], {
    env: { ...process.env, REDISCLI_AUTH: password },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The `CLUSTER INFO` fields of a node, or undefined when it does not answer. */
export function clusterInfo(port, auth) {
  try {
    return Object.fromEntries(
      redisCli(port, ['cluster', 'info'], auth)
        .split(/\r?\n/)
        .filter((l) => l.includes(':'))
        .map((l) => l.split(':')),
    );
  } catch {
    return undefined;
  }
}

/** Starts one node (its config written), unless ours already runs there. */
export async function startRedisNode(dir, port, auth, { nodeTimeoutMs = 2_000 } = {}) {
  const layout = redisNodeLayout(dir, port);
  // An ACL-protected server answers an anonymous PING with NOAUTH: ask as the user.
  if (runningPid(layout.pidFile, 'redis-server') !== undefined && clusterInfo(port, auth) !== undefined) return { port, started: false, layout };
  writeNodeConfig(layout, port, { ...auth, nodeTimeoutMs });
  const pid = spawnDaemon('redis-server', [layout.config], { logFile: layout.log, pidFile: layout.pidFile });
  await waitFor(`redis-server on port ${port}`, () => clusterInfo(port, auth) !== undefined, { timeoutMs: 20_000, intervalMs: 100 });
  return { port, pid, started: true, layout };
}

/**
 * Starts the six nodes and joins them (`redis-cli --cluster create ... --cluster-replicas 1`)
 * unless they already form a cluster; resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster({ dir, auth, ports = redisClusterPorts, log = console.error }) {
  const nodes = await Promise.all(ports.map((port) => startRedisNode(dir, port, auth)));
  const formed = ports.every((port) => Number(clusterInfo(port, auth)?.cluster_known_nodes ?? 0) === ports.length);
  if (!formed) {
    log(`joining Redis Cluster on ports ${ports.join(', ')} (3 masters, 1 replica each)`);
    redisCli(ports[0], ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], auth);
  }
  await waitFor(
    'Redis Cluster state ok on every node',
    () => ports.every((port) => clusterInfo(port, auth)?.cluster_state === 'ok'),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  return { ports, started: nodes.some((n) => n.started) };
}

/** Stops the nodes recorded under `dir` (by their pid files); returns how many ran. */
export async function stopRedisCluster({ dir, ports = redisClusterPorts }) {
  const stopped = await Promise.all(
    ports.map((port) => stopByPidFile(redisNodeLayout(dir, port).pidFile, { expect: 'redis-server', graceMs: 10_000 })),
  );
  return stopped.filter(Boolean).length;
}

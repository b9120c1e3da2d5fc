// `npm run test:cluster` (not part of `npm test`): npm deps and the build, the local cluster
// (`npm run infra:cluster`: a 3-master Redis Cluster with replicas and an ACL user, a 3-broker
// Kafka), then the suites of test/vitest.cluster.config.ts against it by configuration alone,
// then the reliability table of the run. Fails when any command of the run hit CROSSSLOT on
// the cluster (every multi-key command, script, transaction and pipeline must stay in one slot).
// The cluster is stopped at the end, passed or failed (SIGFLOW_KEEP_CLUSTER=1 keeps it up).
import './runtime.mjs';
import path from 'node:path';
import { build } from './build.mjs';
import { root, run } from './lib.mjs';

const started = Date.now();
build();
const { clusterUp } = await import('../infra/cluster/up.mjs');
const { redisClusterPorts, redisCli } = await import('../infra/cluster/redis-cluster.mjs');
const { clusterDown } = await import('../infra/cluster/down.mjs');
const clusterEnv = await clusterUp();
try {
  process.exitCode = await testOnCluster(clusterEnv);
} finally {
  if (process.env.SIGFLOW_KEEP_CLUSTER !== '1') await clusterDown();
}

/** The suites against the cluster, the CROSSSLOT check and the table; resolves with the exit code. */
async function testOnCluster(clusterEnv) {
  const auth = { user: clusterEnv.SIGFLOW_REDIS_USERNAME, password: clusterEnv.SIGFLOW_REDIS_PASSWORD };

  /** Errors by kind the node answered since its last reset (`INFO errorstats`). */
  function errorStats(port) {
    const stats = {};
    for (const line of redisCli(port, ['info', 'errorstats'], auth).split(/\r?\n/)) {
      const m = /^errorstat_([A-Z]+):count=(\d+)/.exec(line);
      if (m) stats[m[1]] = Number(m[2]);
    }
    return stats;
  }

  // The check below must be able to fail: a cross-slot MGET is refused and counted by the node
  // it reached, then the counters start from zero for the run.
  try {
    redisCli(redisClusterPorts[0], ['mget', 'sigflow-check:{a}', 'sigflow-check:{b}'], auth);
  } catch {
    // redis-cli exits non-zero on an error reply with some versions
  }
  const counted = redisClusterPorts.reduce((n, port) => n + (errorStats(port).CROSSSLOT ?? 0), 0);
  if (counted === 0) {
    console.error('INFO errorstats did not count a CROSSSLOT reply: the slot check cannot work here');
    return 1;
  }
  for (const port of redisClusterPorts) redisCli(port, ['config', 'resetstat'], auth);
  const runId = `cluster-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const env = { ...process.env, ...clusterEnv, SIGFLOW_RELIABILITY_RUN: runId, SIGFLOW_LOG_LEVEL: process.env.SIGFLOW_LOG_LEVEL ?? 'warn' };
  const filters = process.argv.slice(2);
  const code = await run('npx', ['vitest', 'run', '--config', 'vitest.cluster.config.ts', ...filters], { cwd: path.join(root, 'test'), env });

  let crossSlot = 0;
  for (const port of redisClusterPorts) {
    try {
      const n = errorStats(port).CROSSSLOT ?? 0;
      if (n > 0) console.error(`Redis node 127.0.0.1:${port} answered CROSSSLOT ${n} time(s)`);
      crossSlot += n;
    } catch (err) {
      console.error(`could not read INFO errorstats of 127.0.0.1:${port}: ${err.message}`);
      crossSlot += 1;
    }
  }
  console.log(crossSlot === 0 ? 'no command of the run hit CROSSSLOT' : `FAIL: ${crossSlot} command(s) of the run hit CROSSSLOT`);
  const printed = await run('node', [path.join(root, 'test/reliability/support/print-table.mjs'), runId, '--merge'], { env });
  console.log(`test:cluster took ${Math.round((Date.now() - started) / 1000)} s`);
  return code !== 0 ? code : crossSlot > 0 ? 1 : printed;
}

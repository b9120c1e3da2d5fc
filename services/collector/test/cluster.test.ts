import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { topicsFor } from '@sigflow/events';
import { createKafka, deleteTopics } from '@sigflow/kafka';
import { checkClusterLifecycle, childPids, waitForTrue } from '@sigflow/test-support';
import { freePort } from '../../../infra/lib/process.mjs';

// The built entry point, as `npm start` runs it (the package's test script builds first).
const entry = new URL('../dist/main.js', import.meta.url).pathname;

describe('collector as a cluster of 2 processes', () => {
  const prefix = `t-cluster-${randomUUID().slice(0, 8)}-`;
  const config = loadConfig({ ...process.env, SIGFLOW_TOPIC_PREFIX: prefix });
  let port: number;
  let primary: ChildProcess;
  let exited: Promise<number | null>;

  const start = async () => {
    primary = spawn(process.execPath, [entry], {
      env: { ...process.env, SIGFLOW_TOPIC_PREFIX: prefix, SIGFLOW_COLLECTOR_PORT: String(port), SIGFLOW_COLLECTOR_PROCESSES: '2', SIGFLOW_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    exited = new Promise((resolve) => primary.once('exit', resolve));
    await waitForTrue('the collector to answer /healthz', () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false), 30_000, 100);
  };

  beforeAll(async () => {
    port = await freePort();
    await start();
  }, 60_000);

  afterAll(async () => {
    if (primary.exitCode === null) primary.kill('SIGKILL');
    await deleteTopics(createKafka(config.kafka), Object.values(topicsFor(prefix)));
  });

  it('runs two servers behind one port and serves the sum of their metrics', async () => {
    const workers = childPids(primary.pid!);
    expect(workers).toHaveLength(2);
    // 20 requests on fresh connections: the primary hands connections to both workers in turn.
    const now = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, r) =>
        fetch(`http://127.0.0.1:${port}/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ event_id: `c-${r}-${i}`, type: 'page_view', user_id: `u${i}`, ts: now, page_id: 'home' }))),
        }).then((res) => res.status),
      ),
    );
    expect(statuses).toEqual(new Array(20).fill(202));
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } })).text();
      expect(text).toMatch(/^sigflow_collector_events_accepted_total\{service="collector"\} 100$/m);
      expect(text).toMatch(/^sigflow_collector_requests_total\{status="202",service="collector"\} 20$/m);
    }
  });

  it('finishes and exits with its workers on SIGTERM, and its workers follow a primary killed with -9', async () => {
    await checkClusterLifecycle({ current: () => ({ primary, exited }), start, workers: 2 });
  }, 90_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { childPids, isAlive } from '@sigflow/test-support';
import { freePort } from '../../../infra/lib/process.mjs';

const fixture = new URL('./fixtures/slow-worker-cluster.mjs', import.meta.url).pathname;

interface FixtureCluster {
  readonly primary: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
}

/** Starts the fixture cluster, whose second worker starts 8 s late, and waits until the first serves. */
async function startSlowCluster(): Promise<FixtureCluster> {
  const port = await freePort();
  // Longer than any metrics timeout, and than the test takes.
  const primary = spawn(process.execPath, [fixture, String(port)], { env: { ...process.env, SLOW_WORKER_MS: '8000' }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => primary.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 200) throw new Error('the fixture cluster did not listen');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { primary, url, exited };
}

describe('a server cluster primary', () => {
  let running: FixtureCluster | undefined;
  afterEach(() => {
    running?.primary.kill('SIGKILL');
    running = undefined;
  });

  describe('when a worker is still starting', () => {
    it('answers /metrics with the sum over the workers that listen, at once', async () => {
      running = await startSlowCluster();
      const { url } = running;
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/hit`, { headers: { connection: 'close' } })).status).toBe(200);
      const started = Date.now();
      const res = await fetch(`${url}/metrics`, { headers: { connection: 'close' } });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(text).toMatch(/^fixture_hits_total\{service="fixture"\} 3$/m);
      // Not after a timeout on the starting worker.
      expect(Date.now() - started).toBeLessThan(4_000);
    }, 30_000);

    it('stops on SIGTERM with exit code 0, and ends the worker still starting', async () => {
      running = await startSlowCluster();
      const { primary, exited } = running;
      const workers = childPids(primary.pid as number);
      expect(workers).toHaveLength(2);
      const signalled = Date.now();
      primary.kill('SIGTERM');
      expect(await exited).toBe(0);
      // Not after the stop grace (10 s): the starting worker had nothing to finish.
      expect(Date.now() - signalled).toBeLessThan(5_000);
      for (const pid of workers) expect(isAlive(pid), `worker ${pid}`).toBe(false);
    }, 30_000);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';

const fixture = new URL('./fixtures/slow-worker-cluster.mjs', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a cluster primary summing its workers’ /metrics', () => {
  let primary: ChildProcess | undefined;
  afterAll(() => {
    primary?.kill('SIGKILL');
  });

  describe('when a worker is still starting', () => {
    it('answers with the sum over the workers that listen, at once', async () => {
      const port = await freePort();
      // The second worker listens 8 s after the first: longer than any metrics timeout.
      primary = spawn(process.execPath, [fixture, String(port)], { env: { ...process.env, SLOW_WORKER_MS: '8000' }, stdio: ['ignore', 'ignore', 'inherit'] });
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
        if (up) break;
        if (i > 200) throw new Error('the fixture cluster did not listen');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (let i = 0; i < 3; i++) expect((await fetch(`${url}/hit`, { headers: { connection: 'close' } })).status).toBe(200);
      const started = Date.now();
      const res = await fetch(`${url}/metrics`, { headers: { connection: 'close' } });
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(text).toMatch(/^fixture_hits_total\{service="fixture"\} 3$/m);
      // Not after a timeout on the starting worker.
      expect(Date.now() - started).toBeLessThan(4_000);
    }, 30_000);
  });
});

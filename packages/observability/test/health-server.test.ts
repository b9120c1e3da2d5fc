import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, startHealthServer } from '../src/index.js';

describe('health server', () => {
  it('answers /healthz, /readyz from the readiness check, /metrics with the service label, 404 otherwise', async () => {
    let ready = false;
    const registry = createMetricsRegistry('probe-test');
    const server = await startHealthServer({ port: 0, registry, ready: () => ready });
    const url = `http://127.0.0.1:${server.port}`;
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(503);
      ready = true;
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/sigflow_process_cpu_seconds_total\{service="probe-test"\}/);
      expect((await fetch(`${url}/nope`)).status).toBe(404);
      expect((await fetch(`${url}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('reports not ready when the check throws', async () => {
    const server = await startHealthServer({
      port: 0,
      registry: createMetricsRegistry('x'),
      ready: () => {
        throw new Error('Redis is gone');
      },
    });
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', error: 'Redis is gone' });
    await server.close();
  });
});

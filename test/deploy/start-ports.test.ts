// `npm start` (scripts/start.mjs) runs every service and the demo site on one machine, each on
// its default port: two defaults alike and one of them cannot listen (the demo site once shared
// 7005 with the bidding service's /metrics and exited at every start).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@sigflow/config';
import { repoRoot } from '../support/services.js';

const start = fs.readFileSync(path.join(repoRoot, 'scripts/start.mjs'), 'utf8');
/** Every `port('SIGFLOW_..._PORT', default)` of the start script. */
const defaults = [...start.matchAll(/port\('(SIGFLOW_[A-Z_]+)', (\d+)\)/g)].map(([, name, port]) => ({ name: name as string, port: Number(port) }));

describe('npm start ports', () => {
  it('gives every service and the demo site a port of its own', () => {
    expect(defaults.map((d) => d.name)).toEqual(expect.arrayContaining(['SIGFLOW_DEMO_SITE_PORT', 'SIGFLOW_BIDDING_METRICS_PORT', 'SIGFLOW_API_PORT']));
    const byPort = new Map<number, string[]>();
    for (const d of defaults) byPort.set(d.port, [...(byPort.get(d.port) ?? []), d.name]);
    expect([...byPort.values()].filter((names) => names.length > 1)).toEqual([]);
  });

  it('starts the services on the ports their configuration defaults to', () => {
    const c = loadConfig({});
    const configured: Record<string, number> = {
      SIGFLOW_API_PORT: c.api.port,
      SIGFLOW_COLLECTOR_PORT: c.collector.port,
      SIGFLOW_SPEED_METRICS_PORT: c.speed.metricsPort,
      SIGFLOW_ARCHIVER_METRICS_PORT: c.archiver.metricsPort,
      SIGFLOW_BATCH_METRICS_PORT: c.batch.metricsPort,
      SIGFLOW_BIDDING_METRICS_PORT: c.bidding.metricsPort,
      SIGFLOW_ALERTS_METRICS_PORT: c.alerts.metricsPort,
    };
    for (const d of defaults.filter((x) => x.name in configured)) expect(d.port, d.name).toBe(configured[d.name]);
  });
});

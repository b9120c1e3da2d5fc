import { describe, expect, it } from 'vitest';
import { Histogram, Registry } from 'prom-client';
import { EventHistogram } from '../src/index.js';

const buckets = [0.001, 0.005, 0.01, 0.1, 1];

/** The exposition's lines of one metric, without HELP and TYPE. */
async function series(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.getSingleMetricAsString(name);
  return text.split('\n').filter((line) => !line.startsWith('#'));
}

describe('EventHistogram', () => {
  it('counts each value in the first bucket whose bound it does not pass (hand-counted)', async () => {
    const registry = new Registry();
    const h = new EventHistogram({ name: 'h_seconds', help: 'h', buckets, registers: [registry] });
    // 0.001 is in le=0.001 (a bound holds its own value); 0.0011 in 0.005; 7 past every bound.
    for (const v of [0, 0.001, 0.0011, 0.005, 0.02, 0.02, 0.5, 7]) h.observe(v);
    expect(await series(registry, 'h_seconds')).toEqual([
      'h_seconds_bucket{le="0.001"} 2',
      'h_seconds_bucket{le="0.005"} 4',
      'h_seconds_bucket{le="0.01"} 4',
      'h_seconds_bucket{le="0.1"} 6',
      'h_seconds_bucket{le="1"} 7',
      'h_seconds_bucket{le="+Inf"} 8',
      `h_seconds_sum ${0 + 0.001 + 0.0011 + 0.005 + 0.02 + 0.02 + 0.5 + 7}`,
      'h_seconds_count 8',
    ]);
  });

  it("renders what prom-client's Histogram renders for the same values, default labels included", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    for (const r of [ours, theirs]) r.setDefaultLabels({ service: 'speed' });
    const h = new EventHistogram({ name: 'lat_seconds', help: 'latency', buckets, registers: [ours] });
    const reference = new Histogram({ name: 'lat_seconds', help: 'latency', buckets, registers: [theirs] });
    for (let i = 0; i < 5_000; i++) {
      const v = ((i * 7919) % 1_300) / 1_000;
      h.observe(v);
      reference.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('leaves out what is not a finite number, and starts again from zero when reset', async () => {
    const registry = new Registry();
    const h = new EventHistogram({ name: 'r_seconds', help: 'r', buckets, registers: [registry] });
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    h.observe(0.05);
    expect(await series(registry, 'r_seconds')).toContain('r_seconds_count 1');
    h.reset();
    expect(await series(registry, 'r_seconds')).toContain('r_seconds_bucket{le="+Inf"} 0');
  });

  it('refuses buckets that do not ascend', () => {
    expect(() => new EventHistogram({ name: 'bad', help: 'b', buckets: [0.1, 0.1], registers: [] })).toThrow('buckets must ascend');
  });
});

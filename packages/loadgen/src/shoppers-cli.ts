#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runShoppers } from './shoppers.js';

const usage = `sigflow-shoppers --collector <url> --write-key <key> [--visits-per-second 2] [--duration 86400] [--seed 1]

Demo shoppers sent with Segment's analytics-node to the collector's Segment API: searches, items
viewed and wishlisted, traits, pages, promotions and orders.`;

/** Parses the flags; exits 2 with the usage on a bad one. */
function settings(argv: readonly string[]) {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        collector: { type: 'string' },
        'write-key': { type: 'string' },
        'visits-per-second': { type: 'string', default: '2' },
        duration: { type: 'string', default: '86400' },
        seed: { type: 'string', default: '1' },
      },
    });
    const visitsPerSecond = Number(values['visits-per-second']);
    const durationS = Number(values.duration);
    const seed = Number(values.seed);
    if (!values.collector || !values['write-key']) throw new Error('--collector and --write-key are required');
    if (!(visitsPerSecond > 0 && visitsPerSecond <= 1_000) || !(durationS > 0) || !Number.isInteger(seed)) throw new Error('--visits-per-second in (0, 1000], --duration > 0 s and an integer --seed');
    return { collectorUrl: values.collector, writeKey: values['write-key'], visitsPerSecond, durationMs: durationS * 1_000, seed };
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}

const options = settings(process.argv.slice(2));
let failures = 0;
const { visits } = await runShoppers({
  ...options,
  onError: (err) => {
    if (failures++ % 100 === 0) console.error(`[shoppers] delivery failed (${failures} so far): ${(err as { reason?: Error }).reason?.message ?? String(err)}`);
  },
});
console.error(`[shoppers] ${visits} visits sent, ${failures} delivery failures`);

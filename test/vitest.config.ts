import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

// Integration suites start real processes: one file at a time on 2 cores. The suites of
// `npm run test:cluster` (test/cluster) need the local cluster: vitest.cluster.config.ts runs them.
// speed/speed-faults.test.ts runs there only: on the single node the reliability suites
// (faults/kill-consumers, faults/rebalance) make the same kills and rebalances, checked against
// the same truth. The long rows run in `npm run test:reliability` only (it sets
// SIGFLOW_RELIABILITY_FULL): reliability/network (faults injected on a loopback link), the
// upgrade from the previous release (it builds that release once), the collector's load run
// and the two-host S3 row (37 and 34 s of the fault lane's 359 s on
// 2026-11-26, when CI took 823 s for the whole `npm test`). The platform's 30-minute soak
// (reliability/soak) runs in `npm run test:soak` only (it sets SIGFLOW_SOAK).
const longRows = ['reliability/network/**', 'reliability/load/**', 'reliability/faults/two-hosts-s3.test.ts', 'reliability/upgrade/**'];
const reliabilityOnly = process.env['SIGFLOW_RELIABILITY_FULL'] ? [] : longRows;
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['**/*.test.ts'],
      exclude: ['**/node_modules/**', ...(process.env['SIGFLOW_SOAK'] ? [] : ['reliability/soak/**']), 'cluster/**', 'speed/speed-faults.test.ts', ...reliabilityOnly],
      fileParallelism: false,
      // The soak's generator truth and sent ids for ~10 M events outgrow the default heap.
      ...(process.env['SIGFLOW_SOAK'] ? { execArgv: ['--max-old-space-size=8192'] } : {}),
      testTimeout: 180_000,
      hookTimeout: 180_000,
    },
  }),
);

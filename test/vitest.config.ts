import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

// Integration suites start real processes: one file at a time on 2 cores. The suites of
// `npm run test:cluster` (test/cluster) need the local cluster: vitest.cluster.config.ts runs them.
// speed/speed-faults.test.ts runs there only: on the single node the reliability suites
// (faults/kill-consumers, faults/rebalance) make the same kills and rebalances, checked against
// the same truth. reliability/network (faults injected on a loopback link, long rows) runs in
// `npm run test:reliability` only, which sets SIGFLOW_NETWORK_FAULTS.
const network = process.env['SIGFLOW_NETWORK_FAULTS'] ? [] : ['reliability/network/**'];
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['**/*.test.ts'],
      exclude: ['**/node_modules/**', 'reliability/soak/**', 'cluster/**', 'speed/speed-faults.test.ts', ...network],
      fileParallelism: false,
      testTimeout: 180_000,
      hookTimeout: 180_000,
    },
  }),
);

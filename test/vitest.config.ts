import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

// Integration suites start real processes: one file at a time on 2 cores. The suites of
// `npm run test:cluster` (test/cluster) need the local cluster: vitest.cluster.config.ts runs them.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['**/*.test.ts'],
      exclude: ['**/node_modules/**', 'reliability/soak/**', 'cluster/**'],
      fileParallelism: false,
      testTimeout: 180_000,
      hookTimeout: 180_000,
    },
  }),
);

import { defineConfig, mergeConfig } from 'vitest/config';
import shared from '../vitest.shared.ts';

/**
 * `npm run test:cluster`: against the local Redis Cluster and 3-broker Kafka (the settings come
 * from var/cluster/cluster.env through the environment): the node-loss scenarios, and the
 * single-node suites that need nothing but the configuration to run on a cluster.
 */
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ['cluster/**/*.test.ts', 'speed/speed-truth.test.ts', 'speed/speed-faults.test.ts', 'layers/one-definition.test.ts', 'ops/ops-surfaces.test.ts'],
      exclude: ['**/node_modules/**'],
      fileParallelism: false,
      testTimeout: 240_000,
      hookTimeout: 240_000,
    },
  }),
);

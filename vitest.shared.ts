// Shared vitest settings: each workspace's vitest.config.ts spreads these.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.SIGFLOW_TEST_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.SIGFLOW_TEST_REPORT
      ? { json: `${process.env.SIGFLOW_TEST_REPORT}/${process.env.npm_package_name?.replace(/[@/]/g, '_') ?? 'tests'}.json` }
      : {},
  },
});

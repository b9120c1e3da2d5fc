// Shared vitest settings: each workspace's vitest.config.ts spreads these.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Test files of a worker share its module cache instead of importing everything again per
    // file: on 2 cores the core package's tests took 17 s of CPU isolated and 6 s shared.
    // Tests must not leave state behind that another file could see (each uses its own
    // prefixes, ports and registries).
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.SIGFLOW_TEST_REPORT ? ['default', 'json'] : ['default'],
    outputFile: process.env.SIGFLOW_TEST_REPORT
      ? { json: `${process.env.SIGFLOW_TEST_REPORT}/${process.env.npm_package_name?.replace(/[@/]/g, '_') ?? 'tests'}.json` }
      : {},
  },
});

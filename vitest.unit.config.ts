// `npm test`'s unit tests: every workspace's tests (not the integration suites of test/) in one
// vitest process, so the modules they share load once and 21 vitest start-ups become one.
import { defineConfig } from 'vitest/config';
import shared from './vitest.shared.ts';

export default defineConfig({
  ...shared,
  // Not mergeConfig: it would append these to the shared `include` (test/**, the integration suites).
  test: { ...shared.test, include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts', 'jobs/*/test/**/*.test.ts'] },
});

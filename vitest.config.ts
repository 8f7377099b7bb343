import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['./test/support/temp-root.ts'],
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/support/failure-summary.ts'],
  },
});

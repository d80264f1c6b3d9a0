import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.stack/**'],
    // Brings up (or finds) a real Kafka and schema registry once for the whole run; see test/support/stack.ts.
    globalSetup: ['test/support/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // Two cores: more workers only fight over them and over the one broker.
    maxWorkers: 2,
  },
});

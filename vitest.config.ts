import { defineConfig } from 'vitest/config';

// Test groups: unit (no services), integration (real services), e2e (whole pipelines).
// `npm test` runs all of them. Integration and e2e start the real services through the harness
// in infra/local (test/setup/services.ts), which fails the run under CI=true when one cannot start.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/services.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/setup/services.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
    passWithNoTests: false,
  },
});

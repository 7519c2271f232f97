import { defineConfig } from 'vitest/config';

// Test groups: unit (no services), integration (real services), e2e (whole pipelines).
// `npm test` runs all of them. Integration and e2e start the real services through the harness
// in infra/local (test/setup/services.ts), which fails the run under CI=true when one cannot start.
export default defineConfig({
  // `cdc-cache/…` self-imports resolve to the .ts sources in the checkout (package.json exports).
  // The others are Vite's server defaults but 'module' (it would pick the AWS SDK's dist-es, which Node cannot load).
  resolve: { conditions: ['cdc-cache-source', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['cdc-cache-source', 'node', 'development|production'] } },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
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
        extends: true,
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

import { defineConfig } from 'vitest/config';

// Test groups: unit (no services), integration (real services), e2e (whole pipelines).
// `npm test` runs all of them; the real-service harness joins through globalSetup.
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
    ],
  },
});

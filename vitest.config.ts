import { defineConfig } from 'vitest/config';

// Test groups: unit (no services), integration (real services), e2e (whole pipelines).
// `npm test` runs all of them. Integration and e2e start the real services through the harness
// in infra/local (test/setup/services.ts), which fails the run under CI=true when one cannot start.
//
// Scheduling (CI time, .ci/run): Vitest's default is one worker fewer than the cores, i.e. one file
// at a time on the 2-core CI machine, where most e2e files wait on brokers, session timeouts and
// child processes rather than compute. Two groups, one after the other:
// 1. `e2e` and `unit` share PARALLEL_FILES workers (same `sequence.groupOrder` and `maxWorkers`; the
//    e2e files, the longest, are scheduled first and the short CPU-bound unit files fill the gaps);
// 2. `integration` and `e2e-solo`, one file at a time, as before: several integration files check
//    server-side expiry with 150 ms TTLs or fixed 60 s test timeouts, which a second busy file on
//    2 cores can break; they were not measured green in parallel.
// `--project e2e` does not select the solo files: `--project 'e2e*'` selects both.
const PARALLEL_FILES = 2;
const SOLO_E2E = [
  // A timed fault schedule (SIGKILLs, a 10 s target outage) whose "nothing lost" check is under
  // investigation: kept as it ran before.
  'test/e2e/consumers/kafka-faults.test.ts',
  // `npm pack` in the checkout: its prepack rebuilds dist/ and strips the `cdc-cache-source`
  // condition from package.json until postpack, which other files read (self-imports, exports test).
  'test/e2e/package/install-from-tarball.test.ts',
  // CPU-hungry (writers, apps, two CDC children, near-cache readers) and it asserts every near
  // cache had hits, which a starved run can miss (it did with another e2e file beside it under load).
  'test/e2e/consistency/consistency.test.ts',
];

/** The projects that need the real services (test/setup/services.ts starts them). */
const services = { globalSetup: ['test/setup/services.ts'], environment: 'node', hookTimeout: 300_000 };

export default defineConfig({
  // `cdc-cache/…` self-imports resolve to the .ts sources in the checkout (package.json exports).
  // The others are Vite's server defaults but 'module' (it would pick the AWS SDK's dist-es, which Node cannot load).
  resolve: { conditions: ['cdc-cache-source', 'node', 'development|production'] },
  ssr: { resolve: { conditions: ['cdc-cache-source', 'node', 'development|production'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          maxWorkers: PARALLEL_FILES,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          ...services,
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          ...services,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          exclude: SOLO_E2E,
          testTimeout: 180_000,
          maxWorkers: PARALLEL_FILES,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          ...services,
          name: 'e2e-solo',
          include: SOLO_E2E,
          testTimeout: 180_000,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
    passWithNoTests: false,
  },
});

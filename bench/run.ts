/**
 * `npm run bench`: runs the benchmark suite, one benchmark after another, each printing its own
 * side-by-side table and appending its result (with the exact command) to bench/results/.
 *
 *   node bench/run.ts [--only decode-plan,engine,valkey,lambda,consumers] [--quick]
 *
 * The engine, Valkey, Lambda and consumer benchmarks need the real services of infra/local
 * (`npm run services:up`); see each script's header for its own flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
});
const quick = values.quick;

/** name → command line (node arguments), in run order. */
const SUITE: Record<string, string[]> = {
  'decode-plan': [
    'bench/decode-plan.ts',
    '--events',
    quick ? '50000' : '200000',
    '--runs',
    quick ? '3' : '5',
    '--write',
  ],
  engine: ['bench/engine/run.ts'],
  valkey: ['bench/valkey/apply.ts', '--events', quick ? '50000' : '200000', '--runs', '3', '--write'],
  lambda: ['bench/lambda/cold-init.ts', '--runs', quick ? '5' : '15'],
  consumers: ['bench/consumers/kafka-consumer.ts'],
};

const wanted = values.only?.split(',') ?? Object.keys(SUITE);
let failed = 0;
for (const name of wanted) {
  const args = SUITE[name];
  if (args === undefined) {
    console.error(`bench: unknown benchmark "${name}"; known: ${Object.keys(SUITE).join(', ')}`);
    process.exitCode = 2;
    continue;
  }
  if (!existsSync(args[0]!)) {
    console.error(`bench: ${name}: ${args[0]} is missing`);
    failed++;
    continue;
  }
  console.log(`\n== ${name}: node ${args.join(' ')}`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${name} exited with ${r.status}`);
    failed++;
  }
}
if (failed > 0) process.exitCode = 1;

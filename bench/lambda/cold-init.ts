/**
 * Cold init of the Lambda bundles: for each handler, N fresh Node processes each import the
 * bundle and run one invocation (a real fixture event) against a running target, the way a cold
 * Lambda execution environment does its init + first invoke. Reports the median and the worst.
 * Target: <= 150 ms (import + first invocation). Build first: `node functions/build.ts`.
 *
 *   node bench/lambda/cold-init.ts [--runs 15] [--target engine-server|valkey://127.0.0.1:16379] [--write]
 *
 * `engine-server` (default) starts the engine's RESP server in this process and points the
 * handlers at it (`engine://127.0.0.1:PORT`). `--write` appends the table to bench/results/lambda.md;
 * with CDC_CACHE_BENCH_JSON set, one result line per handler and metric goes there (bench/suite.ts).
 * No peer: the targets are absolute (bundle size, cold init); the warm per-batch cost with
 * its peer is bench/lambda/per-batch.ts.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Metafile } from 'esbuild';
import { startEngineServer } from '../../engine/index.ts';
import { handlerBytes } from '../../functions/build.ts';
import { emitResult } from '../suite.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    target: { type: 'string', default: 'engine-server' },
    write: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);

const RULES = JSON.parse(readFileSync(join(ROOT, 'examples', 'cdc-cache.config.json'), 'utf8'));
const EVENTS = {
  dynamodb: join(ROOT, 'test', 'fixtures', 'dynamodb', 'lambda-event-insert-modify-remove.json'),
  kafka: join(ROOT, 'test', 'fixtures', 'lambda-kafka', 'msk-debezium-event.json'),
};

interface Sample {
  importMs: number;
  firstInvokeMs: number;
  totalMs: number;
  failures: number;
}

function once(bundle: string, event: string, target: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'lambda', 'cold-init-child.ts')], {
      env: {
        PATH: process.env.PATH,
        CDC_BENCH_BUNDLE: bundle,
        CDC_BENCH_EVENT: event,
        CDC_CACHE_RULES: JSON.stringify(RULES),
        CDC_CACHE_TARGET: target,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    });
    let out = '';
    child.stdio[3]!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || out === '') reject(new Error(`child exited with ${code}`));
      else resolve(JSON.parse(out) as Sample);
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const server = values.target === 'engine-server' ? await startEngineServer({ port: 0 }) : undefined;
const target = server ? `engine://127.0.0.1:${server.port}` : values.target;
const rows: string[] = [];
try {
  for (const name of ['dynamodb', 'kafka'] as const) {
    const bundle = join(ROOT, 'dist', 'functions', 'lambda', `${name}.mjs`);
    if (!existsSync(bundle)) throw new Error(`${bundle} missing: run node functions/build.ts first`);
    const samples: Sample[] = [];
    await once(bundle, EVENTS[name], target); // warm the OS file cache, not the process
    for (let i = 0; i < runs; i++) samples.push(await once(bundle, EVENTS[name], target));
    if (samples.some((s) => s.failures > 0)) throw new Error(`${name}: the invocation reported failures`);
    // What the handler can load: its entry and every chunk reachable from it (functions/build.ts).
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'functions', 'meta.json'), 'utf8')) as Metafile;
    const kb = (handlerBytes(meta, `dist/functions/lambda/${name}.mjs`).bytes / 1024).toFixed(1);
    const cmd = `node bench/lambda/cold-init.ts --runs ${runs} --target ${values.target}`;
    const med = (f: (s: Sample) => number) => median(samples.map(f));
    emitResult({
      bench: 'lambda-cold-init',
      metric: `${name} handler: import + first invocation (fresh process), ms`,
      value: med((s) => s.totalMs),
      unit: 'ms',
      better: 'lower',
      target: 150,
      samples: runs,
      command: cmd,
      note: `import ${med((s) => s.importMs).toFixed(1)} ms + first invoke ${med((s) => s.firstInvokeMs).toFixed(1)} ms (medians), max total ${Math.max(...samples.map((s) => s.totalMs)).toFixed(1)} ms; target ${values.target}`,
    });
    emitResult({
      bench: 'lambda-cold-init',
      metric: `${name} handler: bundle size (minified)`,
      value: Number(kb),
      unit: 'KB',
      better: 'lower',
      target: 300,
      command: 'node functions/build.ts',
    });
    const row = `| ${name} | ${kb} KB | ${median(samples.map((s) => s.importMs)).toFixed(1)} | ${median(samples.map((s) => s.firstInvokeMs)).toFixed(1)} | ${median(samples.map((s) => s.totalMs)).toFixed(1)} | ${Math.max(...samples.map((s) => s.totalMs)).toFixed(1)} |`;
    rows.push(row);
  }
} finally {
  await server?.close();
}
const table = [
  `Cold init, ${runs} fresh processes per handler, target ${values.target} (Node ${process.version}, ${new Date().toISOString().slice(0, 10)})`,
  '',
  '| handler | bundle | import ms (median) | first invoke ms (median) | total ms (median) | total ms (max) |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
process.stdout.write(`${table}\n`);
if (values.write) {
  const file = join(ROOT, 'bench', 'results', 'lambda.md');
  if (!existsSync(file))
    writeFileSync(
      file,
      '# Lambda bundles: size and cold init\n\nTarget: <= 300 KB minified, <= 150 ms import + first invocation.\n',
    );
  appendFileSync(
    file,
    `\n\`node bench/lambda/cold-init.ts --runs ${runs} --target ${values.target}\`\n\n${table}\n`,
  );
}

/**
 * Per-batch cost of a warm Lambda handler (not a test): the built bundles (dist/functions, build
 * with `node functions/build.ts`) invoked in a warm process with 100-record batches, a DynamoDB
 * Streams batch (MODIFY, new and old images) and an MSK batch of Debezium updates (two keys per
 * record), into the engine server (its own process) and into Valkey (a private valkey-server).
 * Rules invalidate (bench/lambda/per-batch-child.ts has the events and the rules' keys).
 *
 * Peer, side by side in the same warm process and against the same server: the least any
 * invalidating handler must do for that batch: JSON.parse each record (Kafka: base64 first), take
 * the keys, and DEL them in one pipelined round trip over one connection, with no versions,
 * fencing, planning, batch-failure bookkeeping, logs or metrics. So the ratio is what the handler's
 * correctness machinery costs per batch over a bare invalidator. Reported: median and p99 ms per
 * batch over --iterations alternating invocations after --warmup.
 *
 *   node bench/lambda/per-batch.ts [--records 100] [--iterations 200] [--warmup 30] \
 *     [--targets engine,valkey] [--handlers dynamodb,kafka] [--write]
 *
 * `--write` appends the table to bench/results/lambda.md; with CDC_CACHE_BENCH_JSON set, one
 * result line per metric goes there (bench/suite.ts).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startOwnValkey } from '../../test/support/own-valkey.ts';
import { startEngineChild } from '../engine/harness.ts';
import { emitResult, formatNumber, median, percentile } from '../suite.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100' },
    iterations: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '30' },
    targets: { type: 'string', default: 'engine,valkey' },
    handlers: { type: 'string', default: 'dynamodb,kafka' },
    write: { type: 'boolean', default: false },
  },
});
const RECORDS = Number(values.records);
const ITERATIONS = Number(values.iterations);
const WARMUP = Number(values.warmup);
const command = `node bench/lambda/per-batch.ts --records ${RECORDS} --iterations ${ITERATIONS} --warmup ${WARMUP} --targets ${values.targets} --handlers ${values.handlers}`;

/** Invalidate-only rules, so ours and the peer touch exactly the same keys. */
const RULES = {
  rules: [
    {
      table: 'public.customers',
      source: 'debezium',
      keys: ['customer:{id}', 'customer:email:{email}'],
      action: 'invalidate',
      images: 'both', // full old images (REPLICA IDENTITY FULL); the records carry no schema
    },
    { table: 'ExampleTableWithStream', source: 'dynamodb', keys: ['message:{Id}'], action: 'invalidate' },
  ],
};

function runChild(
  kind: 'dynamodb' | 'kafka',
  targetUrl: string,
  port: number,
): Promise<{ ours: number[]; peer: number[] }> {
  const bundle = join(ROOT, 'dist', 'functions', 'lambda', `${kind}.mjs`);
  if (!existsSync(bundle)) throw new Error(`${bundle} missing: run node functions/build.ts first`);
  const job = { kind, host: '127.0.0.1', port, records: RECORDS, iterations: ITERATIONS, warmup: WARMUP };
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bench', 'lambda', 'per-batch-child.ts'), JSON.stringify(job)],
      {
        env: {
          PATH: process.env.PATH,
          CDC_BENCH_BUNDLE: bundle,
          CDC_CACHE_RULES: JSON.stringify(RULES),
          CDC_CACHE_TARGET: targetUrl,
        },
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdio[3]!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || out === '')
        reject(
          new Error(`per-batch child (${kind} → ${targetUrl}) exited ${code}: ${err.trim().slice(-1500)}`),
        );
      else resolve(JSON.parse(out) as { ours: number[]; peer: number[] });
    });
  });
}

const loadAtStart = loadavg();
const rows: string[] = [];
for (const targetName of values.targets.split(',')) {
  if (targetName !== 'engine' && targetName !== 'valkey')
    throw new Error(`--targets: unknown "${targetName}" (engine, valkey)`);
  const valkey = targetName === 'valkey' ? await startOwnValkey() : undefined;
  const engine = targetName === 'engine' ? await startEngineChild() : undefined;
  const port = valkey?.port ?? engine!.port;
  const url = valkey ? valkey.url : `engine://127.0.0.1:${port}`;
  const label = targetName === 'engine' ? 'engine server' : 'Valkey';
  try {
    for (const kind of values.handlers.split(',')) {
      if (kind !== 'dynamodb' && kind !== 'kafka') throw new Error(`--handlers: unknown "${kind}"`);
      const r = await runChild(kind, url, port);
      const what = kind === 'kafka' ? 'MSK Debezium' : 'DynamoDB Streams';
      const keysPer = kind === 'kafka' ? 2 : 1;
      for (const q of ['median', 'p99'] as const) {
        const f = (xs: number[]) => (q === 'median' ? median(xs) : percentile(xs, 0.99));
        const o = f(r.ours);
        const p = f(r.peer);
        emitResult({
          bench: 'lambda-per-batch',
          metric: `${kind} handler, warm, ${RECORDS}-record ${what} batch → ${label}: ms per batch (${q})`,
          value: o,
          unit: 'ms',
          peer: `JSON.parse + one pipelined DEL of the same ${RECORDS * keysPer} keys`,
          peerValue: p,
          ratio: o / p,
          better: 'lower',
          samples: r.ours.length,
          command,
        });
      }
      rows.push(
        `| ${kind} | ${label} | ${formatNumber(median(r.ours))} / ${formatNumber(percentile(r.ours, 0.99))} | ${formatNumber(median(r.peer))} / ${formatNumber(percentile(r.peer, 0.99))} | ${(median(r.ours) / median(r.peer)).toFixed(2)}× |`,
      );
    }
  } finally {
    await valkey?.stop();
    await engine?.stop();
  }
}
const table = [
  `Warm handler, ${RECORDS}-record batches, ${ITERATIONS} invocations after ${WARMUP} warm-up, alternating with the peer.`,
  '',
  '| handler | target | ours ms median / p99 | peer (JSON.parse + pipelined DEL) ms median / p99 | ratio (median) |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
console.log(table);
if (values.write) {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load ${loadAtStart[0]!.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`;
  appendFileSync(join(ROOT, 'bench', 'results', 'lambda.md'), `\n\`${command}\` (${machine})\n\n${table}\n`);
}

/**
 * The Lambda bundle folder: each handler within the size budget with no kafkajs; the lease stores
 * (which the handlers never take) in chunks no entry loads statically; and each handler runs from a
 * copy of the folder in a fresh Node process (no repository on the module path) against a running
 * engine server, answering a real fixture event.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { BUNDLE_DIR, type BundleReport, buildFunctions, MAX_BUNDLE_BYTES } from '../../../functions/build.ts';
import { FIXTURES } from '../../support/fixtures.ts';

const ROOT = join(FIXTURES, '..', '..');
const outdir = mkdtempSync(join(tmpdir(), 'cdc-bundles-'));
let reports: BundleReport[];
let engine: EngineServer;

beforeAll(async () => {
  reports = await buildFunctions({ outdir });
  engine = await startEngineServer({ port: 0 });
}, 120_000);
afterAll(async () => {
  await engine?.close();
});

function runBundle(
  name: string,
  event: string,
  env: Record<string, string>,
): Promise<{ failures: number; totalMs: number }> {
  // The folder is copied out of the repository so it cannot resolve anything from node_modules.
  const dir = mkdtempSync(join(tmpdir(), 'cdc-fn-'));
  cpSync(join(outdir, BUNDLE_DIR), dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'lambda', 'cold-init-child.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        CDC_BENCH_BUNDLE: join(dir, `${name}.mjs`),
        CDC_BENCH_EVENT: event,
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdio[3]!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) =>
      code === 0 && out !== '' ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

describe('Lambda bundles', () => {
  it('stay within the budget; the DynamoDB bundle has no kafkajs', () => {
    expect(reports.map((r) => r.name)).toEqual(['dynamodb', 'kafka']);
    for (const r of reports) {
      expect(r.problems).toEqual([]);
      expect(r.bytes).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
      expect(r.initBytes).toBeLessThan(r.bytes);
    }
  });

  it('hold the lease stores in chunks that no entry loads statically (the handlers never take leases)', () => {
    const meta = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8')) as Metafile;
    const outputOf = (input: RegExp) =>
      Object.entries(meta.outputs).filter(([, o]) => Object.keys(o.inputs).some((i) => input.test(i)));
    const staticClosure = (entry: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(entry)) return seen;
      seen.add(entry);
      for (const i of meta.outputs[entry]!.imports)
        if (!i.external && i.kind === 'import-statement') staticClosure(i.path, seen);
      return seen;
    };
    const entries = Object.keys(meta.outputs).filter((o) => /\/lambda\/(dynamodb|kafka)\.mjs$/.test(o));
    expect(entries).toHaveLength(2);
    const loadedAtInit = new Set(entries.flatMap((e) => [...staticClosure(e)]));
    const leaseChunks = outputOf(/core\/targets\/[^/]+\/[^/]+-(fill|shard)-lease-store\.ts$/);
    // Fill and shard stores of the three backends.
    const leaseInputs = leaseChunks.flatMap(([, o]) =>
      Object.keys(o.inputs).filter((i) => /-lease-store\.ts$/.test(i)),
    );
    expect(new Set(leaseInputs).size).toBe(6);
    for (const [file] of leaseChunks) expect(loadedAtInit.has(file)).toBe(false);
  });

  it.each([
    ['dynamodb', 'dynamodb/lambda-event-insert-modify-remove.json'],
    ['kafka', 'lambda-kafka/msk-debezium-event.json'],
  ])('the %s bundle runs standalone against the engine over RESP', async (name, event) => {
    const result = await runBundle(name, join(FIXTURES, event), {
      CDC_CACHE_RULES: JSON.stringify({
        rules: [
          { table: 'ExampleTableWithStream', keys: ['message:{Id}'], refresh: {} },
          { table: 'public.customers', keys: ['customer:{id}'], refresh: {} },
        ],
      }),
      CDC_CACHE_TARGET: `engine://127.0.0.1:${engine.port}`,
    });
    expect(result.failures).toBe(0);
  });
});

/**
 * The per-handler bundles: within the size budget, no kafkajs in the DynamoDB bundle, and each one
 * runs on its own in a fresh Node process (no repository on the module path) against a running
 * engine server, answering a real fixture event.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { type BundleReport, buildFunctions, MAX_BUNDLE_BYTES } from '../../../functions/build.ts';
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
  bundle: string,
  event: string,
  env: Record<string, string>,
): Promise<{ failures: number; totalMs: number }> {
  // The bundle is copied out of the repository so it cannot resolve anything from node_modules.
  const dir = mkdtempSync(join(tmpdir(), 'cdc-fn-'));
  cpSync(bundle, join(dir, 'index.mjs'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'lambda', 'cold-init-child.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        CDC_BENCH_BUNDLE: join(dir, 'index.mjs'),
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
    }
  });

  it.each([
    ['dynamodb', 'dynamodb/lambda-event-insert-modify-remove.json'],
    ['kafka', 'lambda-kafka/msk-debezium-event.json'],
  ])('the %s bundle runs standalone against the engine over RESP', async (name, event) => {
    const result = await runBundle(join(outdir, name, 'index.mjs'), join(FIXTURES, event), {
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

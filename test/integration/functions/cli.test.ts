/**
 * The CLI end to end: `cdc-cache lambda serve` as its own process, pointed at the engine served
 * over RESP, and `cdc-cache replay … --target lambda:NAME --endpoint URL` sending the example change
 * logs through it. The cache that results must equal a direct `replay --target engine`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { CLI, runCli as cli, ROOT } from '../../support/cli.ts';

const CONFIG = join(ROOT, 'examples', 'cdc-cache.config.json');
const DDB_LOG = join(ROOT, 'examples', 'changelogs', 'dynamodb.jsonl');
const DBZ_LOG = join(ROOT, 'examples', 'changelogs', 'debezium-postgres.jsonl');

describe('cdc-cache lambda serve + replay --target lambda:NAME', () => {
  let engine: EngineServer;
  let serve: ChildProcess;
  let endpoint: string;

  beforeAll(async () => {
    engine = await startEngineServer({ port: 0 });
    serve = spawn(
      process.execPath,
      [
        CLI,
        'lambda',
        'serve',
        '--port',
        '0',
        '--config',
        CONFIG,
        '--target',
        `engine://127.0.0.1:${engine.port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    endpoint = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`lambda serve did not start: ${err}`)), 20_000);
      serve.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      serve.on('exit', (code) => reject(new Error(`lambda serve exited with ${code}: ${err}`)));
    });
  });
  afterAll(async () => {
    if (serve && serve.exitCode === null) {
      const exited = new Promise((r) => serve.once('exit', r));
      serve.kill('SIGTERM');
      await exited;
    }
    await engine?.close();
  });

  it('replays both example change logs through the handlers into the same cache as a direct replay', async () => {
    const ddb = await cli(['replay', DDB_LOG, '--target', 'lambda:dynamodb', '--endpoint', endpoint]);
    expect(ddb.stderr).toBe('');
    expect(ddb.stdout).toMatch(
      /replayed (\d+) records \(\1 lines\) into lambda:dynamodb in 1 invocations: \1 acknowledged, 0 failed/,
    );
    expect(ddb.code).toBe(0);
    const dbz = await cli([
      'replay',
      DBZ_LOG,
      '--target',
      'lambda:cdc-cache-kafka',
      '--endpoint',
      endpoint,
      '--batch-size',
      '2',
    ]);
    expect(dbz.stdout).toMatch(
      /replayed (\d+) records \(\1 lines\) into lambda:cdc-cache-kafka in \d+ invocations: \1 acknowledged, 0 failed/,
    );
    expect(dbz.code).toBe(0);

    const direct = await cli([
      'replay',
      DBZ_LOG,
      DDB_LOG,
      '--config',
      CONFIG,
      '--target',
      'engine',
      '--dump',
      '--allow-dead-letters',
    ]);
    expect(direct.code).toBe(0);
    expect(engine.engine.dump()).toEqual(JSON.parse(direct.stdout));
  });

  it('refuses to send DynamoDB and Debezium records to one function', async () => {
    const r = await cli(['replay', DBZ_LOG, DDB_LOG, '--target', 'lambda:kafka', '--endpoint', endpoint]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/takes one kind of event.*replay them separately/);
  });

  it('an unknown function name is a one-line error', async () => {
    const r = await cli(['replay', DDB_LOG, '--target', 'lambda:nope', '--endpoint', endpoint]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^cdc-cache replay: Function not found: nope/);
  });
});

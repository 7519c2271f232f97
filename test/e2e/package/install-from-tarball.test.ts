/**
 * The package as a user gets it from the registry: `npm pack` (prepack builds dist/), the tarball
 * installed into a fresh project with nothing else, then every public surface used from there —
 * the CLI (version, decode, replay --dump, engine → PONG), every `exports` entry imported from an
 * .mjs file, the cache client and `cdc-cache/testing` used with no feature library (no Kafka, no AWS
 * SDK), the published manifest without the checkout's `cdc-cache-source` condition, a .ts file type-checked under moduleResolution nodenext and bundler, a vitest test on
 * `cdc-cache/testing` with a `cdc-cache.config.ts`, and a CDK stack synthesized from the installed
 * constructs with the shipped Lambda bundles. publint and arethetypeswrong check the tarball.
 *
 * Also measures the core install (size on disk, package count) and prints it. Installs use the
 * local npm cache (`--prefer-offline`); the feature libraries are installed at the repository's own
 * versions so they come from that cache.
 */
import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONAL_PACKAGES } from '../../../core/optional-dependency.ts';

const ROOT = join(import.meta.dirname, '../../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, unknown>;
};
const run = promisify(execFile);
// The app's own tools (npm, vitest) must not see this vitest run's variables.
const CHILD_ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_ENV' && k !== 'TEST'),
);
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

const work = mkdtempSync(join(tmpdir(), 'cdc-cache-pack-'));
const app = join(work, 'app');
let tarball = '';

/** The version of a package the repository has installed (so the app's install hits the npm cache). */
function repoVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  ).version;
}

async function sh(cmd: string, args: string[], cwd = app, timeout = 120_000) {
  try {
    return await run(cmd, args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: CHILD_ENV });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

const cli = (...args: string[]) => sh(join(app, 'node_modules/.bin/cdc-cache'), args);

function diskBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += diskBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

function write(name: string, text: string): void {
  mkdirSync(join(app, name, '..'), { recursive: true });
  writeFileSync(join(app, name), text);
}

/** The repository's package.json before `npm pack` (prepack strips it, postpack restores it). */
let manifestBeforePack = '';

beforeAll(async () => {
  manifestBeforePack = readFileSync(join(ROOT, 'package.json'), 'utf8');
  const { stdout } = await sh(
    'npm',
    ['pack', '--json', '--pack-destination', work, '--loglevel=error'],
    ROOT,
    // prepack builds dist/ (tsc twice over the project, the Lambda bundles): ~3 min on a quiet
    // 2-core machine, more than 4 at load 30, where the former 240 s limit killed it.
    900_000,
  );
  const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
    filename: string;
    size: number;
    entryCount: number;
  }[];
  tarball = join(work, packed[0]!.filename);
  console.log(`tarball: ${packed[0]!.filename} ${packed[0]!.size} bytes, ${packed[0]!.entryCount} files`);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  await sh('npm', ['install', ...NPM_FLAGS, tarball]);
}, 1_200_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the tarball', () => {
  it('holds dist, the bundles and the examples, and nothing from test/, bench/, .ci/ or the sources', async () => {
    const { stdout } = await sh('tar', ['-tzf', tarball], work);
    const files = stdout.trim().split('\n');
    expect(files).toContain('package/dist/bin/cdc-cache.js');
    expect(files).toContain('package/dist/functions/lambda/dynamodb.mjs');
    expect(files).toContain('package/dist/functions/lambda/kafka.mjs');
    expect(files.some((f) => /^package\/dist\/functions\/lambda\/chunks\/.+\.mjs$/.test(f))).toBe(true);
    expect(files.filter((f) => f.endsWith('/meta.json'))).toEqual([]);
    expect(files).toContain('package/dist/core/index.d.ts');
    // The user docs the README links ship with it: a relative link must not break on the registry.
    expect(files).toContain('package/docs/soft-invalidation-and-tags.md');
    expect(files).toContain('package/infra/debezium/README.md');
    expect(files).toContain('package/infra/debezium/postgres-connector.json');
    // Folder READMEs ship (the README links them); TypeScript sources do not, but the example config.
    const stray = files.filter(
      (f) =>
        (/^package\/(test|bench|\.ci|infra)\//.test(f) && !f.startsWith('package/infra/debezium/')) ||
        (/^package\/(core|engine|consumers|functions|bin)\//.test(f) && !f.endsWith('/README.md')) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'package/examples/cdc-cache.config.ts'),
    );
    expect(stray).toEqual([]);
  });

  it('ships a package.json without the checkout-only cdc-cache-source condition, every export target present; the checkout keeps it', () => {
    const installed = join(app, 'node_modules/cdc-cache');
    const text = readFileSync(join(installed, 'package.json'), 'utf8');
    expect(text).not.toContain('cdc-cache-source');
    const published = JSON.parse(text) as { exports: Record<string, Record<string, string> | string> };
    expect(Object.keys(published.exports)).toEqual(Object.keys(PKG.exports));
    for (const [subpath, target] of Object.entries(published.exports)) {
      if (typeof target === 'string') {
        if (!target.includes('*')) expect(statSync(join(installed, target)).isFile(), subpath).toBe(true);
        continue;
      }
      expect(Object.keys(target), subpath).toEqual(['types', 'import']);
      for (const file of Object.values(target))
        expect(statSync(join(installed, file)).isFile(), file).toBe(true);
    }
    // postpack put the repository's manifest back, byte for byte, and left no copy behind.
    expect(readFileSync(join(ROOT, 'package.json'), 'utf8')).toBe(manifestBeforePack);
    expect(manifestBeforePack).toContain('"cdc-cache-source"');
    expect(existsSync(join(ROOT, 'package.json.dev'))).toBe(false);
  });

  it('passes publint and arethetypeswrong (ESM-only profile: no CommonJS entry is promised)', async () => {
    const bin = join(ROOT, 'node_modules/.bin');
    const publint = await sh(join(bin, 'publint'), ['run', tarball, '--strict'], work);
    expect(publint.stdout).toContain('All good!');
    const attw = await sh(join(bin, 'attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], work);
    const report = JSON.parse(attw.stdout) as { analysis: { entrypoints: Record<string, unknown> } };
    expect(Object.keys(report.analysis.entrypoints).sort()).toEqual(Object.keys(PKG.exports).sort());
  });
});

describe('installed alone', () => {
  it('is small: core install size and package count (printed), no feature library', async () => {
    const bytes = diskBytes(join(app, 'node_modules'));
    const { stdout } = await sh('npm', ['ls', '--all', '--parseable']);
    const packages = stdout.trim().split('\n').length - 1;
    console.log(`core install: ${(bytes / 1e6).toFixed(2)} MB on disk, ${packages} packages`);
    expect(bytes).toBeLessThanOrEqual(5_000_000);
    for (const name of Object.keys(OPTIONAL_PACKAGES))
      expect(stdout).not.toContain(`/node_modules/${name}\n`);
  });

  it('cdc-cache --version and -v print the version', async () => {
    expect((await cli('--version')).stdout.trim()).toBe(PKG.version);
    expect((await cli('-v')).stdout.trim()).toBe(PKG.version);
  });

  it('decode and replay --dump work on the shipped example change logs', async () => {
    const examples = join(app, 'node_modules/cdc-cache/examples');
    const decoded = (await cli('decode', join(examples, 'changelogs/dynamodb.jsonl'))).stdout
      .trim()
      .split('\n');
    expect(decoded.length).toBeGreaterThan(0);
    expect(JSON.parse(decoded[0]!)).toMatchObject({ source: 'dynamodb', op: 'create' });
    const { stdout, stderr } = await cli(
      'replay',
      join(examples, 'changelogs/debezium-postgres.jsonl'),
      join(examples, 'changelogs/dynamodb.jsonl'),
      '--config',
      join(examples, 'cdc-cache.config.json'),
      '--dump',
    );
    expect(JSON.parse(stdout)['message:101']).toBe('{"Id":101,"Message":"This item has changed"}');
    expect(stderr).toContain('0 dead letters');
  });

  it("README's Installing commands run as written, with no warning", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /## Installing[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l.startsWith('npx cdc-cache'));
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const command of commands) {
      const { stdout, stderr } = await sh('sh', ['-c', command]);
      expect(stdout).not.toBe('');
      expect(stderr).not.toMatch(/warning|error/i);
    }
  });

  it('a feature without its library fails with one line naming the package', async () => {
    const config = 'node_modules/cdc-cache/examples/cdc-cache.config.json';
    const failed = await cli('consume', 'kafka', '--brokers', '127.0.0.1:1', '--config', config).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(failed).toContain(
      'cdc-cache consume kafka needs @platformatic/kafka, pino, prom-client: npm install @platformatic/kafka pino prom-client',
    );
    // The options can be read before the libraries are installed (it used to be the line above, or
    // a stack trace for `help consume`).
    for (const args of [
      ['consume', 'kafka', '--help'],
      ['help', 'consume'],
    ]) {
      const { stdout } = await cli(...args);
      expect(stdout).toContain('--brokers');
      expect(stdout).toContain('--dead-letter-topic');
    }
  });

  it('cdc-cache engine answers PING with PONG, and EVAL without wasmoon with one line naming it', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    // node_modules/.bin/cdc-cache is the container entry point README "Installing" gives: SIGTERM
    // must reach the process itself (through npx it did not: the engine kept running).
    const engine = spawn(join(app, 'node_modules/.bin/cdc-cache'), ['engine', '--port', String(port)], {
      cwd: app,
    });
    const exited = new Promise<number | null>((resolve) => engine.once('exit', (code) => resolve(code)));
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const deadline = Date.now() + 20_000;
        const attempt = () => {
          const socket = createConnection({ host: '127.0.0.1', port }, () =>
            socket.write('*1\r\n$4\r\nPING\r\n*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n'),
          );
          let got = '';
          socket.on('data', (d) => {
            got += d.toString();
            if (got.split('\r\n').length < 3) return;
            socket.destroy();
            resolve(got);
          });
          socket.once('error', (e) => {
            if (Date.now() > deadline) reject(e);
            else setTimeout(attempt, 200);
          });
        };
        attempt();
      });
      expect(reply).toBe(
        '+PONG\r\n-ERR scripting needs the optional package wasmoon: npm install wasmoon\r\n',
      );
      // A password the engine does not need: iovalkey's own [WARN] line used to reach stderr raw.
      const replay = await cli(
        'replay',
        'node_modules/cdc-cache/examples/changelogs/dynamodb.jsonl',
        '--config',
        'node_modules/cdc-cache/examples/cdc-cache.config.json',
        '--target',
        `engine://:not-needed@127.0.0.1:${port}`,
      );
      expect(replay.stderr).not.toContain('[WARN]');
      expect(replay.stderr).toMatch(/^warning: target client: iovalkey: .*does not require a password/m);
    } finally {
      engine.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('every verb prints its --help without feature libraries; a usage error points at that help', async () => {
    for (const verb of [
      'decode',
      'replay',
      'engine',
      'consume',
      'lambda',
      'record',
      'verify',
      'dead-letters',
    ]) {
      const { stdout } = await cli(verb, '--help');
      expect(stdout, verb).toMatch(/--help/);
    }
    // The command list is aligned (one column for the descriptions).
    const usage = (await cli('--help')).stdout.split('\n').filter((l) => /^ {2}[a-z-]/.test(l));
    const column = (l: string) => l.length - l.replace(/^ {2}\S.*?\s{2,}/, '').length;
    expect(new Set(usage.map(column))).toEqual(new Set([28]));
    const usageError = await cli('verify', 'x.jsonl').then(
      () => '',
      (e: Error) => e.message,
    );
    expect(usageError).toContain('Run "cdc-cache verify --help" for its options.');
  });

  it('the published JavaScript has short lines (an uncaught error prints its line, not a whole module)', () => {
    const long: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) visit(path);
        else if (/\.m?js$/.test(entry.name) && !path.includes('/functions/lambda/')) {
          const widest = Math.max(
            ...readFileSync(path, 'utf8')
              .split('\n')
              .map((l) => l.length),
          );
          if (widest > 1000) long.push(`${path.slice(app.length)}: ${widest}`);
        }
      }
    };
    visit(join(app, 'node_modules/cdc-cache/dist'));
    expect(long).toEqual([]);
  });

  it('a .ts config: the shipped example in place, and an ES-module config in a "type": "commonjs" project, each fail with one line naming the fix; .mts loads', async () => {
    const example = 'node_modules/cdc-cache/examples/cdc-cache.config.ts';
    const log = 'node_modules/cdc-cache/examples/changelogs/dynamodb.jsonl';
    const inPlace = await cli('replay', log, '--config', example).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(inPlace).toContain('Node runs no TypeScript under node_modules: copy the file into your project');
    // What `npm init` writes: "type": "commonjs". The README's config, copied there as it says.
    write('cjs/package.json', JSON.stringify({ name: 'cjs', type: 'commonjs' }));
    write('cjs/cdc-cache.config.ts', readFileSync(join(app, example), 'utf8'));
    write('cjs/cdc-cache.config.mts', readFileSync(join(app, example), 'utf8'));
    const cjs = await sh(
      join(app, 'node_modules/.bin/cdc-cache'),
      ['replay', `../${log}`, '--config', 'cdc-cache.config.ts'],
      join(app, 'cjs'),
    ).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(cjs).toContain('this config is an ES module (import/export) but');
    expect(cjs).toContain('rename it cdc-cache.config.mts, or set "type": "module" in that package.json');
    expect(cjs).not.toContain('Warning:');
    const mts = await sh(
      join(app, 'node_modules/.bin/cdc-cache'),
      ['replay', `../${log}`, '--config', 'cdc-cache.config.mts', '--dump'],
      join(app, 'cjs'),
    );
    expect(JSON.parse(mts.stdout)['message:101']).toBe('{"Id":101,"Message":"This item has changed"}');
  });

  it('every exports entry without a feature library imports from an .mjs file; the client works', async () => {
    const entries = Object.keys(PKG.exports).filter(
      (e) => !/^\.\/(package\.json|schemas\/\*|cdk|functions\/.*)$/.test(e),
    );
    write(
      'entries.mjs',
      `for (const e of ${JSON.stringify(entries)}) await import(e === '.' ? 'cdc-cache' : 'cdc-cache' + e.slice(1));
import { createCacheClient, leaseStoreFor } from 'cdc-cache/client';
import { createEngineTarget } from 'cdc-cache/targets/engine';
const cache = createCacheClient({ store: leaseStoreFor(createEngineTarget()), ttlMs: 60_000 });
let loads = 0;
const load = async () => { loads++; return { id: 1, name: 'Ada' }; };
const a = await cache.getOrLoad('user:1', load);
const b = await cache.getOrLoad('user:1', load);
console.log(JSON.stringify({ a, b, loads }));
`,
    );
    const { stdout } = await sh(process.execPath, ['entries.mjs']);
    expect(JSON.parse(stdout)).toEqual({ a: { id: 1, name: 'Ada' }, b: { id: 1, name: 'Ada' }, loads: 1 });
    // What an application team's tests do, still with no Kafka client and no AWS SDK installed.
    const examples = 'node_modules/cdc-cache/examples';
    write(
      'testing.mjs',
      `import { createTestCache } from 'cdc-cache/testing';
const cache = await createTestCache({ config: '${examples}/cdc-cache.config.json' });
await cache.replay(['${examples}/changelogs/dynamodb.jsonl']);
console.log(JSON.stringify(cache.get('message:101')));
`,
    );
    const testing = await sh(process.execPath, ['testing.mjs']);
    expect(JSON.parse(testing.stdout)).toBe('{"Id":101,"Message":"This item has changed"}');
    const installed = readdirSync(join(app, 'node_modules'));
    expect(installed.filter((n) => /^(@aws-sdk|@smithy|@platformatic|kafkajs|aws-cdk-lib)$/.test(n))).toEqual(
      [],
    );
    const cdk = await sh(process.execPath, [
      '-e',
      "import('cdc-cache/cdk').catch((e) => console.log(e.message))",
    ]);
    expect(cdk.stdout).toContain("Cannot find package 'aws-cdk-lib'");
  });
});

describe('with the libraries a user adds', () => {
  beforeAll(async () => {
    const extras = [
      'typescript',
      'vitest',
      '@types/node',
      'aws-cdk-lib',
      'constructs',
      '@aws-lambda-powertools/logger',
    ];
    await sh('npm', ['install', ...NPM_FLAGS, ...extras.map((n) => `${n}@${repoVersion(n)}`)], app, 240_000);
  }, 300_000);

  it('the Lambda handler entries and the schemas import once their library is installed', async () => {
    write(
      'handlers.mjs',
      `const d = await import('cdc-cache/functions/dynamodb');
const k = await import('cdc-cache/functions/kafka');
const schema = (await import('cdc-cache/schemas/cdc-cache.config.schema.json', { with: { type: 'json' } })).default;
console.log(JSON.stringify([typeof d.handler, typeof k.handler, typeof schema]));
`,
    );
    expect(JSON.parse((await sh(process.execPath, ['handlers.mjs'])).stdout)).toEqual([
      'function',
      'function',
      'object',
    ]);
  });

  it('a .ts file importing the client type-checks under nodenext and bundler resolution', async () => {
    write(
      'src/app.ts',
      `import { type CacheClient, createCacheClient, defineConfig, leaseStoreFor } from 'cdc-cache';
import { createEngine } from 'cdc-cache/engine';
import { createEngineTarget } from 'cdc-cache/targets/engine';
import { createValkeyTarget } from 'cdc-cache/targets/valkey';
import { createTestCache } from 'cdc-cache/testing';
import type { CacheFunctionProps } from 'cdc-cache/cdk';
import { handler } from 'cdc-cache/functions/dynamodb';
const client: CacheClient = createCacheClient({ store: leaseStoreFor(createEngineTarget()) });
const user: { id: number } = await client.getOrLoad('user:1', async () => ({ id: 1 }));
export const used = [user, createEngine, createValkeyTarget, createTestCache, handler, defineConfig({ rules: [] })];
export type Props = CacheFunctionProps;
`,
    );
    const base = { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
    for (const [name, options] of [
      ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
      ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
    ] as const) {
      write(
        `tsconfig.${name}.json`,
        JSON.stringify({ compilerOptions: { ...base, ...options }, files: ['src/app.ts'] }),
      );
      // Two full checks (skipLibCheck false, aws-cdk-lib's declarations included): minutes on a loaded machine.
      await sh(
        process.execPath,
        ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${name}.json`],
        app,
        240_000,
      );
    }
  }, 500_000);

  it('a vitest test uses cdc-cache/testing with a cdc-cache.config.ts written with defineConfig', async () => {
    write(
      'cdc-cache.config.ts',
      `import { defineConfig } from 'cdc-cache';
export default defineConfig({ rules: [{ table: 'customers', keys: ['customer:{id}'], refresh: { fields: ['id', 'email'], ttl: 60 } }] });
`,
    );
    write(
      'test/rules.test.ts',
      `import { createTestCache } from 'cdc-cache/testing';
import { expect, it } from 'vitest';
it('refreshes and expires', async () => {
  const cache = await createTestCache({ config: 'cdc-cache.config.ts' });
  await cache.replay(['node_modules/cdc-cache/examples/changelogs/debezium-postgres.jsonl']);
  expect(JSON.parse(cache.get('customer:1001') ?? 'null')).toEqual({ id: 1001, email: 'sally.thomas@acme.com' });
  cache.advance(61_000);
  expect(cache.get('customer:1001')).toBeNull();
});
`,
    );
    const { stdout } = await sh(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--root', app]);
    expect(stdout).toMatch(/1 passed/);
  });

  it('the shipped Lambda bundle applies a DynamoDB Streams batch into Valkey (its lazily loaded iovalkey chunk has only a default export)', async () => {
    // Before the fix every invocation into Valkey failed with "o is not a constructor": the bundle
    // split iovalkey into a chunk exporting only `default`, and the target read `Valkey` off it.
    const url = process.env.CDC_CACHE_VALKEY_URL ?? 'valkey://127.0.0.1:16379';
    const id = String(Date.now());
    const key = `pkg-bundle:message:${id}`;
    const seed = new Valkey(url);
    try {
      await seed.set(key, 'stale');
      const script = join(app, 'invoke-bundle.mjs');
      writeFileSync(
        script,
        `const { handler } = await import('./node_modules/cdc-cache/dist/functions/lambda/dynamodb.mjs');
const arn = 'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899';
const image = { Id: { N: '${id}' }, Message: { S: 'changed' } };
const event = { Records: [{ eventID: 'e1', eventName: 'MODIFY', eventVersion: '1.1', eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1', eventSourceARN: arn, dynamodb: { Keys: { Id: { N: '${id}' } }, NewImage: image, OldImage: image,
  ApproximateCreationDateTime: 1428537600, SequenceNumber: '4421584500000000017450439091', SizeBytes: 59,
  StreamViewType: 'NEW_AND_OLD_IMAGES' } }] };
const context = { awsRequestId: 'pkg', functionName: 'pkg', getRemainingTimeInMillis: () => 60000 };
const result = await handler(event, context);
console.log(JSON.stringify(result));
process.exit(0);
`,
      );
      const rules = {
        keyPrefix: 'pkg-bundle:',
        rules: [
          {
            table: 'ExampleTableWithStream',
            source: 'dynamodb',
            keys: ['message:{Id}'],
            action: 'invalidate',
          },
        ],
      };
      const { stdout } = await run(process.execPath, [script], {
        cwd: app,
        timeout: 60_000,
        env: { ...CHILD_ENV, CDC_CACHE_RULES: JSON.stringify(rules), CDC_CACHE_TARGET: url },
      }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
      });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ batchItemFailures: [] });
      expect(await seed.get(key)).toBeNull();
    } finally {
      seed.disconnect();
    }
  });

  it('a CDK stack synthesizes from the installed constructs with the shipped bundles and a rules file', async () => {
    write('rules.json', JSON.stringify({ rules: [{ table: 'Orders', keys: ['order:{pk}'] }] }));
    write(
      'stack.mjs',
      `import { App, Stack } from 'aws-cdk-lib';
import { CacheFunction } from 'cdc-cache/cdk';
const app = new App({ outdir: 'cdk.out', context: { 'aws:cdk:enable-asset-metadata': true } });
const stack = new Stack(app, 'Users');
new CacheFunction(stack, 'Shipped', { handler: 'dynamodb', cache: { url: 'valkey://cache:6379' }, deadLetter: 'log' });
new CacheFunction(stack, 'WithRules', { handler: 'kafka', cache: { url: 'valkey://cache:6379' }, deadLetter: 'log', rulesFile: 'rules.json' });
const template = app.synth().getStackByName('Users').template;
console.log(JSON.stringify(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => r.Metadata['aws:asset:path'])));
`,
    );
    const { stdout } = await sh(process.execPath, ['stack.mjs']);
    const assets = JSON.parse(stdout) as string[];
    expect(assets).toHaveLength(2);
    const shipped = readFileSync(
      join(app, 'node_modules/cdc-cache/dist/functions/lambda/dynamodb.mjs'),
      'utf8',
    );
    const code = [
      readFileSync(join(app, 'cdk.out', assets[0]!, 'dynamodb.mjs'), 'utf8'),
      readFileSync(join(app, 'cdk.out', assets[1]!, 'kafka.mjs'), 'utf8'),
    ];
    expect(code[0]).toBe(shipped);
    expect(code[1]).toMatch(/^globalThis.__CDC_CACHE_BUNDLED_CONFIG__ = \{"rules":\[\{"table":"Orders"/);
  });
});

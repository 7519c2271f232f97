/**
 * Builds one esbuild bundle per Lambda handler into dist/functions/<name>/index.mjs (handler
 * `index.handler`, runtime nodejs24.x), minified and tree-shaken, and checks the budgets:
 * at most 300 KB per bundle, and no kafkajs in the DynamoDB bundle (core/ never imports it; this
 * keeps it that way). `@aws-sdk/client-*` stays external: the Lambda Node.js runtime ships SDK v3,
 * and the handlers only load a client (SQS) for an SQS dead-letter queue. Everything else is
 * bundled, so a bundle runs with nothing installed. `npm pack` ships these bundles (prepack).
 *
 *   node functions/build.ts [--config cdc-cache.config.json] [--outdir dist/functions] [--no-minify]
 *
 * `--config` embeds a JSON config in the bundles (used when neither CDC_CACHE_RULES nor
 * CDC_CACHE_CONFIG is set). Prints one line per bundle: name, bytes, gzip bytes, top inputs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The handlers and what must never be in their bundle. */
export const HANDLERS = {
  dynamodb: { entry: 'functions/dynamodb-handler.ts', forbidden: ['node_modules/kafkajs/'] },
  kafka: { entry: 'functions/kafka-handler.ts', forbidden: ['node_modules/kafkajs/'] },
} as const;

/**
 * The handlers only apply ops: they never take fill leases (the app-side client's) or shard leases
 * (the DynamoDB poller's), which every target serves as capabilities (core/targets/cache-target.ts).
 * The bundles get those stores as stubs that throw, so the ~10 KB of lease code stays out of every
 * bundle (and out of the package's install-size budget).
 */
const LEASE_STORE_MODULE = /[\\/]core[\\/]targets[\\/][^\\/]+[\\/][^\\/]+-(fill|shard)-lease-store\.ts$/;

/** Replaces each lease-store module with one whose exported functions throw (see LEASE_STORE_MODULE). */
export const leaseStoreStubs: Plugin = {
  name: 'lease-store-stubs',
  setup(b) {
    b.onLoad({ filter: LEASE_STORE_MODULE }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const names = [...source.matchAll(/^export (?:async )?(?:function|const) (\w+)/gm)].map((m) => m[1]!);
      const stub = (n: string) =>
        `export const ${n} = () => { throw new Error('${n}: lease stores are not in the Lambda bundles'); };`;
      return { contents: names.map(stub).join('\n'), loader: 'js' };
    });
  },
};

/** Size budget per minified bundle, bytes. */
export const MAX_BUNDLE_BYTES = 300 * 1024;

/** One built bundle. */
export interface BundleReport {
  name: string;
  file: string;
  bytes: number;
  gzipBytes: number;
  /** The largest inputs, `[path, bytes in output]`. */
  top: [string, number][];
  problems: string[];
}

// ESM bundles of CommonJS dependencies (iovalkey) need `require` for Node built-ins.
const BANNER =
  "import { createRequire as __cdcCreateRequire } from 'node:module'; const require = __cdcCreateRequire(import.meta.url);";

/** Builds every handler; resolves with one report per bundle. */
export async function buildFunctions(
  options: { outdir?: string; config?: string; minify?: boolean } = {},
): Promise<BundleReport[]> {
  const outdir = options.outdir ?? join(ROOT, 'dist', 'functions');
  let banner = BANNER;
  if (options.config !== undefined) {
    const config: unknown = JSON.parse(readFileSync(options.config, 'utf8'));
    banner += `\nglobalThis.__CDC_CACHE_BUNDLED_CONFIG__ = ${JSON.stringify(config)};`;
  }
  const reports: BundleReport[] = [];
  for (const [name, spec] of Object.entries(HANDLERS)) {
    const file = join(outdir, name, 'index.mjs');
    mkdirSync(dirname(file), { recursive: true });
    const result = await build({
      entryPoints: [join(ROOT, spec.entry)],
      outfile: file,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: options.minify ?? true,
      treeShaking: true,
      sourcemap: false,
      legalComments: 'none',
      external: ['@aws-sdk/client-*'],
      banner: { js: banner },
      plugins: [leaseStoreStubs],
      metafile: true,
      logLevel: 'warning',
    });
    const meta = result.metafile as Metafile;
    const output = Object.values(meta.outputs)[0]!;
    const inputs = Object.entries(output.inputs).map(
      ([path, i]) => [path, i.bytesInOutput] as [string, number],
    );
    const bytes = readFileSync(file).length;
    const problems: string[] = [];
    for (const f of spec.forbidden)
      if (inputs.some(([p, n]) => p.includes(f) && n > 0)) problems.push(`${name}: contains ${f}`);
    if (name === 'dynamodb' && inputs.some(([p]) => p.includes('node_modules/kafkajs/')))
      problems.push('dynamodb: contains kafkajs');
    if (bytes > MAX_BUNDLE_BYTES) problems.push(`${name}: ${bytes} bytes > ${MAX_BUNDLE_BYTES}`);
    const byPackage = new Map<string, number>();
    for (const [p, n] of inputs) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(p);
      const key = m ? m[1]! : p.split('/').slice(0, 1).join('/');
      byPackage.set(key, (byPackage.get(key) ?? 0) + n);
    }
    reports.push({
      name,
      file: relative(ROOT, file),
      bytes,
      gzipBytes: gzipSync(readFileSync(file)).length,
      top: [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 6),
      problems,
    });
    writeFileSync(join(outdir, name, 'meta.json'), JSON.stringify(meta));
  }
  return reports;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      outdir: { type: 'string' },
      'no-minify': { type: 'boolean', default: false },
    },
  });
  const reports = await buildFunctions({
    ...(values.config === undefined ? {} : { config: values.config }),
    ...(values.outdir === undefined ? {} : { outdir: values.outdir }),
    minify: !values['no-minify'],
  });
  let failed = false;
  for (const r of reports) {
    const top = r.top.map(([p, n]) => `${p} ${(n / 1024).toFixed(1)}K`).join(', ');
    process.stdout.write(
      `${r.name}: ${r.file} ${(r.bytes / 1024).toFixed(1)} KB (gzip ${(r.gzipBytes / 1024).toFixed(1)} KB) — ${top}\n`,
    );
    for (const p of r.problems) {
      failed = true;
      process.stderr.write(`budget: ${p}\n`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

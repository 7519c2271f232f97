/**
 * Builds the published package into dist/ (run by `npm pack` / `npm publish` through `prepack`;
 * development runs the .ts sources directly and never needs it):
 *
 * 1. `tsc -p tsconfig.build.json`, twice: ESM JavaScript without comments (then without whitespace,
 *    see minifyWhitespace), then .d.ts with their doc comments, for core, engine, functions, consumers,
 *    bin and the CDK constructs, in the source layout (dist/core/index.js, …); the .d.ts that no
 *    `exports` entry reaches are removed (pruneDeclarations). tsc rather than a
 *    bundler: the sources already import with `.ts` extensions that `rewriteRelativeImportExtensions`
 *    turns into `.js`, one output file per module keeps every `exports` subpath and the lazy,
 *    feature-by-feature imports intact, and the declarations are tsc's own (no extra dependency).
 * 2. The Lambda bundles (functions/build.ts) into dist/functions/lambda/, where the
 *    constructs find them relative to their own module (infra/cdk/paths.ts).
 *
 *   node infra/build/build-package.ts
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { transform } from 'esbuild';
import { buildFunctions } from '../../functions/build.ts';

const ROOT = join(import.meta.dirname, '../..');

/**
 * Removes the whitespace of every emitted .js file (esbuild's parser-based minifyWhitespace: no
 * renaming, no syntax changes, so names in stack traces stay): about 28% of the JavaScript's bytes,
 * for the core install's 5 MB budget. Lines are cut at {@link LINE_LIMIT} characters: a whole
 * module on one line made Node print all of it (thousands of characters) above an uncaught error
 * thrown from it, e.g. `createValkeyTarget` on an unreachable server in an app's script.
 */
/** The longest line of the published JavaScript (esbuild breaks lines where the syntax allows). */
const LINE_LIMIT = 120;

async function minifyWhitespace(dir: string): Promise<void> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await minifyWhitespace(path);
    else if (entry.name.endsWith('.js')) {
      const { code } = await transform(readFileSync(path, 'utf8'), {
        loader: 'js',
        format: 'esm',
        minifyWhitespace: true,
        lineLimit: LINE_LIMIT,
      });
      writeFileSync(path, code);
    }
  }
}
const DIST = join(ROOT, 'dist');

/**
 * Deletes the declaration files no `exports` entry's types reach (tsc writes one per module: the
 * CLI's, the consumers' and other internals no import of the package can name). Followed: relative
 * `from '…'`, `import('…')` and `/// <reference path>` in each reached .d.ts. Only declarations: the
 * JavaScript keeps every module (the CLI and the lazy imports load them).
 */
function pruneDeclarations(exportsMap: Record<string, unknown>): number {
  const reached = new Set<string>();
  const visit = (file: string) => {
    if (reached.has(file) || !existsSync(file)) return;
    reached.add(file);
    const text = readFileSync(file, 'utf8');
    const specs = [
      ...text.matchAll(/\bfrom\s+['"](\.[^'"]+)['"]/g),
      ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g),
      ...text.matchAll(/\/\/\/\s*<reference\s+path=['"]([^'"]+)['"]/g),
    ].map((m) => m[1]!);
    for (const spec of specs) visit(resolve(dirname(file), `${spec.replace(/\.(js|ts)$/, '')}.d.ts`));
  };
  for (const target of Object.values(exportsMap))
    if (typeof target === 'object' && target !== null && 'types' in target)
      visit(join(ROOT, String((target as { types: string }).types)));
  let removed = 0;
  const sweep = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) sweep(path);
      else if (entry.name.endsWith('.d.ts') && !reached.has(path)) {
        rmSync(path);
        removed++;
      }
    }
  };
  sweep(DIST);
  return removed;
}

rmSync(DIST, { recursive: true, force: true });
const tsc = (...args: string[]) =>
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', ...args],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
// Two passes: the JavaScript without comments (they are ~30% of its bytes and the core install has a
// 5 MB budget; readers of the why-comments have the sources), the declarations with their doc
// comments (editors show them).
tsc('--declaration', 'false', '--removeComments');
tsc('--emitDeclarationOnly');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
};
process.stdout.write(
  `declarations: ${pruneDeclarations(manifest.exports)} not reached from exports removed\n`,
);
await minifyWhitespace(DIST);
chmodSync(join(DIST, 'bin/cdc-cache.js'), 0o755);
const reports = await buildFunctions({ outdir: join(DIST, 'functions') });
let failed = false;
for (const r of reports) {
  process.stdout.write(`bundle ${r.name}: ${r.file} ${(r.bytes / 1024).toFixed(1)} KB\n`);
  for (const p of r.problems) {
    failed = true;
    process.stderr.write(`budget: ${p}\n`);
  }
}
process.exitCode = failed ? 1 : 0;

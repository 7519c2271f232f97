/**
 * Paths the CDK constructs resolve, whatever the working directory (`cdk` runs the app from
 * infra/cdk/, `npm run synth` from the root) and wherever the package is installed: the prebuilt
 * Lambda bundles are found relative to this module — dist/functions/lambda in a checkout
 * (`node functions/build.ts`), and the package's own dist/functions/lambda once installed from the
 * registry (dist/infra/cdk/paths.js → dist/functions, built by `prepack`).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileConfig } from '../../core/rules/compile.ts';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The repository root (in the installed package: its dist/ folder). */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Where the handler bundles are (CDC_CACHE_FUNCTIONS_DIST overrides). */
export const FUNCTIONS_DIST =
  process.env.CDC_CACHE_FUNCTIONS_DIST ??
  (FROM_SOURCE ? join(REPO_ROOT, 'dist/functions') : resolve(import.meta.dirname, '../../functions'));

/** The default synth output directory (gitignored). */
export const CDK_OUT = join(REPO_ROOT, 'infra/cdk.out');

/** The folder of the Lambda bundles under {@link FUNCTIONS_DIST} (functions/build.ts `BUNDLE_DIR`). */
const BUNDLE_DIR = 'lambda';

/**
 * The bundle folder (the Lambda asset: every handler's entry and the chunks they share) with the
 * entry of `handler` (`<handler>.mjs`, Lambda handler `<handler>.handler`) checked to exist (the
 * asset is hashed at synth time).
 */
export function handlerBundleDir(handler: 'dynamodb' | 'kafka', distDir = FUNCTIONS_DIST): string {
  const dir = join(distDir, BUNDLE_DIR);
  const entry = join(dir, `${handler}.mjs`);
  if (!existsSync(entry))
    throw new Error(`${entry} does not exist: run "node functions/build.ts" before synth (or pass "code")`);
  return dir;
}

/**
 * A copy of the prebuilt bundle folder with a JSON rules file embedded in the entry of `handler`
 * (what `node functions/build.ts --config FILE` does, without a build): the rules are validated
 * here, so a mistake fails the synth with the file and the fix. Returns the new bundle folder (a
 * temporary directory; the asset is hashed by content).
 */
export function bundleWithRules(
  handler: 'dynamodb' | 'kafka',
  rulesFile: string,
  distDir = FUNCTIONS_DIST,
): string {
  let rules: unknown;
  try {
    rules = JSON.parse(readFileSync(rulesFile, 'utf8'));
  } catch (cause) {
    throw new Error(`${rulesFile}: cannot read the rules (a JSON file): ${(cause as Error).message}`, {
      cause,
    });
  }
  compileConfig(rules, rulesFile);
  const source = handlerBundleDir(handler, distDir);
  const dir = join(mkdtempSync(join(tmpdir(), 'cdc-cache-bundle-')), BUNDLE_DIR);
  cpSync(source, dir, { recursive: true });
  const entry = join(dir, `${handler}.mjs`);
  // Statements before the entry's (hoisted) imports run before any bundled code reads the config
  // (the handlers read it at their first invocation).
  writeFileSync(
    entry,
    `globalThis.__CDC_CACHE_BUNDLED_CONFIG__ = ${JSON.stringify(rules)};\n${readFileSync(entry, 'utf8')}`,
  );
  return dir;
}

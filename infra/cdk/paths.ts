/**
 * Paths the CDK app resolves against the repository, whatever the working directory (`cdk` runs the
 * app from infra/cdk/, `npm run synth` from the root).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Where `node functions/build.ts` writes the handler bundles (CDC_CACHE_FUNCTIONS_DIST overrides). */
export const FUNCTIONS_DIST = process.env.CDC_CACHE_FUNCTIONS_DIST ?? join(REPO_ROOT, 'dist/functions');

/** The default synth output directory (gitignored). */
export const CDK_OUT = join(REPO_ROOT, 'infra/cdk.out');

/** The bundle folder of one handler, checked to exist (the asset is hashed at synth time). */
export function handlerBundleDir(handler: 'dynamodb' | 'kafka', distDir = FUNCTIONS_DIST): string {
  const dir = join(distDir, handler);
  if (!existsSync(join(dir, 'index.mjs')))
    throw new Error(
      `${join(dir, 'index.mjs')} does not exist: run "node functions/build.ts" before synth (or pass "code")`,
    );
  return dir;
}

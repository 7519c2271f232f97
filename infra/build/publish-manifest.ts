/**
 * The published package.json: the repository's without the `cdc-cache-source` export condition.
 * That condition points at the .ts sources, which are not published; it exists for the checkout's
 * self-imports (tsconfig `customConditions`, vitest `resolve.conditions`, the CLI's resolve hook).
 * A user's bundler or TypeScript config that happened to list it would resolve to a missing file.
 *
 * `npm pack` / `npm publish` run `prepack`, then put the package.json on disk into the tarball (and
 * `npm publish` re-reads it for the registry), then run `postpack`. So:
 *
 *   node infra/build/publish-manifest.ts strip     (prepack: keeps the original in package.json.dev)
 *   node infra/build/publish-manifest.ts restore   (postpack: puts the original back)
 *
 * `strip` first restores a copy left by an interrupted pack, so it never strips twice or loses it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const MANIFEST = join(ROOT, 'package.json');
const BACKUP = join(ROOT, 'package.json.dev');

/** The export condition that only the checkout uses. */
export const SOURCE_CONDITION = 'cdc-cache-source';

/** `exports` without {@link SOURCE_CONDITION} in any entry (other conditions and their order kept). */
export function publishedExports(exports: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(exports).map(([subpath, target]) => [
      subpath,
      typeof target === 'object' && target !== null
        ? Object.fromEntries(Object.entries(target).filter(([condition]) => condition !== SOURCE_CONDITION))
        : target,
    ]),
  );
}

function restore(): void {
  if (existsSync(BACKUP)) renameSync(BACKUP, MANIFEST);
}

function strip(): void {
  restore();
  const text = readFileSync(MANIFEST, 'utf8');
  const manifest = JSON.parse(text) as { exports: Record<string, unknown> };
  writeFileSync(BACKUP, text);
  manifest.exports = publishedExports(manifest.exports);
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
}

if (import.meta.main) {
  const command = process.argv[2];
  if (command === 'strip') strip();
  else if (command === 'restore') restore();
  else {
    process.stderr.write('usage: node infra/build/publish-manifest.ts strip|restore\n');
    process.exitCode = 2;
  }
}

/**
 * Loading a config module where a stranger's project puts it. `npm init` writes `"type": "commonjs"`,
 * so a `cdc-cache.config.ts` written as the README shows (`import { defineConfig } …`, `export
 * default`) failed with Node's "Cannot use import statement outside a module" and a Node warning
 * (under vitest, with advice to "create an issue to the package"); a config under node_modules
 * failed with Node's type-stripping refusal. Both are now one line naming the fix.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../core/errors.ts';
import { loadConfig } from '../../../../core/rules/load.ts';
import { runCli } from '../../../support/cli.ts';

const ESM_CONFIG = `export default { rules: [{ table: 'users', keys: ['user:{id}'] }] };\n`;
const CJS_CONFIG = `module.exports = { rules: [{ table: 'users', keys: ['user:{id}'] }] };\n`;

function project(type: string | undefined, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdc-load-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'app', ...(type ? { type } : {}) }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('loadConfig: module configs in a stranger project', () => {
  it('an ES-module .ts config in a "type": "commonjs" package: one line with both fixes, no import tried', async () => {
    const dir = project('commonjs', { 'cdc-cache.config.ts': ESM_CONFIG });
    const path = join(dir, 'cdc-cache.config.ts');
    const error = await loadConfig(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      `${path}: this config is an ES module (import/export) but ${join(dir, 'package.json')} says "type": "commonjs", so Node would load it as CommonJS: rename it cdc-cache.config.mts, or set "type": "module" in that package.json`,
    );
  });

  it('the same file as .mts, or in a "type": "module" package, loads; a CommonJS .js config still loads', async () => {
    const mts = project('commonjs', { 'cdc-cache.config.mts': ESM_CONFIG });
    expect((await loadConfig(join(mts, 'cdc-cache.config.mts'))).rules).toHaveLength(1);
    const esm = project('module', { 'cdc-cache.config.ts': ESM_CONFIG });
    expect((await loadConfig(join(esm, 'cdc-cache.config.ts'))).rules).toHaveLength(1);
    const cjs = project('commonjs', { 'cdc-cache.config.js': CJS_CONFIG });
    expect((await loadConfig(join(cjs, 'cdc-cache.config.js'))).rules).toHaveLength(1);
  });

  it('a .ts config under node_modules (real Node: vitest would transform it): says to copy it', async () => {
    const dir = project('module', { 'node_modules/pkg/cdc-cache.config.ts': ESM_CONFIG, 'log.jsonl': '' });
    const r = await runCli([
      'replay',
      join(dir, 'log.jsonl'),
      '--config',
      join(dir, 'node_modules/pkg/cdc-cache.config.ts'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /cdc-cache\.config\.ts: cannot load the config module: Node runs no TypeScript under node_modules: copy the file into your project/,
    );
  }, 30_000);
});

/**
 * Loads a configuration file: JSON (`.json`), or a module (`.ts`, `.mts`, `.js`, `.mjs`) whose default
 * export is the config (Node 22.18+ runs TypeScript configs natively; in a `"type": "commonjs"`
 * package an ES-module config must be `.mts`/`.mjs`, said before Node fails on it). Validates it with
 * `compileConfig`; errors name the file and the fix.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.ts';
import { stripBom } from '../json/utf8.ts';
import { type CompiledConfig, compileConfig } from './compile.ts';

/**
 * A `.ts`/`.js` config written as an ES module (`import { defineConfig } …`, `export default`) in a
 * package whose package.json says `"type": "commonjs"` (what `npm init` writes) is loaded by Node
 * as CommonJS and fails with "Cannot use import statement outside a module" and a warning of its
 * own. Refused before the import, with the two fixes.
 */
async function refuseEsmAsCommonJs(path: string, ext: string): Promise<void> {
  if (ext !== '.ts' && ext !== '.js') return;
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`${path}: cannot read the config file: ${(cause as Error).message}`, { cause });
  }
  if (!/^\s*(import\s*[{*\w'"]|export\s)/m.test(source)) return;
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    let manifest: string;
    try {
      manifest = await readFile(join(dir, 'package.json'), 'utf8');
    } catch {
      if (dirname(dir) === dir) return;
      continue;
    }
    let type: unknown;
    try {
      type = (JSON.parse(stripBom(manifest)) as { type?: unknown }).type;
    } catch {
      return; // Node reports a broken package.json itself
    }
    if (type !== 'commonjs') return;
    const mts = `${basename(path, ext)}.m${ext.slice(1)}`;
    throw new ConfigError(
      `${path}: this config is an ES module (import/export) but ${join(dir, 'package.json')} says "type": "commonjs", so Node would load it as CommonJS: rename it ${mts}, or set "type": "module" in that package.json`,
    );
  }
}

/** Reads, validates and compiles the configuration at `path`. */
export async function loadConfig(path: string): Promise<CompiledConfig> {
  const ext = extname(path).toLowerCase();
  let raw: unknown;
  if (ext === '.json') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw new ConfigError(`${path}: cannot read the config file: ${(cause as Error).message}`, { cause });
    }
    try {
      raw = JSON.parse(stripBom(text));
    } catch (cause) {
      throw new ConfigError(`${path}: invalid JSON: ${(cause as Error).message}`, { cause });
    }
  } else if (['.ts', '.mts', '.js', '.mjs'].includes(ext)) {
    await refuseEsmAsCommonJs(path, ext);
    try {
      const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
      raw = mod.default;
    } catch (cause) {
      const code = (cause as { code?: string }).code;
      const fix =
        code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING'
          ? 'Node runs no TypeScript under node_modules: copy the file into your project (e.g. cp node_modules/cdc-cache/examples/cdc-cache.config.ts .), or use the .json config'
          : (cause as Error).message;
      throw new ConfigError(`${path}: cannot load the config module: ${fix}`, { cause });
    }
    if (raw === undefined)
      throw new ConfigError(
        `${path}: the module has no default export: write "export default defineConfig({ rules: [...] })"`,
      );
  } else {
    throw new ConfigError(`${path}: unknown config file type "${ext}": use .json or .ts`);
  }
  return compileConfig(raw, path);
}

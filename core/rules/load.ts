/**
 * Loads a configuration file: JSON (`.json`), or a module (`.ts`, `.mts`, `.js`, `.mjs`) whose default
 * export is the config (Node 22.18+ runs TypeScript configs natively). Validates it with
 * `compileConfig`; errors name the file and the fix.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.ts';
import { stripBom } from '../json/utf8.ts';
import { type CompiledConfig, compileConfig } from './compile.ts';

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
    try {
      const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
      raw = mod.default;
    } catch (cause) {
      throw new ConfigError(`${path}: cannot load the config module: ${(cause as Error).message}`, { cause });
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

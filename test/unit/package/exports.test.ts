/**
 * The package's public surface and its dependencies by feature (package.json, core/optional-dependency.ts):
 * - every `exports` entry gives `types` and `import` in dist/ for a source file the build compiles,
 *   and a `cdc-cache-source` condition (the checkout's self-imports) pointing at that source;
 * - the optional packages are exactly the optional peer dependencies, and the repository installs them;
 * - walking the static imports from each entry reaches only Node built-ins, the runtime dependencies
 *   and the entry's own feature libraries (ENTRY_PEERS): every other library is loaded lazily.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FEATURE_PACKAGES,
  loadOptional,
  MissingDependencyError,
  missingOptionalPackage,
  OPTIONAL_PACKAGES,
  unresolvable,
} from '../../../core/optional-dependency.ts';
import { publishedExports, SOURCE_CONDITION } from '../../../infra/build/publish-manifest.ts';

const ROOT = join(import.meta.dirname, '../../..');
interface Entry {
  'cdc-cache-source': string;
  types: string;
  import: string;
}
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, Entry | string>;
  bin: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const BUILD = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
  include: string[];
  exclude: string[];
};
/** Optional peers an entry may import statically: the feature it is. */
const ENTRY_PEERS: Record<string, string[]> = {
  './cdk': ['aws-cdk-lib', 'constructs'],
  './functions/dynamodb': ['@aws-lambda-powertools/logger'],
  './functions/kafka': ['@aws-lambda-powertools/logger'],
};
const ENTRIES = Object.entries(PKG.exports).filter((e): e is [string, Entry] => typeof e[1] === 'object');

/** The bare specifiers statically imported (not `import type`) from `file` and what it imports. */
function staticImports(file: string, seen = new Set<string>()): Set<string> {
  const bare = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gms)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(path), spec));
      else bare.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(file);
  return bare;
}

describe('package.json exports', () => {
  it('has the public entries', () => {
    expect(Object.keys(PKG.exports)).toEqual(
      expect.arrayContaining([
        '.',
        './client',
        './testing',
        './engine',
        './targets/valkey',
        './cdk',
        './package.json',
      ]),
    );
    expect(PKG.bin['cdc-cache']).toBe('./dist/bin/cdc-cache.js');
    expect(PKG.files).toContain('dist');
    for (const f of PKG.files) expect(f).not.toMatch(/^(test|bench|\.ci)/);
  });

  for (const [name, entry] of ENTRIES) {
    it(`${name}: source exists, is built, types and import point at its output`, () => {
      const source = entry['cdc-cache-source'];
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      const base = source.replace(/^\.\//, '').replace(/\.ts$/, '');
      expect(entry).toEqual({
        'cdc-cache-source': source,
        types: `./dist/${base}.d.ts`,
        import: `./dist/${base}.js`,
      });
      expect(BUILD.include.some((dir) => base.startsWith(`${dir}/`))).toBe(true);
      expect(BUILD.exclude).not.toContain(source.slice(2));
    });

    it(`${name}: statically imports only built-ins and runtime dependencies`, () => {
      const allowed = new Set([
        ...builtinModules.map((m) => `node:${m}`),
        ...Object.keys(PKG.dependencies),
        ...(ENTRY_PEERS[name] ?? []),
      ]);
      const stray = [...staticImports(join(ROOT, entry['cdc-cache-source']))].filter((s) => !allowed.has(s));
      expect(stray).toEqual([]);
    });
  }
});

describe('the published manifest (infra/build/publish-manifest.ts, run by prepack)', () => {
  it('drops the checkout-only source condition from every entry and keeps the rest in order', () => {
    const published = publishedExports(PKG.exports);
    expect(Object.keys(published)).toEqual(Object.keys(PKG.exports));
    for (const [name, entry] of ENTRIES) {
      expect(published[name]).toEqual({ types: entry.types, import: entry.import });
      expect(Object.keys(published[name] as object)).toEqual(['types', 'import']);
    }
    expect(published['./schemas/*']).toBe(PKG.exports['./schemas/*']);
    expect(JSON.stringify(published)).not.toContain(SOURCE_CONDITION);
  });
});

describe('optional dependencies by feature', () => {
  it('are exactly the optional peer dependencies, installed in the repository for its own tests', () => {
    expect(Object.keys(OPTIONAL_PACKAGES).sort()).toEqual(Object.keys(PKG.peerDependencies).sort());
    for (const name of Object.keys(PKG.peerDependencies)) {
      expect(PKG.peerDependenciesMeta[name]?.optional, name).toBe(true);
      // The MSK IAM signer is only loaded against AWS; tests cannot reach MSK.
      if (name !== 'aws-msk-iam-sasl-signer-js') expect(PKG.devDependencies[name], name).toBeDefined();
    }
    // The core's own: the Valkey client and the schema library every config is validated with.
    expect(Object.keys(PKG.dependencies)).toEqual(['iovalkey', 'valibot']);
    for (const name of Object.keys(ENTRY_PEERS).flatMap((e) => ENTRY_PEERS[e]!))
      expect(PKG.peerDependencies[name], name).toBeDefined();
  });

  it('a missing optional package fails in one line naming it and the install command', async () => {
    const name = 'aws-msk-iam-sasl-signer-js';
    const error = await loadOptional('kafka.sasl aws-msk-iam', () => import(name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toBe(
      'kafka.sasl aws-msk-iam needs aws-msk-iam-sasl-signer-js: npm install aws-msk-iam-sasl-signer-js',
    );
    expect(missingOptionalPackage(error)).toBeUndefined();
    expect((error as MissingDependencyError).code).toBe('E_MISSING_DEPENDENCY');
  });

  it('a feature lists every library it still lacks', () => {
    expect(unresolvable(['kafkajs', 'aws-msk-iam-sasl-signer-js'])).toEqual(['aws-msk-iam-sasl-signer-js']);
    for (const names of Object.values(FEATURE_PACKAGES))
      for (const name of names) expect(Object.keys(OPTIONAL_PACKAGES)).toContain(name);
  });

  it('other failures pass through unchanged', async () => {
    const boom = new Error('boom');
    await expect(loadOptional('x', () => Promise.reject(boom))).rejects.toBe(boom);
    const notOptional = await loadOptional('x', () => import('left-pad-not-installed' as string)).catch(
      (e: unknown) => e,
    );
    expect(notOptional).not.toBeInstanceOf(MissingDependencyError);
  });
});

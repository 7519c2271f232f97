/**
 * Every TypeScript sample in README.md type-checks, as a user's file importing the package
 * (`cdc-cache`, `cdc-cache/testing`, …; in the checkout these resolve to the sources). Names a
 * sample leaves to the reader (`db`, `lambdaEvent`, `next`, vitest's `expect`) are declared in a
 * small prelude; nothing else is added to the samples.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
// Inside the repository (gitignored), so the samples' `cdc-cache` imports resolve like a user's.
const DIR = join(ROOT, '.cdc-cache/readme-samples');

const PRELUDE = `interface User { id: number; name: string; email?: string }
declare const db: { users: { find(id: number): Promise<User>; update(user: User): Promise<void> } };
declare const next: User;
declare const lambdaEvent: unknown;
declare const expect: typeof import('vitest').expect;
`;

/** The ```ts blocks of a Markdown file, with the line each starts on. */
function tsSamples(markdown: string): { line: number; code: string }[] {
  const samples: { line: number; code: string }[] = [];
  for (const m of markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm))
    samples.push({ line: markdown.slice(0, m.index).split('\n').length, code: m[1]! });
  return samples;
}

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

it('every ```ts sample in README.md type-checks', async () => {
  const samples = tsSamples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  expect(samples.length).toBeGreaterThanOrEqual(4);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, 'prelude.d.ts'), PRELUDE);
  const files = samples.map((s) => {
    const name = `readme-line-${s.line}.ts`;
    // `export {}` keeps every sample a module (its own scope), as a user's file would be.
    writeFileSync(join(DIR, name), `${s.code}\nexport {};\n`);
    return name;
  });
  writeFileSync(
    join(DIR, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: true, noUnusedLocals: false },
      include: ['prelude.d.ts', ...files],
      exclude: [],
    }),
  );
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const result = await promisify(execFile)(process.execPath, [tsc, '-p', join(DIR, 'tsconfig.json')], {
    cwd: ROOT,
  }).then(
    () => '',
    (e: { stdout?: string }) => e.stdout ?? String(e),
  );
  // "readme-line-307.ts(12,…)": the README line is the file's number plus the line in the sample.
  expect(result).toBe('');
}, 60_000);

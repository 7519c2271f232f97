/**
 * Runs the `cdc-cache` CLI and returns its exit code and output: {@link runCli} as a child process,
 * as users do (stdin, signals, the process's exit code); {@link runCliInProcess} through the same
 * dispatcher (bin/main.ts) inside the test's process. A child costs a Node start, the type
 * stripping and the import of every module the verb loads (0.7–1.3 s of CPU for decode and verify
 * at load 12 on the 2-core machine; 2–3 s of wall time each, more under heavier load, where the
 * 5 s timeout was hit): tests with many cases of argument handling or decoding run in-process.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES } from './fixtures.ts';

/** Repository root. */
export const ROOT = join(FIXTURES, '..', '..');
/** The CLI entry. */
export const CLI = join(ROOT, 'bin', 'cdc-cache.ts');

/** The outcome of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cdc-cache ARGS…` with Node 24, optionally feeding `input` on stdin (extra `env` on top of ours). Never rejects. */
export function runCli(args: string[], input?: string, env?: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { maxBuffer: 64 << 20, ...(env === undefined ? {} : { env: { ...process.env, ...env } }) },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * Runs `cdc-cache ARGS…` in this process (bin/main.ts `runCdcCache`), capturing what it writes to
 * process.stdout and process.stderr. No stdin (use {@link runCli}); the verb's modules stay loaded
 * between calls. Not for verbs that run until a signal.
 */
export async function runCliInProcess(args: string[]): Promise<CliResult> {
  const { runCdcCache } = await import('../../bin/main.ts');
  const out = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      out[stream] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    }) as typeof process.stdout.write;
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  let code: number;
  try {
    code = await runCdcCache(args);
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
  return { code, ...out };
}

/**
 * Loads the dispatcher and `verb`'s modules (its `--help`) for {@link runCliInProcess}: the first
 * import transforms them all (seconds on a loaded machine), so a suite does it once in `beforeAll`
 * with a timeout of its own rather than in whichever test comes first.
 */
export async function preloadCliInProcess(verb: string): Promise<void> {
  const r = await runCliInProcess([verb, '--help']);
  if (r.code !== 0) throw new Error(`cdc-cache ${verb} --help failed: ${r.stderr}`);
}

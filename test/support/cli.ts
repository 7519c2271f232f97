/** Runs the real `cdc-cache` CLI as a child process, as users do, and returns its exit code and output. */
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

/** Shared by the consistency tests: child processes that print `ready`, a seeded PRNG, the results file. */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RESULTS = join(import.meta.dirname, '../../../bench/results/consistency.md');

/** Starts `node FILE` with `env`; resolves once it printed `ready` (60 s at most). */
export async function startChild(file: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => process.stderr.write(`[cdc] ${t}`));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 60 s`)), 60_000);
    child.stdout!.setEncoding('utf8').on('data', (t: string) => {
      if (t.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
  return child;
}

/** Sends `signal` and resolves when the child exited. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** A deterministic PRNG (LCG), so a run's statement mix is reproducible from its seed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

/**
 * Prints a results section; with CDC_CACHE_WRITE_RESULTS=1 also appends it to
 * bench/results/consistency.md (so ordinary and CI runs leave the tree clean).
 */
export function appendResults(text: string): void {
  process.stdout.write(`\n${text}\n`);
  if (process.env.CDC_CACHE_WRITE_RESULTS !== '1') return;
  if (!existsSync(RESULTS))
    writeFileSync(
      RESULTS,
      '# Consistency test results\n\nAppended by the tests in test/e2e/consistency (one section per run of a file).\n',
    );
  appendFileSync(RESULTS, `\n${text}\n`);
}

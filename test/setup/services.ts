/**
 * Vitest global setup of the `integration` and `e2e` projects: brings the real services up through
 * the harness (infra/local/services.sh, idempotent: running services are reused) and hands their
 * addresses to the test workers as the CDC_CACHE_* variables of `services.sh env`.
 *
 * Policy (documented in infra/local/README.md):
 * - `CI=true`: a service that cannot start fails the whole run here, after the harness printed the
 *   tail of its log.
 * - otherwise: a loud banner names each unavailable service and why; the tests that need it fail in
 *   their `beforeAll` with that reason (`requireServices`), so nothing passes by not running.
 * - `CDC_CACHE_SERVICES=valkey,dynamodb` limits which services are started (default: all).
 * - Teardown stops only what this setup started; `CDC_CACHE_KEEP_SERVICES=1` leaves them running so
 *   the next run starts in a second.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_STATUS_ENV, type ServiceStatus } from './require-services.ts';

const HARNESS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../infra/local/services.sh');
/** A cold machine installs packages and resolves jars from Maven Central: allow for it. */
const UP_TIMEOUT_MS = 20 * 60_000;
const NOT_REQUESTED = 'not requested (CDC_CACHE_SERVICES)';

function harness(args: string[], timeoutMs: number): { code: number; stdout: string } {
  // stderr (progress, failing services' logs) goes straight to the terminal.
  const r = spawnSync('bash', [HARNESS, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: timeoutMs,
  });
  if (r.error) throw new Error(`services.sh ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? 1, stdout: r.stdout };
}

function banner(lines: string[]): void {
  const bar = '!'.repeat(78);
  console.error(['', bar, ...lines.map((l) => `!! ${l}`), bar, ''].join('\n'));
}

export async function setup(): Promise<() => Promise<void>> {
  const wanted = (process.env.CDC_CACHE_SERVICES ?? '').split(/[\s,]+/).filter(Boolean);
  const up = harness(['up', ...wanted], UP_TIMEOUT_MS);
  const started: string[] = [];
  for (const line of up.stdout.split('\n')) {
    const [name, outcome] = line.trim().split(/\s+/);
    if (name && outcome === 'started') started.push(name);
  }

  const status: Record<string, ServiceStatus> = {};
  for (const line of harness(['status', '--porcelain'], 60_000).stdout.split('\n')) {
    const m = /^(\S+) (up|down)(?: (.*))?$/.exec(line.trim());
    if (!m?.[1]) continue;
    const requested = wanted.length === 0 || wanted.includes(m[1]);
    status[m[1]] =
      m[2] === 'up'
        ? { up: true }
        : { up: false, reason: requested ? (m[3] ?? 'not running') : NOT_REQUESTED };
  }
  for (const line of harness(['env', '--plain'], 60_000).stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) process.env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  process.env[SERVICE_STATUS_ENV] = JSON.stringify(status);

  const down = Object.entries(status).filter(([, s]) => !s.up && s.reason !== NOT_REQUESTED);
  const skipped = Object.entries(status).filter(([, s]) => !s.up && s.reason === NOT_REQUESTED);
  if (down.length > 0) {
    const lines = down.map(([name, s]) => `${name}: ${s.up ? '' : s.reason}`);
    if (process.env.CI === 'true') {
      if (started.length > 0) harness(['down', ...started], 120_000);
      throw new Error(`real services failed to start under CI:\n  ${lines.join('\n  ')}`);
    }
    banner([
      'These real services are NOT available; the tests that need them will FAIL:',
      ...lines.map((l) => `  ${l}`),
      ...(skipped.length > 0
        ? [`  (not requested via CDC_CACHE_SERVICES: ${skipped.map(([n]) => n).join(', ')})`]
        : []),
      `Logs: ${process.env.CDC_CACHE_SERVICES_LOG_DIR ?? '(unknown)'}  ·  retry: npm run services:up`,
    ]);
  }

  return async () => {
    if (process.env.CDC_CACHE_KEEP_SERVICES === '1' || started.length === 0) return;
    harness(['down', ...started], 120_000);
  };
}

/**
 * A private valkey-server for tests that must disrupt their server (SCRIPT FLUSH, kill, restart),
 * so the shared harness instances are never disturbed. Listens on 127.0.0.1 on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

const VALKEY_SERVER = process.env.CDC_CACHE_VALKEY_SERVER ?? '/usr/bin/valkey-server';

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running private server. */
export interface OwnValkey {
  port: number;
  url: string;
  /** Stops the process (SIGKILL when `crash`). */
  stop(crash?: boolean): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** Starts a private valkey-server (with `extraArgs`, e.g. cluster mode); fails with the reason when it cannot. */
export async function startOwnValkey(extraArgs: (port: number) => string[] = () => []): Promise<OwnValkey> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const p = spawn(
      VALKEY_SERVER,
      ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', ...extraArgs(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    proc = p;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`valkey-server did not start in 10 s: ${log}`)),
        10_000,
      );
      p.on('error', (e) => {
        clearTimeout(timer);
        reject(
          new Error(`cannot run ${VALKEY_SERVER}: ${e.message} (install valkey-server, see infra/local)`),
        );
      });
      p.stdout?.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  await start();
  return {
    port,
    url: `valkey://127.0.0.1:${port}`,
    start,
    async stop(crash = false) {
      const p = proc;
      if (p === undefined || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.on('exit', () => resolve());
        p.kill(crash ? 'SIGKILL' : 'SIGTERM');
      });
    },
  };
}

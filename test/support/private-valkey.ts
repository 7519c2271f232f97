/**
 * A private Valkey for the fault tests (the harness's `valkey-server` binary, a port of its own),
 * so stopping it for an outage does not disturb other tests using the shared instance. AOF (fsync every
 * second; a clean SIGTERM shutdown flushes it) keeps its data across the stop, as a restarted server would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Valkey } from 'iovalkey';
import { waitFor } from './consumers.ts';
import { freePort } from './own-valkey.ts';

/** A Valkey server that can be stopped and started again on the same port with its data. */
export interface PrivateValkey {
  readonly url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts a private Valkey. */
export async function startPrivateValkey(): Promise<PrivateValkey> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-valkey-'));
  const binary = process.env.CDC_CACHE_VALKEY_SERVER ?? 'valkey-server';
  let child: ChildProcess | undefined;
  const url = `valkey://127.0.0.1:${port}`;
  const start = async () => {
    child = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    const probe = new Valkey(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await waitFor(
        `valkey-server on ${port}`,
        async () => {
          try {
            if (probe.status !== 'ready') await probe.connect();
            return (await probe.ping()) === 'PONG';
          } catch {
            probe.disconnect();
            return false;
          }
        },
        20_000,
        100,
      );
    } finally {
      probe.disconnect();
    }
  };
  const stop = async () => {
    const c = child;
    if (c === undefined || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return { url, start, stop };
}

/**
 * `cdc-cache engine` (runEngineCli): serves until stopped, refuses a non-loopback bind without a
 * password, and reports usage errors with exit code 2.
 */
import { Valkey } from 'iovalkey';
import { describe, expect, it } from 'vitest';
import { runEngineCli } from '../../../engine/cli.ts';
import type { EngineServer } from '../../../engine/index.ts';

describe('cdc-cache engine', () => {
  it('serves on the requested port with maxmemory and requirepass, and exits 0 when stopped', async () => {
    const stop = new AbortController();
    let server: EngineServer | undefined;
    const exit = runEngineCli(['--port', '0', '--maxmemory', '10mb', '--requirepass', 'pw'], {
      signal: stop.signal,
      onListening: (s) => {
        server = s;
      },
    });
    while (!server) await new Promise((r) => setTimeout(r, 10));
    const c = new Valkey({ port: server.port, password: 'pw' });
    expect(await c.call('CONFIG', ['GET', 'maxmemory'])).toEqual(['maxmemory', String(10 * 1024 * 1024)]);
    expect(await c.set('k', 'v')).toBe('OK');
    c.disconnect();
    stop.abort();
    expect(await exit).toBe(0);
  });

  it('refuses a non-loopback bind without a password', async () => {
    expect(await runEngineCli(['--bind', '0.0.0.0', '--port', '0'])).toBe(1);
  });

  it('rejects bad options with exit code 2', async () => {
    expect(await runEngineCli(['--maxmemory', 'lots'])).toBe(2);
    expect(await runEngineCli(['--maxmemory-policy', 'lru'])).toBe(2);
    expect(await runEngineCli(['--port', '70000'])).toBe(2);
  });
});

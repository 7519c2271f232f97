/**
 * `cdc-cache engine`: serve the engine over the Valkey protocol until SIGINT/SIGTERM.
 *
 *   cdc-cache engine [--port 6380] [--bind 127.0.0.1] [--maxmemory SIZE] [--maxmemory-policy P]
 *                    [--requirepass PW] [--proto-max-bulk-len SIZE] [--tls-cert FILE --tls-key FILE]
 *
 * Loopback by default; a non-loopback bind without --requirepass is refused. Exit codes: 0 after a
 * clean shutdown, 1 when the server cannot start, 2 for usage errors.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EvictionPolicy, isEvictionPolicy } from './eviction.ts';
import { parseMemorySize } from './memory.ts';
import { type EngineServer, startEngineServer } from './server/server.ts';

const HELP = `Usage: cdc-cache engine [options]

Serve the cdc-cache engine over the Valkey protocol (valkey-cli, valkey-benchmark, iovalkey).

Options:
  --port N                   TCP port (default 6380; 0 = any free port)
  --bind ADDR                address to listen on (default 127.0.0.1)
  --maxmemory SIZE           memory limit, e.g. 100mb, 2gb (default 0 = unlimited)
  --maxmemory-policy P       noeviction | allkeys-lru | volatile-lru | allkeys-lfu | volatile-lfu |
                             allkeys-random | volatile-random | volatile-ttl (default noeviction)
  --requirepass PW           require AUTH; mandatory for a non-loopback --bind
  --proto-max-bulk-len SIZE  longest accepted value (default 512mb)
  --tls-cert FILE --tls-key FILE   serve TLS instead of plain TCP
`;

/** Hooks for tests: a signal that stops the server, and a callback once it listens. */
export interface EngineCliHooks {
  signal?: AbortSignal;
  onListening?: (server: EngineServer) => void;
}

function usage(message: string): number {
  process.stderr.write(`cdc-cache engine: ${message}\nRun "cdc-cache engine --help" for usage.\n`);
  return 2;
}

/** Runs the `engine` verb; resolves with the exit code once the server stops. */
export async function runEngineCli(argv: string[], hooks: EngineCliHooks = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '6380' },
      bind: { type: 'string', default: '127.0.0.1' },
      maxmemory: { type: 'string', default: '0' },
      'maxmemory-policy': { type: 'string', default: EvictionPolicy.NoEviction },
      requirepass: { type: 'string' },
      'proto-max-bulk-len': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return usage(`--port must be 0-65535, got "${values.port}"`);
  const maxmemory = parseMemorySize(values.maxmemory);
  if (maxmemory === null) return usage(`--maxmemory must be a size like 100mb, got "${values.maxmemory}"`);
  const policy = values['maxmemory-policy'];
  if (!isEvictionPolicy(policy)) return usage(`unknown --maxmemory-policy "${policy}"`);
  let protoMaxBulkLen: number | undefined;
  if (values['proto-max-bulk-len'] !== undefined) {
    const n = parseMemorySize(values['proto-max-bulk-len']);
    if (n === null) return usage('--proto-max-bulk-len must be a size like 512mb');
    protoMaxBulkLen = n;
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    return usage('--tls-cert and --tls-key go together');
  }
  let server: EngineServer;
  try {
    server = await startEngineServer({
      port,
      host: values.bind,
      requirepass: values.requirepass ?? null,
      engineOptions: { maxmemory, maxmemoryPolicy: policy },
      ...(protoMaxBulkLen === undefined ? {} : { protoMaxBulkLen }),
      ...(values['tls-cert'] === undefined
        ? {}
        : { tls: { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } }),
    });
  } catch (error) {
    process.stderr.write(`cdc-cache engine: ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`cdc-cache engine: listening on ${server.host}:${server.port}\n`);
  hooks.onListening?.(server);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    hooks.signal?.addEventListener('abort', stop, { once: true });
  });
  await server.close();
  return 0;
}

/**
 * `cdc-cache engine`: serve the engine over the Valkey protocol until SIGINT/SIGTERM.
 *
 *   cdc-cache engine [--port 6380] [--bind 127.0.0.1] [--maxmemory SIZE] [--maxmemory-policy P]
 *                    [--requirepass PW] [--proto-max-bulk-len SIZE] [--tls-cert FILE --tls-key FILE [--tls-port N]]
 *                    [limits: see `cdc-cache engine --help`, generated from engine/cli-options.ts]
 *
 * Loopback by default; a non-loopback bind without --requirepass is refused. maxmemory defaults to
 * half of V8's old-generation limit (printed at start). Exit codes: 0 after a clean shutdown, 1 when the
 * server cannot start, 2 for usage errors.
 */
import { readFileSync } from 'node:fs';
import { HELP, parseEngineArgs } from './cli-options.ts';
import { isEvictionPolicy } from './eviction.ts';
import { formatBytes, oldGenerationLimit, parseMemorySize } from './memory.ts';
import { parseOutputBufferLimits } from './server/client-limits.ts';
import { type EngineServer, startEngineServer } from './server/server.ts';

export { ENGINE_OPTIONS, HELP } from './cli-options.ts';

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
  const values = parseEngineArgs(argv);
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
  let tlsPort: number | undefined;
  if (values['tls-port'] !== undefined) {
    tlsPort = Number(values['tls-port']);
    if (!/^\d+$/.test(values['tls-port']) || tlsPort > 65535)
      return usage(`--tls-port must be 0-65535, got "${values['tls-port']}"`);
    if (values['tls-cert'] === undefined) return usage('--tls-port needs --tls-cert and --tls-key');
  }
  const protectedConfigs = values['enable-protected-configs'].toLowerCase();
  if (protectedConfigs !== 'yes' && protectedConfigs !== 'no')
    return usage(`--enable-protected-configs must be yes or no, got "${protectedConfigs}"`);
  let clientQueryBufferLimit: number | undefined;
  if (values['client-query-buffer-limit'] !== undefined) {
    const n = parseMemorySize(values['client-query-buffer-limit']);
    if (n === null) return usage('--client-query-buffer-limit must be a size like 1gb');
    clientQueryBufferLimit = n;
  }
  let clientOutputBufferLimit: Exclude<ReturnType<typeof parseOutputBufferLimits>, string> | undefined;
  if (values['client-output-buffer-limit'] !== undefined) {
    const parsed = parseOutputBufferLimits(values['client-output-buffer-limit']);
    if (typeof parsed === 'string') return usage(`--client-output-buffer-limit: ${parsed}`);
    clientOutputBufferLimit = parsed;
  }
  const maxmemoryClients = parseMemorySize(values['maxmemory-clients']);
  if (maxmemoryClients === null) return usage('--maxmemory-clients must be a size like 100mb');
  const timeout = Number(values.timeout);
  if (!/^\d+$/.test(values.timeout)) return usage(`--timeout must be whole seconds, got "${values.timeout}"`);
  let server: EngineServer;
  try {
    server = await startEngineServer({
      port,
      host: values.bind,
      requirepass: values.requirepass ?? null,
      enableProtectedConfigs: protectedConfigs === 'yes',
      engineOptions: { maxmemory, maxmemoryPolicy: policy },
      maxmemoryClients,
      timeout,
      ...(values.unixsocket === undefined ? {} : { unixSocket: values.unixsocket }),
      ...(protoMaxBulkLen === undefined ? {} : { protoMaxBulkLen }),
      ...(clientQueryBufferLimit === undefined ? {} : { clientQueryBufferLimit }),
      ...(clientOutputBufferLimit === undefined ? {} : { clientOutputBufferLimit }),
      ...(values['tls-cert'] === undefined
        ? {}
        : { tls: { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } }),
      ...(tlsPort === undefined ? {} : { tlsPort }),
    });
  } catch (error) {
    process.stderr.write(`cdc-cache engine: ${(error as Error).message}\n`);
    return 1;
  }
  const limit = server.engine.core.maxmemory;
  process.stderr.write(
    `cdc-cache engine: maxmemory ${formatBytes(limit)} (${limit} bytes, ${Math.round((limit / oldGenerationLimit()) * 100)}% of the V8 old-generation limit ${formatBytes(oldGenerationLimit())}; node --max-old-space-size sets it), maxmemory-policy ${server.engine.core.policy}\n`,
  );
  const unixNote = values.unixsocket === undefined ? '' : ` and ${values.unixsocket}`;
  const tlsNote = server.tlsPort === 0 ? '' : ` (TLS on ${server.tlsPort})`;
  process.stderr.write(`cdc-cache engine: listening on ${server.host}:${server.port}${tlsNote}${unixNote}\n`);
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

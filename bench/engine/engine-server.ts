/**
 * Benchmark child: serves a fresh engine on `--port` (TLS with `--tls-cert`/`--tls-key`) and answers IPC `{ type: 'memory' }` with heap
 * plus ArrayBuffer bytes measured after a full GC (start with --expose-gc), so the memory benchmark
 * measures what the keyspace really occupies.
 */
import { readFileSync } from 'node:fs';
import { startEngineServer } from '../../engine/index.ts';

const arg = (name: string): string | undefined => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const port = Number(arg('--port') ?? 16391);
const certFile = arg('--tls-cert');
const keyFile = arg('--tls-key');
const server = await startEngineServer({
  port,
  engineOptions: { activeExpire: true },
  ...(certFile && keyFile ? { tls: { cert: readFileSync(certFile), key: readFileSync(keyFile) } } : {}),
});

process.on('message', (msg: { type?: string }) => {
  if (msg?.type !== 'memory') return;
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  process.send?.({ type: 'memory', bytes: m.heapUsed + m.arrayBuffers, used: server.engine.usedMemory });
});
// The benchmark that forked this process is gone (killed): do not outlive it.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
process.send?.({ type: 'ready', port: server.port });

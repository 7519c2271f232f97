/**
 * Benchmark child: serves a fresh engine on `--port` and answers IPC `{ type: 'memory' }` with heap
 * plus ArrayBuffer bytes measured after a full GC (start with --expose-gc), so the memory benchmark
 * measures what the keyspace really occupies.
 */
import { startEngineServer } from '../../engine/index.ts';

const portArg = process.argv.indexOf('--port');
const port = portArg >= 0 ? Number(process.argv[portArg + 1]) : 16391;
const server = await startEngineServer({ port, engineOptions: { activeExpire: true } });

process.on('message', (msg: { type?: string }) => {
  if (msg?.type !== 'memory') return;
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  process.send?.({ type: 'memory', bytes: m.heapUsed + m.arrayBuffers, used: server.engine.usedMemory });
});
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
process.send?.({ type: 'ready', port: server.port });

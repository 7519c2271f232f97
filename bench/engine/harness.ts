/**
 * Benchmark plumbing: start a valkey-server and an engine server (child process with IPC, so its
 * heap can be measured) on spare loopback ports, run valkey-benchmark / valkey-cli against them, and
 * stop everything. Ports are free loopback ports picked at start; fix them with BENCH_VALKEY_PORT /
 * BENCH_ENGINE_PORT.
 */
import { type ChildProcess, execFile, fork, spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTestCert } from '../../test/support/engine-process.ts';

const run = promisify(execFile);

/** A server under benchmark. */
export interface BenchServer {
  name: 'valkey' | 'engine';
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const envPort = (name: string): number | undefined =>
  process.env[name] ? Number(process.env[name]) : undefined;

/** PEM files for a TLS benchmark (see {@link makeBenchCert}). */
export interface BenchTls {
  certFile: string;
  keyFile: string;
}

/** A throwaway self-signed certificate for 127.0.0.1 (openssl; test/support), for the TLS rows. */
export function makeBenchCert(): BenchTls {
  const { certFile, keyFile } = makeTestCert();
  return { certFile, keyFile };
}

/**
 * Starts valkey-server (no persistence, one database); with `tls`, it serves TLS only on `port`.
 * `bin` picks another server binary (e.g. the newest Valkey, see newest-valkey.ts).
 */
export async function startValkeyServer(
  port?: number,
  tls?: BenchTls,
  bin = 'valkey-server',
): Promise<BenchServer> {
  port ??= envPort('BENCH_VALKEY_PORT') ?? (await freePort());
  const listen = tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(port),
        '--tls-cert-file',
        tls.certFile,
        '--tls-key-file',
        tls.keyFile,
      ]
    : ['--port', String(port)];
  const extra = tls ? ['--tls-auth-clients', 'no'] : [];
  const child = spawn(
    bin,
    [...listen, ...extra, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--databases', '1'],
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  return { name: 'valkey', port, child, stop: stopper(child) };
}

/** Starts the engine server in a child Node process with --expose-gc (TLS with `tls`). */
export async function startEngineChild(port?: number, tls?: BenchTls): Promise<BenchServer> {
  port ??= envPort('BENCH_ENGINE_PORT') ?? (await freePort());
  const script = fileURLToPath(new URL('./engine-server.ts', import.meta.url));
  const tlsArgs = tls ? ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile] : [];
  const child = fork(script, ['--port', String(port), ...tlsArgs], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await waitForPort(port);
  return { name: 'engine', port, child, stop: stopper(child) };
}

/** Heap + ArrayBuffer bytes of the engine child after a full GC, and its own estimate. */
export function engineHeap(server: BenchServer): Promise<{ bytes: number; used: number }> {
  return new Promise((resolve) => {
    const onMessage = (msg: { type?: string; bytes?: number; used?: number }): void => {
      if (msg.type !== 'memory') return;
      server.child.off('message', onMessage);
      resolve({ bytes: msg.bytes!, used: msg.used! });
    };
    server.child.on('message', onMessage);
    server.child.send({ type: 'memory' });
  });
}

/** What one valkey-benchmark run exercises (defaults: SET and GET on one fixed key, 3-byte values). */
export interface BenchWorkload {
  /** `-t` tests, e.g. `set,get` (ignored when `command` is given). */
  tests?: string;
  /** `-r`: random keys (and members) drawn from this many. */
  keyspace?: number;
  /** `-d`: value size in bytes. */
  dataSize?: number;
  /** A custom command instead of `-t`, e.g. `ZRANGEBYSCORE myzset __rand_int__ +inf LIMIT 0 10`. */
  command?: string[];
}

/** The valkey-benchmark command line used for a run (`--tls --cacert FILE` with `tls`). */
export function benchmarkArgs(
  port: number,
  requests: number,
  pipeline: number,
  tls?: BenchTls,
  workload: BenchWorkload = {},
): string[] {
  return [
    ...(tls ? ['--tls', '--cacert', tls.certFile] : []),
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-c',
    '50',
    '-n',
    String(requests),
    ...(workload.keyspace ? ['-r', String(workload.keyspace)] : []),
    ...(workload.dataSize ? ['-d', String(workload.dataSize)] : []),
    ...(workload.command ? [] : ['-t', workload.tests ?? 'set,get']),
    '-q',
    '-P',
    String(pipeline),
    ...(workload.command ?? []),
  ];
}

/**
 * Runs valkey-benchmark and returns requests/second per test (a custom command's row is named by
 * its first word, upper-cased).
 */
export async function valkeyBenchmark(
  port: number,
  requests: number,
  pipeline: number,
  tls?: BenchTls,
  workload: BenchWorkload = {},
): Promise<Record<string, number>> {
  const { stdout } = await run('valkey-benchmark', benchmarkArgs(port, requests, pipeline, tls, workload), {
    maxBuffer: 64 * 1024 * 1024,
  });
  const out: Record<string, number> = {};
  for (const m of stdout.matchAll(/(\w+)[^:\n\r]*: ([\d.]+) requests per second/g)) {
    const name = workload.command ? workload.command[0]!.toUpperCase() : m[1]!;
    out[name] = Number(m[2]);
  }
  return out;
}

/** User + system CPU seconds a process has used so far (Linux /proc/PID/stat, 100 ticks/s). */
export function processCpuSeconds(pid: number): number {
  const { user, system } = processCpuSplit(pid);
  return user + system;
}

/** User and system CPU seconds a process has used so far, apart (see {@link processCpuSeconds}). */
export function processCpuSplit(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** `INFO memory` used_memory of a server. */
export async function usedMemory(port: number): Promise<number> {
  const { stdout } = await run('valkey-cli', ['-p', String(port), 'INFO', 'memory']);
  return Number(/used_memory:(\d+)/.exec(stdout)![1]);
}

/** Pipes a RESP file into a server with `valkey-cli --pipe`. */
export function pipeFile(port: number, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('valkey-cli', ['-p', String(port), '--pipe'], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    createReadStream(file).pipe(child.stdin);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`valkey-cli --pipe exited ${code}`)),
    );
  });
}

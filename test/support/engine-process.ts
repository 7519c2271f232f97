/**
 * Test helpers that run `cdc-cache engine` as its own process (as an operator would), so a test can
 * tell "the process died" from "the test failed", read its RSS, and throw inputs at it that could
 * take a process down. Also makes throwaway TLS material with openssl.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './own-valkey.ts';
import { RawClient } from './resp-harness.ts';

const CLI = resolve(import.meta.dirname, '../../bin/cdc-cache.ts');

/** A self-signed certificate for 127.0.0.1 (PEM files in a fresh temp dir). */
export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** Generates a self-signed RSA certificate for 127.0.0.1 with openssl. */
export function makeTestCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'engine-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** A running `cdc-cache engine` child process. */
export interface EngineProcess {
  readonly port: number;
  readonly pid: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** True while the process has not exited. */
  alive(): boolean;
  /** Resident set size in bytes (from /proc). */
  rss(): number;
  /** Sends SIGTERM and waits for exit; returns the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
}

/** Starts `cdc-cache engine --port <free> ...args` (plus `nodeArgs` for node) and waits until it listens. */
export async function spawnEngine(args: string[], nodeArgs: string[] = []): Promise<EngineProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'engine', '--port', String(port), ...args],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const deadline = Date.now() + 20_000;
  while (!err.includes('listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`cdc-cache engine did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    port,
    pid: child.pid!,
    stderr: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    rss: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    },
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode);
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', (code) => {
          clearTimeout(t);
          done(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Connects a raw client, sends PING and returns whether the reply is PONG. */
export async function answersPing(port: number): Promise<boolean> {
  const c = await RawClient.connect(port);
  try {
    return (await c.call('PING')) === '+PONG\r\n';
  } finally {
    c.close();
  }
}

/**
 * Runs valkey-benchmark with `args`; resolves with its output. Rejects on a non-zero exit, and
 * stops it early when `engine` dies (valkey-benchmark would otherwise wait for a reconnect).
 */
export function valkeyBenchmark(
  args: string[],
  engine?: EngineProcess,
  timeoutMs = 120_000,
): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn('valkey-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const watch = setInterval(() => {
      if (engine && !engine.alive()) child.kill('SIGKILL');
    }, 200);
    child.once('exit', (code) => {
      clearTimeout(t);
      clearInterval(watch);
      if (code === 0) done(out);
      else fail(new Error(`valkey-benchmark exited ${code}: ${out.slice(-500)}`));
    });
  });
}

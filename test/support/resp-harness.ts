/**
 * Test helpers for the engine server: a raw RESP socket client (sends bytes, reads exactly one
 * reply's bytes) and a throwaway valkey-server on a free loopback port for side-by-side parity.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './own-valkey.ts';

/** End offset of the complete RESP reply starting at `pos`, or -1 when more bytes are needed. */
export function replyEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return -1;
  const type = String.fromCharCode(buf[pos]!);
  const head = buf.toString('latin1', pos + 1, nl);
  const after = nl + 2;
  switch (type) {
    case '+':
    case '-':
    case ':':
    case '_':
    case ',':
    case '#':
    case '(':
      return after;
    case '$':
    case '=':
    case '!': {
      const n = Number(head);
      if (n < 0) return after;
      return buf.length >= after + n + 2 ? after + n + 2 : -1;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      let n = Number(head);
      if (n < 0) return after;
      if (type === '%' || type === '|') n *= 2;
      let p = after;
      for (let i = 0; i < n; i++) {
        p = replyEnd(buf, p);
        if (p < 0) return -1;
      }
      return p;
    }
    default:
      throw new Error(
        `bad reply type ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('latin1', pos))}`,
      );
  }
}

/** Encodes a command as a RESP multibulk. */
export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** A raw RESP connection. */
export class RawClient {
  #socket: net.Socket;
  #buf = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;
  /**
   * How long `read()` (and so `call()`) waits for a reply by default, ms. A ceiling for tests that
   * load the server on purpose (the soak) to raise: they check that a reply comes, not how fast.
   */
  replyTimeoutMs = 5000;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.#waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(bytes: Buffer | string): void {
    this.#socket.write(bytes);
  }

  /** Reads one complete reply (raw bytes as latin1), or null if the connection closed first. */
  async read(timeoutMs = this.replyTimeoutMs): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = replyEnd(this.#buf, 0);
      if (end >= 0) {
        const out = this.#buf.toString('latin1', 0, end);
        this.#buf = this.#buf.subarray(end);
        return out;
      }
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timeout waiting for a reply; have ${JSON.stringify(this.#buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends one command and reads its reply. */
  async call(...args: (string | Buffer)[]): Promise<string | null> {
    this.write(encodeCommand(args));
    return this.read();
  }

  /** Waits until the server closes the connection. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.closed;
  }

  close(): void {
    this.#socket.destroy();
  }
}

/** A valkey-server child on a free port (no persistence); stop it with `stop()`. */
export async function startValkey(): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  // Its own working directory: a parity step sets `save` points, and the server then writes
  // dump.rdb on shutdown into its working directory (it landed in the repository once).
  const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-valkey-'));
  const child: ChildProcess = spawn(
    'valkey-server',
    [
      '--dir',
      dir,
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--databases',
      '1',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const c = await RawClient.connect(port);
      const pong = await c.call('PING');
      c.close();
      if (pong === '+PONG\r\n') break;
    } catch {
      if (Date.now() > deadline) {
        child.kill();
        throw new Error('valkey-server did not start (is valkey-server from bookworm-backports installed?)');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

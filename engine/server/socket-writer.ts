/**
 * Reply writes straight to the socket's native handle, at most one write in flight.
 *
 * Why native: `socket.write` goes through Node's Writable machinery (buffering, callbacks,
 * async-hook bookkeeping) on every reply; without pipelining that machinery, not the engine, bounds
 * throughput (a bare Node echo server reaches ~75% of Valkey; writing to the handle ~90%). So when
 * the runtime exposes the handle's `writeBuffer`, a `WriteWrap` constructor and the stream state
 * that says whether a write completed synchronously, replies go there directly; otherwise (other
 * runtimes, future Node, `CDC_CACHE_ENGINE_PLAIN_WRITES=1`) we fall back to `socket.write`.
 *
 * Why one write at a time: a TLS handle (TLSWrap) accepts a single outstanding write and aborts the
 * process (`Assertion failed: !current_write_`) on a second; libuv TCP/pipe handles would queue
 * them, but then only the handle knows what is pending. So while a write is in flight, later replies
 * wait here and leave as one coalesced write when it completes. On plain TCP almost every write
 * completes synchronously (the kernel takes it), so the fast path is unchanged.
 *
 * Invariants: bytes leave in the order `write` received them; a buffer stays referenced until the
 * handle took it; {@link SocketWriter.pending} counts every byte not yet handed to the kernel (the
 * connection's backpressure and output-buffer limits read it); after `release()` nothing is held.
 */
import type { Socket } from 'node:net';
import { releaseBuffer } from './release-buffer.ts';

interface WriteReq {
  handle: unknown;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
}

interface NativeHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
}

interface StreamBinding {
  WriteWrap?: new () => WriteReq;
  streamBaseState?: Int32Array;
  kLastWriteWasAsync?: number;
}

function loadBinding(): Required<StreamBinding> | null {
  if (process.env.CDC_CACHE_ENGINE_PLAIN_WRITES === '1') return null;
  try {
    const b = (process as unknown as { binding(name: string): StreamBinding }).binding('stream_wrap');
    if (
      typeof b.WriteWrap !== 'function' ||
      !(b.streamBaseState instanceof Int32Array) ||
      typeof b.kLastWriteWasAsync !== 'number'
    )
      return null;
    return b as Required<StreamBinding>;
  } catch {
    return null;
  }
}

const binding = loadBinding();

/** Above this many pending bytes, {@link SocketWriter.write} reports backpressure. */
export const WRITE_HIGH_WATER_BYTES = 1024 * 1024;

/** Writes reply buffers to one socket. */
export class SocketWriter {
  readonly #socket: Socket;
  readonly #handle: NativeHandle | null;
  readonly #onDrained: () => void;
  readonly #onWritten: ((written: Buffer) => void) | undefined;
  /** Bytes of the write the handle has not completed (0 = none in flight). */
  #inFlight = 0;
  #queue: Buffer[] = [];
  #queued = 0;
  #released = false;
  /** Set by {@link SocketWriter.end} while a write is still in flight. */
  #ending = false;
  /** A write request object no native write holds (see #dispatch). */
  #spare: WriteReq | null = null;
  /**
   * Whether the buffer given to the last {@link SocketWriter.write} is still referenced here or by
   * the socket (queued, or written asynchronously); when false, the caller may reuse its memory.
   */
  retained = false;

  /**
   * `onDrained` runs when pending bytes were flushed after {@link SocketWriter.write} reported
   * backpressure; `onWritten` gets back each buffer an asynchronous native write held, once that
   * write completed successfully (the caller may then reuse its memory).
   */
  constructor(socket: Socket, onDrained: () => void, onWritten?: (written: Buffer) => void) {
    this.#socket = socket;
    this.#onDrained = onDrained;
    this.#onWritten = onWritten;
    const handle = (socket as unknown as { _handle?: Partial<NativeHandle> })._handle;
    this.#handle =
      binding !== null && handle && typeof handle.writeBuffer === 'function'
        ? (handle as NativeHandle)
        : null;
    if (this.#handle === null) socket.on('drain', onDrained);
  }

  /**
   * True when a write now goes straight to the native handle (nothing in flight): then only an
   * asynchronous completion keeps the buffer ({@link SocketWriter.retained}), so a caller may lend
   * its own buffer. Otherwise the buffer would wait in the queue: give a copy.
   */
  get direct(): boolean {
    return this.#handle !== null && this.#inFlight === 0 && !this.#released;
  }

  /** Bytes accepted but not yet taken by the kernel (or by Node's stream buffer on the fallback path). */
  get pending(): number {
    if (this.#handle === null) return this.#socket.writableLength;
    return this.#inFlight + this.#queued;
  }

  /** Writes `data`; returns false when the client is not keeping up (stop reading until drained). */
  write(data: Buffer): boolean {
    if (this.#released) {
      this.retained = false;
      return false;
    }
    if (this.#handle === null) {
      this.retained = true;
      return this.#socket.write(data);
    }
    if (this.#inFlight > 0) {
      this.#queue.push(data);
      this.#queued += data.length;
      this.retained = true;
    } else this.retained = this.#dispatch(data);
    return this.pending < WRITE_HIGH_WATER_BYTES;
  }

  /** Ends the socket once every byte written so far has been handed to it (then destroys it). */
  end(): void {
    if (this.#handle === null || this.#inFlight === 0) this.#socket.destroySoon();
    else this.#ending = true;
  }

  /** Drops every queued buffer (the socket is gone); later writes are ignored. */
  release(): void {
    this.#released = true;
    for (const b of this.#queue) releaseBuffer(b);
    this.#queue = [];
    this.#queued = 0;
  }

  /** Hands `data` to the handle; returns whether the handle still holds it (asynchronous write). */
  #dispatch(data: Buffer): boolean {
    const handle = this.#handle!;
    // A request object the handle completed synchronously was never wrapped by the native side, so
    // it is reused for the next write (one native constructor call fewer per reply); one that went
    // asynchronous belongs to that write until it completes, and the next write takes a new one.
    let req = this.#spare;
    if (req === null) {
      req = new binding!.WriteWrap();
      req.handle = handle;
      const own = req;
      req.oncomplete = (status: number) => this.#completed(own, status);
    }
    req.async = false;
    req.bytes = data.length;
    req.buffer = data;
    const err = handle.writeBuffer(req, data);
    if (err !== 0) {
      this.#spare = null;
      this.release();
      this.#socket.destroy();
      return false;
    }
    if (binding!.streamBaseState[binding!.kLastWriteWasAsync] !== 0) {
      req.async = true;
      this.#inFlight = data.length;
      this.#spare = null;
      return true;
    }
    req.buffer = null;
    this.#spare = req;
    return false;
  }

  #completed(req: WriteReq, status: number): void {
    const written = req.buffer;
    req.buffer = null;
    this.#inFlight = 0;
    if (status < 0 || this.#released) {
      // The handle is done with it (written or cancelled): give a big reply's memory back now.
      if (written !== null) releaseBuffer(written);
      this.release();
      this.#socket.destroy();
      return;
    }
    if (written !== null && this.#onWritten !== undefined) this.#onWritten(written);
    if (this.#queued > 0) {
      const next = this.#queue.length === 1 ? this.#queue[0]! : Buffer.concat(this.#queue, this.#queued);
      this.#queue = [];
      this.#queued = 0;
      this.#dispatch(next);
    }
    if (this.#inFlight !== 0) return;
    if (this.#ending) this.#socket.destroySoon();
    else this.#onDrained();
  }
}

/**
 * Reply writes straight to the socket's native handle.
 *
 * Why: `socket.write` goes through Node's Writable machinery (buffering, callbacks, async-hook
 * bookkeeping) on every reply; without pipelining that machinery, not the engine, bounds
 * throughput (a bare Node echo server reaches ~75% of Valkey; writing to the handle ~90%). So when
 * the runtime exposes the handle's `writeBuffer` and a `WriteWrap` constructor, replies go there
 * directly; otherwise (other runtimes, future Node) we fall back to `socket.write`, same semantics.
 *
 * Invariants: libuv keeps writes on one stream in order, so mixing is safe; a reply buffer stays
 * referenced by its request until the kernel took it; `pending()` reports bytes libuv still queues,
 * which the connection uses for backpressure (stop reading a client that does not read replies).
 */
import type { Socket } from 'node:net';

interface WriteReq {
  handle: unknown;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | null;
}

interface NativeHandle {
  writeBuffer(req: WriteReq, data: Buffer): number;
  readonly writeQueueSize: number;
}

type WriteWrapCtor = new () => WriteReq;

function loadWriteWrap(): WriteWrapCtor | null {
  try {
    const binding = (process as unknown as { binding(name: string): { WriteWrap?: WriteWrapCtor } }).binding(
      'stream_wrap',
    );
    return typeof binding.WriteWrap === 'function' ? binding.WriteWrap : null;
  } catch {
    return null;
  }
}

const WriteWrap = process.env.CDC_CACHE_ENGINE_PLAIN_WRITES === '1' ? null : loadWriteWrap();

/** Writes reply buffers to one socket. */
export class SocketWriter {
  readonly #socket: Socket;
  readonly #handle: NativeHandle | null;
  readonly #onDrained: () => void;

  /** `onDrained` runs when queued bytes were flushed after {@link SocketWriter.write} reported backpressure. */
  constructor(socket: Socket, onDrained: () => void) {
    this.#socket = socket;
    this.#onDrained = onDrained;
    const handle = (socket as unknown as { _handle?: Partial<NativeHandle> })._handle;
    this.#handle =
      WriteWrap !== null && handle && typeof handle.writeBuffer === 'function'
        ? (handle as NativeHandle)
        : null;
    if (this.#handle === null) socket.on('drain', onDrained);
  }

  /** Writes `data`; returns false when the client is not keeping up (stop reading until drained). */
  write(data: Buffer): boolean {
    const handle = this.#handle;
    if (handle === null) return this.#socket.write(data);
    const req = new WriteWrap!();
    req.handle = handle;
    req.async = false;
    req.bytes = 0;
    req.buffer = data;
    req.oncomplete = (status: number) => {
      req.buffer = null;
      if (status < 0) this.#socket.destroy();
      else if (handle.writeQueueSize === 0) this.#onDrained();
    };
    const err = handle.writeBuffer(req, data);
    if (err !== 0) {
      this.#socket.destroy();
      return false;
    }
    return handle.writeQueueSize < 1024 * 1024;
  }
}

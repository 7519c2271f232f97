/**
 * The fast read path: re-wraps an accepted TCP socket's native handle in a `net.Socket` created
 * with the `onread` option, so every read lands in one reused per-connection buffer and calls the
 * connection directly, instead of allocating a 64 KiB buffer and emitting a `'data'` event per read;
 * the rest of a big bulk (32 KB and more) is read straight into its own buffer instead (one copy
 * fewer for most of a big value).
 *
 * Node offers `onread` only at socket construction, and the server constructs accepted sockets
 * itself, so this moves the handle (accepted paused, `pauseOnConnect`) to a new Socket. It relies
 * on `_handle` and the `handle` constructor option, which Node has kept stable for years; if either
 * is missing the original socket is used unchanged (plain `'data'` events, same behaviour).
 */
import net from 'node:net';

const READ_BUFFER_BYTES = 64 * 1024;

/** Where a re-wrapped socket's reads go (see {@link rewrapWithOnread}). */
export interface ReadSink {
  /** `n` bytes were read into `buffer` (the connection's reused read buffer). */
  onRead(buffer: Buffer, n: number): void;
  /**
   * A view to read the next bytes straight into (the rest of a big bulk: see
   * RespParser.directTarget), or null for the reused read buffer.
   */
  directTarget(): Buffer | null;
  /** `n` bytes were read into `view`, the last view {@link ReadSink.directTarget} gave. */
  onDirectRead(view: Buffer, n: number): void;
}

/**
 * Returns a new socket over `accepted`'s handle whose reads go to `sink`: into one reused buffer
 * (no view is allocated per read), or, while a big bulk is being received, straight into that
 * bulk's buffer (Node asks `onread.buffer` for the next read's buffer after every read). Returns
 * null when re-wrapping is not possible (the caller keeps `accepted`).
 */
export function rewrapWithOnread(accepted: net.Socket, sink: ReadSink): net.Socket | null {
  if (process.env.CDC_CACHE_ENGINE_PLAIN_READS === '1') return null;
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  if (handle === null || handle === undefined) return null;
  try {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    // The buffer the handle reads into now; a new one is returned only when it changes (Node keeps
    // the previous one when the function returns undefined).
    let current: Buffer | null = null;
    const nextBuffer = (): Buffer | undefined => {
      const want = sink.directTarget() ?? buffer;
      if (want === current) return undefined;
      current = want;
      return want;
    };
    const options = {
      handle,
      readable: true,
      writable: true,
      onread: {
        buffer: nextBuffer,
        callback: (n: number, buf: Buffer) => {
          if (buf === buffer) sink.onRead(buf, n);
          else sink.onDirectRead(buf, n);
        },
      },
    } as unknown as net.SocketConstructorOpts;
    const socket = new net.Socket(options);
    holder._handle = null;
    accepted.destroy();
    return socket;
  } catch {
    return null;
  }
}

/**
 * The fast read path: re-wraps an accepted TCP socket's native handle in a `net.Socket` created
 * with the `onread` option, so every read lands in one reused per-connection buffer and calls the
 * connection directly, instead of allocating a 64 KiB buffer and emitting a `'data'` event per read.
 *
 * Node offers `onread` only at socket construction, and the server constructs accepted sockets
 * itself, so this moves the handle (accepted paused, `pauseOnConnect`) to a new Socket. It relies
 * on `_handle` and the `handle` constructor option, which Node has kept stable for years; if either
 * is missing the original socket is used unchanged (plain `'data'` events, same behaviour).
 */
import net from 'node:net';

const READ_BUFFER_BYTES = 64 * 1024;

/**
 * Returns a new socket over `accepted`'s handle whose reads call `onRead(buffer, n)` with the reused
 * buffer and the number of bytes read into it (no view is allocated per read), or null when
 * re-wrapping is not possible (the caller keeps `accepted`).
 */
export function rewrapWithOnread(
  accepted: net.Socket,
  onRead: (buffer: Buffer, n: number) => void,
): net.Socket | null {
  if (process.env.CDC_CACHE_ENGINE_PLAIN_READS === '1') return null;
  const holder = accepted as unknown as { _handle: unknown };
  const handle = holder._handle;
  if (handle === null || handle === undefined) return null;
  try {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const options = {
      handle,
      readable: true,
      writable: true,
      onread: {
        buffer,
        callback: (n: number, buf: Buffer) => {
          onRead(buf, n);
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

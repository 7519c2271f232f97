/**
 * Value codecs of the cache client. The default keeps values plain (JSON text), so any reader doing
 * `GET` sees what the CDC pipeline writes. Compression is opt-in for large JSON blobs and
 * self-describing: gzip and zstd frames start with magic bytes JSON text can never start with, so a
 * compressed codec still reads plain JSON written by the pipeline or by older clients.
 */
import * as zlib from 'node:zlib';

/** Turns values into stored bytes and back. */
export interface Codec<T> {
  /** Name, for events and errors. */
  readonly name: string;
  encode(value: T): string | Buffer;
  decode(bytes: Buffer): T;
}

/** JSON text, UTF-8 (the default). */
export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode: (value) => JSON.stringify(value),
  decode: (bytes) => JSON.parse(bytes.toString('utf8')),
};

/** Strings as UTF-8, unchanged. */
export const textCodec: Codec<string> = {
  name: 'text',
  encode: (value) => value,
  decode: (bytes) => bytes.toString('utf8'),
};

/** Compression algorithms from `node:zlib`. */
export type CompressionAlgorithm = 'gzip' | 'zstd';

/** Options of {@link compressedJsonCodec}. */
export interface CompressedJsonCodecOptions {
  /** @default 'gzip' ('zstd' needs a runtime whose node:zlib has it, Node ≥ 22.15) */
  algorithm?: CompressionAlgorithm;
  /** JSON shorter than this many bytes is stored plain. @default 1024 */
  minBytes?: number;
}

/** True when this runtime's `node:zlib` has zstd. */
export const zstdAvailable: boolean = typeof zlib.zstdCompressSync === 'function';

function isGzip(b: Buffer): boolean {
  return b.length > 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function isZstd(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
}

/** JSON, compressed when large; decodes plain JSON, gzip and zstd alike. */
export function compressedJsonCodec(options: CompressedJsonCodecOptions = {}): Codec<unknown> {
  const algorithm = options.algorithm ?? 'gzip';
  const minBytes = options.minBytes ?? 1024;
  if (algorithm !== 'gzip' && algorithm !== 'zstd') {
    throw new TypeError(
      `compressedJsonCodec: algorithm must be 'gzip' or 'zstd', not ${JSON.stringify(algorithm)}`,
    );
  }
  if (algorithm === 'zstd' && !zstdAvailable) {
    throw new TypeError("compressedJsonCodec: this Node.js has no zstd in node:zlib; use algorithm 'gzip'");
  }
  const compress =
    algorithm === 'gzip' ? (b: Buffer) => zlib.gzipSync(b) : (b: Buffer) => zlib.zstdCompressSync(b);
  return {
    name: `json+${algorithm}`,
    encode(value) {
      const text = JSON.stringify(value);
      if (text.length < minBytes) return text;
      const bytes = Buffer.from(text, 'utf8');
      return bytes.length < minBytes ? text : compress(bytes);
    },
    decode(bytes) {
      if (isGzip(bytes)) return JSON.parse(zlib.gunzipSync(bytes).toString('utf8'));
      if (isZstd(bytes)) return JSON.parse(zlib.zstdDecompressSync(bytes).toString('utf8'));
      return JSON.parse(bytes.toString('utf8'));
    },
  };
}

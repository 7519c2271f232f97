/**
 * FUNCTION DUMP/RESTORE payloads in Valkey 8's format: each library as RDB_OPCODE_FUNCTION2 (245)
 * and its code as an RDB string, then the RDB version and CRC-64 as in a key's DUMP payload. The
 * engine writes the code uncompressed; it reads Valkey's LZF-compressed strings too.
 */
import { ReplyError } from '../command-context.ts';
import { DumpFormatError, lenBytes, Reader, sealPayload, verifyPayload } from '../dump/dump-payload.ts';

/** Valkey's RDB_OPCODE_FUNCTION2. */
const RDB_OPCODE_FUNCTION2 = 245;
/** Valkey's RDB_OPCODE_FUNCTION_PRE_GA (7.0 release candidates). */
const RDB_OPCODE_FUNCTION_PRE_GA = 246;

/** The FUNCTION DUMP payload of libraries' `codes`, in load order. */
export function encodeFunctionPayload(codes: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const code of codes) {
    const bytes = Buffer.from(code, 'latin1');
    parts.push(Buffer.from([RDB_OPCODE_FUNCTION2]), lenBytes(bytes.length), bytes);
  }
  return sealPayload(parts);
}

/** The library codes of a FUNCTION RESTORE payload; throws Valkey's error replies. */
export function decodeFunctionPayload(payload: Buffer): string[] {
  if (!verifyPayload(payload)) throw new ReplyError('ERR DUMP payload version or checksum are wrong');
  const r = new Reader(payload.subarray(0, payload.length - 10));
  const codes: string[] = [];
  try {
    while (r.pos < r.buf.length) {
      const type = r.byte();
      if (type === RDB_OPCODE_FUNCTION_PRE_GA)
        throw new ReplyError('ERR Pre-GA function format not supported');
      if (type !== RDB_OPCODE_FUNCTION2) throw new ReplyError('ERR given type is not a function');
      codes.push(r.string());
    }
  } catch (e) {
    if (e instanceof DumpFormatError) throw new ReplyError('ERR Failed loading library payload');
    throw e;
  }
  return codes;
}

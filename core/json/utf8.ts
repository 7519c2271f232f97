/**
 * Text from bytes, strictly. The rule (README, "Limits"): bytes that are not valid UTF-8 — a
 * change-log line, a Kafka key or value, a Lambda Kafka or Kinesis payload — make the record a dead
 * letter (`E_BAD_UTF8`). Nothing is ever stored with U+FFFD replacement characters, which would put
 * a value (or key) in the cache that the database never held. Binary column values are not text:
 * Debezium and DynamoDB carry them as base64, kept exactly.
 *
 * A UTF-8 byte-order mark at the start is dropped (what .NET and some Windows tools write).
 */
import { DecodeError, ErrorCode } from '../errors.ts';

const strict = new TextDecoder('utf-8', { fatal: true }); // ignoreBOM false: a leading BOM is dropped

/** Decodes `bytes` as UTF-8; throws a DecodeError (`E_BAD_UTF8`) naming `what` when they are not. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return strict.decode(bytes);
  } catch (cause) {
    throw new DecodeError(
      ErrorCode.BadUtf8,
      `${what} is not valid UTF-8 (at byte ${firstInvalid(bytes)}); cdc-cache never stores replacement characters: fix the producer's encoding (or re-encode the file, e.g. iconv -t UTF-8)`,
      { cause },
    );
  }
}

/** The UTF-8 byte-order mark as a character. */
export const BOM = '\uFEFF';

/** `text` without a leading byte-order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Offset of the first byte that starts an invalid sequence (for the message). */
function firstInvalid(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 1 : b >> 5 === 6 ? 2 : b >> 4 === 14 ? 3 : b >> 3 === 30 ? 4 : 0;
    if (n === 0 || i + n > bytes.length) return i;
    for (let k = 1; k < n; k++) if (bytes[i + k]! >> 6 !== 2) return i;
    i += n;
  }
  return bytes.length;
}

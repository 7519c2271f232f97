/**
 * Key identity between the in-process API and the protocol. The keyspace holds a key as a latin1
 * string of its bytes (one char per byte), which is what the protocol reads off the wire. The
 * in-process API takes a key as text: {@link keyBytes} turns it into its UTF-8 bytes held as latin1,
 * so `engine.set('café', …)` is the key a protocol client (UTF-8) names `café`. {@link keyText} is
 * the way back for every key the API hands out (keys(), dump(), events, tag pages, hook changes).
 * ASCII keys (the common case) are the same string both ways and cost one charCodeAt scan.
 */

/** The keyspace form (UTF-8 bytes as latin1) of the text key `key`; `key` itself when ASCII. */
export function keyBytes(key: string): string {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0x7f) return Buffer.from(key, 'utf8').toString('latin1');
  }
  return key;
}

/**
 * The text (UTF-8 decoded) of the keyspace key `bytes`; `bytes` itself when ASCII. Bytes that are
 * not valid UTF-8 decode to U+FFFD, so such a key (set over the protocol) reads back lossily here.
 */
export function keyText(bytes: string): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes.charCodeAt(i) > 0x7f) return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return bytes;
}

/** {@link keyBytes} over a list; the same array when every entry is ASCII. */
export function keysBytes(keys: readonly string[]): readonly string[] {
  let out: string[] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const b = keyBytes(keys[i]!);
    if (b !== keys[i] && out === undefined) out = keys.slice(0, i);
    if (out !== undefined) out.push(b);
  }
  return out ?? keys;
}

/** {@link keyText} over a list, in place. */
export function keysText(keys: string[]): string[] {
  for (let i = 0; i < keys.length; i++) keys[i] = keyText(keys[i]!);
  return keys;
}

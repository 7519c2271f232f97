/**
 * Key identity helpers (engine/key-text.ts) and the index's one-pass ASCII lookup
 * (KeyIndex.getAscii): text ↔ UTF-8 bytes held as latin1, ASCII keys untouched.
 */
import { describe, expect, it } from 'vitest';
import { KeyIndex, NOT_ASCII } from '../../../engine/key-index.ts';
import { keyBytes, keysBytes, keysText, keyText } from '../../../engine/key-text.ts';

describe('key text', () => {
  it('maps text to its UTF-8 bytes as latin1 and back; ASCII is the same string', () => {
    for (const text of ['user:jos\u00e9', '\u65e5\u672c', 'e:\u{1f600}', '\u0080', '\u00ff']) {
      const bytes = keyBytes(text);
      expect(Buffer.from(bytes, 'latin1')).toEqual(Buffer.from(text, 'utf8'));
      expect(keyText(bytes)).toBe(text);
    }
    expect(keyBytes('user:1\u007f')).toBe('user:1\u007f');
    expect(keyText('user:1')).toBe('user:1');
    expect(keyBytes('caf\u00e9')).toBe('caf\u00c3\u00a9');
    // Bytes that are not UTF-8 read back lossily.
    expect(keyText('\u00c3(')).toBe('\ufffd(');
  });

  it('list forms keep an all-ASCII list as is and convert the rest', () => {
    const ascii = ['a', 'b'];
    expect(keysBytes(ascii)).toBe(ascii);
    expect(keysBytes(['a', '\u00e9', 'b'])).toEqual(['a', '\u00c3\u00a9', 'b']);
    expect(keysText(['a', '\u00c3\u00a9'])).toEqual(['a', '\u00e9']);
  });

  it('KeyIndex.getAscii answers get() for ASCII keys and NOT_ASCII otherwise', () => {
    const keys = ['', 'user:1', 'caf\u00c3\u00a9', 'x'];
    const kv = keys.flatMap((k) => [k, undefined]);
    const index = new KeyIndex(() => kv);
    for (let slot = 1; slot < keys.length; slot++) index.set(keys[slot]!, (slot << 4) | 1);
    expect(index.getAscii('user:1')).toBe(index.get('user:1'));
    expect(index.getAscii('user:1')).toBe((1 << 4) | 1);
    expect(index.getAscii('x')).toBe((3 << 4) | 1);
    expect(index.getAscii('absent')).toBeUndefined();
    expect(index.getAscii('caf\u00c3\u00a9')).toBe(NOT_ASCII);
    expect(index.getAscii('caf\u00e9')).toBe(NOT_ASCII);
  });
});

/**
 * Slots, sibling names and URLs of the Valkey adapter (no server needed; the integration suite
 * checks the same slots against `CLUSTER KEYSLOT`).
 */
import { describe, expect, it } from 'vitest';
import { hashTag, keySlot, SLOT_COUNT, slotTag } from '../../../../../core/targets/valkey/slots.ts';
import { parseValkeyUrl, resolveConnection } from '../../../../../core/targets/valkey/valkey-connection.ts';
import {
  globEscape,
  leaseKey,
  parseSibling,
  versionKey,
} from '../../../../../core/targets/valkey/valkey-keys.ts';

describe('hash slots', () => {
  it('match Valkey (CRC16-XMODEM mod 16384, hash tags)', () => {
    expect(keySlot('123456789')).toBe(0x31c3 % SLOT_COUNT);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(hashTag('foo{}{bar}')).toBeNull();
    expect(hashTag('foo{{bar}}zap')).toBe('{bar');
    expect(hashTag('foo{bar}{zap}')).toBe('bar');
  });

  it('has a tag for every slot', () => {
    for (const s of [0, 1, 8191, 16383]) expect(keySlot(`{${slotTag(s)}}`)).toBe(s);
  });
});

describe('sibling names', () => {
  const keys = ['user:1', 'a{b}c', '{b}', 'x}y', '{}z', 'ключ', '', 'customer:email:a@b.io'];

  it('share their key slot and parse back to their key', () => {
    for (const key of keys) {
      for (const name of [versionKey(key), leaseKey(key)]) {
        expect(keySlot(name), name).toBe(keySlot(key));
        expect(parseSibling(name)?.key).toBe(key);
      }
    }
    expect(versionKey('user:1')).toBe('__cdc:v:{user:1}');
    expect(leaseKey('user:1')).toBe('__cdc:l:{user:1}');
  });

  it('never collide between different keys', () => {
    const names = new Set(keys.flatMap((k) => [versionKey(k), leaseKey(k)]));
    expect(names.size).toBe(keys.length * 2);
    expect(versionKey('{abc}')).not.toBe(versionKey('abc'));
  });

  it('escapes glob characters in prefixes', () => {
    expect(globEscape('a*b?[c]\\')).toBe('a\\*b\\?\\[c\\]\\\\');
  });
});

describe('valkey URLs', () => {
  it('reads hosts, credentials, TLS and mode', () => {
    expect(parseValkeyUrl('valkey://127.0.0.1:16379')).toEqual({
      nodes: [{ host: '127.0.0.1', port: 16379 }],
    });
    expect(parseValkeyUrl('valkeys://cdc:p%40ss@h:1?cluster=true')).toEqual({
      nodes: [{ host: 'h', port: 1 }],
      username: 'cdc',
      password: 'p@ss',
      tls: {},
      mode: 'cluster',
    });
    expect(parseValkeyUrl('valkey://:secret@h').password).toBe('secret');
    expect(parseValkeyUrl('valkey://h:1?legacyLeases=true').legacyLeases).toBe(true);
    expect(parseValkeyUrl('valkey://h:1').legacyLeases).toBeUndefined();
    expect(resolveConnection({ url: 'valkey://a:1,b:2' }).mode).toBe('cluster');
  });

  it('rejects what it cannot use, naming the fix', () => {
    expect(() => parseValkeyUrl('http://x')).toThrow('write valkey://');
    expect(() => parseValkeyUrl('valkey://h:1?tls=1')).toThrow('unknown URL parameter "tls"');
    expect(() => parseValkeyUrl('valkey://h:1/3')).toThrow('database 3 is not supported');
    expect(() => parseValkeyUrl('valkey://h:99999')).toThrow('port out of range');
    expect(() => parseValkeyUrl('valkey://h:1?legacyLeases=yes')).toThrow('use legacyLeases=true');
  });

  it('never quotes the password of a URL it rejects, and splits user info at the last "@"', () => {
    for (const url of [
      'valkey://app:s3cretPW@h:99999',
      'valkey://app:s3cretPW@h:x',
      'valkey://app:s3cretPW@h/3',
    ]) {
      const error = (() => {
        try {
          parseValkeyUrl(url);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error?.message).toMatch(/valkey target/);
      expect(error?.message).not.toContain('s3cretPW');
    }
    // An unescaped "@" in a password: the host follows the last "@" (as WHATWG URL and ioredis read it).
    expect(parseValkeyUrl('valkey://app:s3cret@PW@h:1')).toEqual({
      nodes: [{ host: 'h', port: 1 }],
      username: 'app',
      password: 's3cret@PW',
    });
  });
});
